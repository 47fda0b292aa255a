/* Must NOT compile: mq_smtp_in_data lacks its size parameter. */
#include "mailerq.h"

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

MQ_EXPORT bool mq_smtp_in_data(MQ_Context *context, MQ_Connection *connection, const char *mime)
{
    (void)context;
    (void)connection;
    return mime != 0;
}
