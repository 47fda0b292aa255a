/* Makes one memory mistake, chosen by the MQ_MEM environment variable, so that
 * selftest.sh can check what the host built with ASan/UBSan reports. Unset, it
 * keeps per-connection state the right way (allocated on connect, freed on
 * close) and must pass. */
#include "mailerq.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool mode(const char *name)
{
    const char *m = getenv("MQ_MEM");
    return m && strcmp(m, name) == 0;
}

/* Kept in a global: still reachable at the end, so never a leak. */
static char *cache;
/* The message copy of the last data callback, freed there. */
static char *last_copy;

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT void mq_initialize(void)
{
    cache = malloc(64);
}

MQ_EXPORT bool mq_smtp_in_connect(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    MQ_setConnectionData(connection, calloc(1, 32));
    return false;
}

MQ_EXPORT bool mq_smtp_in_data(MQ_Context *context, MQ_Connection *connection,
                               const char *mime, size_t size)
{
    (void)context;
    (void)connection;
    char *copy = malloc(size);
    memcpy(copy, mime, size);
    if (mode("overflow"))
        copy[size] = '\0'; /* one past the end */
    last_copy = copy;
    free(copy);
    if (mode("leak"))
        copy = strdup(mime); /* never freed */
    if (mode("ub")) {
        volatile int big = INT_MAX;
        big = big + (int)size; /* signed overflow */
    }
    return false;
}

MQ_EXPORT bool mq_smtp_in_close(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    if (mode("use-after-free"))
        last_copy[0] = 'x'; /* freed in mq_smtp_in_data */
    if (!mode("leak-connection"))
        free(MQ_connectionData(connection));
    return false;
}
