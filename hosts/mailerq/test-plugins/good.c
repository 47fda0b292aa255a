/* A well-behaved plugin: implements most callbacks, checks what the host hands
 * it, declines every step except RCPT TO, where it takes control and hands it
 * back before returning. Built twice (10-a.so, 20-b.so) to check call order
 * and per-plugin data. */
#include "mailerq.h"
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int calls; /* one per loaded copy, so its address tells the copies apart */

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT void mq_initialize(void)
{
    MQ_log(MQ_INFO, "initialize");
    puts("good.c wrote this to stdout"); /* must not end up among the host's JSON steps */
}

MQ_EXPORT void mq_cleanup(void)
{
    MQ_log(MQ_INFO, "cleanup");
}

MQ_EXPORT void mq_context_initialize(MQ_Context *context)
{
    CHECK(MQ_contextData(context) == NULL);
    MQ_setContextData(context, &calls);
}

MQ_EXPORT void mq_context_cleanup(MQ_Context *context)
{
    CHECK(MQ_contextData(context) == &calls);
    MQ_setContextData(context, NULL);
}

MQ_EXPORT bool mq_smtp_in_connect(MQ_Context *context, MQ_Connection *connection)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    CHECK(MQ_contextData(context) == &calls);
    CHECK(getpeername(MQ_fileDescriptor(connection), (struct sockaddr *)&peer, &len) == 0);
    CHECK(!MQ_secure(connection) && !MQ_authenticated(connection));
    MQ_setConnectionData(connection, &calls);
    calls++;
    return false;
}

MQ_EXPORT bool mq_smtp_in_secure(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    CHECK(MQ_secure(connection));
    return false;
}

MQ_EXPORT bool mq_smtp_in_authenticate(MQ_Context *context, MQ_Connection *connection,
                                       const char *login, size_t loginsize,
                                       const char *password, size_t passwordsize)
{
    (void)context;
    CHECK(loginsize == 4 && memcmp(login, "user", 4) == 0);
    CHECK(passwordsize == 6 && memcmp(password, "secret", 6) == 0);
    CHECK(!MQ_authenticated(connection));
    return false;
}

MQ_EXPORT bool mq_smtp_in_mailfrom(MQ_Context *context, MQ_Connection *connection,
                                   MQ_Address *address)
{
    (void)context;
    CHECK(strcmp(MQ_email(address), "sender@example.com") == 0);
    CHECK(MQ_connectionData(connection) == &calls && MQ_authenticated(connection));
    MQ_log(MQ_INFO, MQ_email(address));
    return false;
}

MQ_EXPORT bool mq_smtp_in_rcptto(MQ_Context *context, MQ_Connection *connection,
                                 MQ_Address *address)
{
    (void)context;
    CHECK(strncmp(MQ_email(address), "rcpt", 4) == 0);
    MQ_continue(connection); /* taking control and handing it straight back is allowed */
    return true;
}

MQ_EXPORT bool mq_smtp_in_data(MQ_Context *context, MQ_Connection *connection,
                               const char *mime, size_t size)
{
    (void)context;
    (void)connection;
    CHECK(size == strlen(mime) && strstr(mime, "\r\n\r\n") != NULL);
    return false;
}

MQ_EXPORT bool mq_smtp_in_message(MQ_Context *context, MQ_Connection *connection,
                                  MQ_Message *message)
{
    (void)context;
    (void)connection;
    CHECK(MQ_mime(message) != NULL);
    return false;
}

MQ_EXPORT bool mq_smtp_in_close(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    CHECK(MQ_connectionData(connection) == &calls);
    return false;
}

MQ_EXPORT bool mq_smtp_out_data(MQ_Context *context, MQ_Connection *connection,
                                MQ_Message *message)
{
    (void)context;
    CHECK(MQ_connectionData(connection) == NULL && MQ_mime(message) != NULL);
    return false;
}

MQ_EXPORT bool mq_smtp_out_sent(MQ_Context *context, MQ_Connection *connection,
                                MQ_Message *message)
{
    (void)context;
    (void)connection;
    (void)message;
    return false;
}
