/* Takes control and hands it back later from the event loop, as a real
 * plugin waiting on the network would: through an io watch in connect, a
 * (reset) timer in data, MQ_complete in close and one MQ_retry in out data. */
#include "mailerq.h"
#include "check.h"

#include <unistd.h>

MQ_EXPORT int mq_version(void)
{
    return MQ_API_VERSION;
}

struct pipe_job {
    MQ_Connection *connection;
    int fds[2];
};

static struct pipe_job job;

static void readable(MQ_IOWatcher *watcher, int fd, int events, void *data)
{
    struct pipe_job *j = data;
    char c;
    CHECK((events & MQ_READ) && read(fd, &c, 1) == 1 && c == 'x');
    MQ_ioUnwatch(watcher);
    close(j->fds[0]);
    close(j->fds[1]);
    MQ_continue(j->connection);
}

static void write_byte(void *data)
{
    struct pipe_job *j = data;
    CHECK(write(j->fds[1], "x", 1) == 1);
}

MQ_EXPORT bool mq_smtp_in_connect(MQ_Context *context, MQ_Connection *connection)
{
    job.connection = connection;
    CHECK(pipe(job.fds) == 0);
    CHECK(MQ_ioWatch(context, job.fds[0], MQ_READ, readable, &job) != NULL);
    CHECK(MQ_startTimer(context, 0.02f, write_byte, &job) != NULL);
    return true;
}

static MQ_Timer *guard;

static void guard_fired(void *data)
{
    (void)data;
    CHECK(!"the guard timer was stopped and must not fire");
}

static void resume(void *connection)
{
    MQ_stopTimer(guard);
    MQ_continue(connection);
}

MQ_EXPORT bool mq_smtp_in_data(MQ_Context *context, MQ_Connection *connection,
                               const char *mime, size_t size)
{
    (void)mime;
    (void)size;
    guard = MQ_startTimer(context, 10.0f, guard_fired, NULL);
    MQ_resetTimer(MQ_startTimer(context, 5.0f, resume, connection), 0.05f);
    return true;
}

MQ_EXPORT bool mq_smtp_in_close(MQ_Context *context, MQ_Connection *connection)
{
    (void)context;
    MQ_complete(connection);
    return true;
}

MQ_EXPORT bool mq_smtp_out_data(MQ_Context *context, MQ_Connection *connection,
                                MQ_Message *message)
{
    static int attempts;
    (void)context;
    (void)message;
    if (attempts++ > 0)
        return false;
    MQ_retry(connection);
    return true;
}
