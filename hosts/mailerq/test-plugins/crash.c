/* Crashes in mq_initialize. */
#include "mailerq.h"

#include <signal.h>

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT void mq_initialize(void)
{
    raise(SIGSEGV);
}
