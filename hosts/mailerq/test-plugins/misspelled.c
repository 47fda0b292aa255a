/* A callback whose name MailerQ does not know (mq_smtp_in_mailfrm): exported, never called. */
#include "mailerq.h"

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT bool mq_smtp_in_mailfrm(MQ_Context *context, MQ_Connection *connection, MQ_Address *address)
{
    (void)context;
    (void)connection;
    (void)address;
    return false;
}
