/* Built without -fvisibility=hidden: its helpers leak into the dynamic symbol
 * table, and a misspelt entry point is exported but never called. */
#include "mailerq.h"

int counter;
int mq_state; /* data with an entry point's prefix: MailerQ has no such entry point */

int helper_fn(void)
{
    return ++counter + mq_state;
}

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

bool mq_smtp_in_conect(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    (void)connection;
    return helper_fn() < 0;
}
