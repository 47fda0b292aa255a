/* CHECK(cond): a test plugin that sees the host misbehave logs and aborts, so
 * selftest.sh notices through the host's exit status. */
#ifndef CHECK_H
#define CHECK_H
#include <stdlib.h>
#define CHECK(cond)                                          \
    do {                                                     \
        if (!(cond)) {                                       \
            MQ_log(MQ_CRIT, "check failed: " #cond);         \
            abort();                                         \
        }                                                    \
    } while (0)
#endif
