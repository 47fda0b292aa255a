/* Keeps a zero-second timer re-arming itself for as long as it runs: the
 * event loop drain must end on its time limit without exhausting memory. */
#include "mailerq.h"

static MQ_Context *worker;

static void tick(void *data)
{
    (void)data;
    MQ_startTimer(worker, 0.0f, tick, NULL);
}

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT void mq_context_initialize(MQ_Context *context)
{
    worker = context;
    MQ_startTimer(context, 0.0f, tick, NULL);
}
