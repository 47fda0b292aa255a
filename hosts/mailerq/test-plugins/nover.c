/* Implements a callback but not the required mq_version. */
#include "mailerq.h"

MQ_EXPORT void mq_initialize(void)
{
}
