/* Starts a thread in mq_initialize; -DJOIN stops and joins it in mq_cleanup,
 * without it the thread outlives mq_cleanup. */
#include "mailerq.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static pthread_t worker;
static atomic_bool stop;

static void *work(void *unused)
{
    (void)unused;
    while (!atomic_load(&stop))
        usleep(1000);
    return NULL;
}

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT void mq_initialize(void)
{
    pthread_create(&worker, NULL, work, NULL);
}

MQ_EXPORT void mq_cleanup(void)
{
#ifdef JOIN
    atomic_store(&stop, true);
    pthread_join(worker, NULL);
#endif
}
