/* Calls a MailerQ function that the stand-in header does not declare. */
#include "mailerq.h"

void MQ_setAuthenticated(MQ_Connection *connection, bool authenticated);

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT bool mq_smtp_in_connect(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    MQ_setAuthenticated(connection, true);
    return false;
}
