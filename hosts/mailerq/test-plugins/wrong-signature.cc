// Must NOT compile: inside extern "C" a wrong signature conflicts with the header.
#include "mailerq.h"

extern "C" {

MQ_EXPORT int mq_version(void) MQ_NOEXCEPT
{
    return MQ_API_VERSION;
}

MQ_EXPORT int mq_smtp_in_close(MQ_Context *, MQ_Connection *)
{
    return 0;
}

}  // extern "C"
