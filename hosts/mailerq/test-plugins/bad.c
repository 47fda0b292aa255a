/* Breaks one rule of the control protocol, chosen by the MQ_BAD environment
 * variable, so selftest.sh can check that the host reports each one. */
#include "mailerq.h"

#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool mode(const char *name)
{
    const char *m = getenv("MQ_BAD");
    return m && strcmp(m, name) == 0;
}

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

static void touch_connection(void *connection)
{
    MQ_connectionData(connection);
}

MQ_EXPORT bool mq_smtp_in_mailfrom(MQ_Context *context, MQ_Connection *connection,
                                   MQ_Address *address)
{
    if (mode("garbage"))
        MQ_continue((MQ_Connection *)0x1234);
    if (mode("wrong-kind"))
        MQ_email((MQ_Address *)(void *)connection);
    if (mode("twice") || mode("false-continue"))
        MQ_continue(connection);
    if (mode("twice"))
        MQ_continue(connection);
    if (mode("complete-then-continue")) {
        MQ_complete(connection);
        MQ_continue(connection);
    }
    (void)context;
    (void)address;
    return mode("twice") || mode("complete-then-continue");
}

MQ_EXPORT bool mq_smtp_in_data(MQ_Context *context, MQ_Connection *connection,
                               const char *mime, size_t size)
{
    (void)context;
    (void)connection;
    (void)mime;
    (void)size;
    if (mode("block"))
        usleep(300 * 1000);
    if (mode("nap"))  /* short, yet still blocking the event loop */
        usleep(30 * 1000);
    if (mode("file")) {
        FILE *file = fopen("/dev/null", "r");
        if (file)
            fclose(file);
    }
    if (mode("system"))
        (void)system("true");
    if (mode("poll"))
        poll(NULL, 0, 5);
    if (mode("dns"))
        gethostbyname("localhost");
    return false;
}

MQ_EXPORT bool mq_smtp_in_close(MQ_Context *context, MQ_Connection *connection)
{
    if (mode("stale"))
        MQ_startTimer(context, 0.01f, touch_connection, connection);
    return false;
}

MQ_EXPORT bool mq_smtp_out_data(MQ_Context *context, MQ_Connection *connection,
                                MQ_Message *message)
{
    (void)context;
    (void)message;
    if (!mode("retry-loop"))
        return false;
    MQ_retry(connection);
    return true;
}
