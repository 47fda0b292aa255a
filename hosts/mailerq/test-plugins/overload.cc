// A C++ callback outside extern "C" with another signature than mailerq.h's: it
// compiles as an overload, exported under a mangled name MailerQ never looks up.
#include "mailerq.h"

extern "C" MQ_EXPORT int mq_version(void) MQ_NOEXCEPT
{
    return MQ_API_VERSION;
}

MQ_EXPORT bool mq_smtp_in_mailfrom(MQ_Context *, MQ_Connection *, const MQ_Address *)
{
    return false;
}
