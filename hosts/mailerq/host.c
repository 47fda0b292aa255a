/*
 * Reference MailerQ host: loads plugins the way MailerQ does at start-up, then
 * plays one inbound and one outbound SMTP session through their callbacks, so
 * a generated plugin can be verified without MailerQ itself.
 *
 *   mq-ref-host --plugin-dir DIR --api-version N [--timeout-ms N] [--recipients N]
 *
 * Every step prints one JSON line {"name","ok","ms","detail"} on stdout and
 * flushes it at once: when plugin code crashes or hangs, the caller still
 * knows the last completed step. Exit 0 if all steps pass, 1 at the first
 * failure, 2 on bad usage. Plugin log lines go to stderr.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -rdynamic -o mq-ref-host host.c -ldl
 * (-rdynamic exports the MQ_* functions below to the plugins). Built with
 * -fsanitize=address,undefined it also ends with a "leaks" step, and ASan/UBSan
 * stop it at the first memory error or undefined behaviour in plugin code.
 */
#define _POSIX_C_SOURCE 200809L

#include "mailerq.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>

/* Built in, so the host behaves the same however it is started: leaks are looked
 * for in the "leaks" step, once MailerQ would have freed everything, not at exit;
 * the first error ends the run (verify names the step it was in). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=1:leak_check_at_exit=0:halt_on_error=1:print_legend=0:"
           "detect_stack_use_after_return=1:strict_string_checks=1";
}
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "print_stacktrace=1:halt_on_error=1";
}
#endif

#define BLOCK_LIMIT_MS 200.0 /* longer than this inside plugin code = blocking */
#define MAX_RETRIES 3        /* MQ_retry restarts of one step before we call it a loop */
#define MAX_LISTED 20        /* symbol names shown in one detail */

/* ---- small utilities ------------------------------------------------------ */

/* Everything the host allocates for itself goes through these. The host is one
 * short run that keeps its strings to the end, so under LeakSanitizer its own
 * blocks are marked as not leaked: every leak reported is memory plugin code
 * allocated (plugins allocate with malloc/new, never through these). */
static void *owned(void *p)
{
    if (!p) {
        perror("mq-ref-host");
        exit(1);
    }
#ifdef __SANITIZE_ADDRESS__
    __lsan_ignore_object(p);
#endif
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    return owned(realloc(p, size));
}

static void *xcalloc(size_t size)
{
    return owned(calloc(1, size));
}

static char *xstrdup(const char *s)
{
    return owned(strdup(s));
}

/* Growable string, so details never get truncated. */
struct str {
    char *p;
    size_t len, cap;
};

static void str_vadd(struct str *s, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    if (s->len + (size_t)n + 1 > s->cap) {
        s->cap = (s->len + (size_t)n + 1) * 2;
        s->p = xrealloc(s->p, s->cap);
    }
    vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    s->len += (size_t)n;
}

__attribute__((format(printf, 2, 3)))
static void str_add(struct str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    str_vadd(s, fmt, ap);
    va_end(ap);
}

static const char *str_get(const struct str *s)
{
    return s->p ? s->p : "";
}

static void str_reset(struct str *s)
{
    s->len = 0;
    if (s->p)
        s->p[0] = '\0';
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- step output ------------------------------------------------------------ */

/* The original stdout. main() points fd 1 at stderr, so that a plugin that
 * prints cannot corrupt the JSON steps. */
static FILE *steps;

static void json_string(const char *s)
{
    fputc('"', steps);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(steps, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(steps, "\\u%04x", *c);
        else
            fputc(*c, steps);
    }
    fputc('"', steps);
}

/* Prints one step and flushes: the caller reads the last line after a crash. */
static bool emit(const char *name, bool ok, double start, const char *detail)
{
    fputs("{\"name\":", steps);
    json_string(name);
    fprintf(steps, ",\"ok\":%s,\"ms\":%.3f,\"detail\":", ok ? "true" : "false", now_ms() - start);
    json_string(detail);
    fputs("}\n", steps);
    fflush(steps);
    return ok;
}

/* ---- plugins ------------------------------------------------------------------ */

/* Optional callbacks, in the order MailerQ reaches them. */
enum cb {
    CB_INITIALIZE,
    CB_CONTEXT_INITIALIZE,
    CB_IN_CONNECT,
    CB_IN_SECURE,
    CB_IN_AUTHENTICATE,
    CB_IN_MAILFROM,
    CB_IN_RCPTTO,
    CB_IN_DATA,
    CB_IN_MESSAGE,
    CB_IN_CLOSE,
    CB_OUT_DATA,
    CB_OUT_SENT,
    CB_CONTEXT_CLEANUP,
    CB_CLEANUP,
    N_CB
};

static const char *const cb_name[N_CB] = {
    "mq_initialize", "mq_context_initialize", "mq_smtp_in_connect",
    "mq_smtp_in_secure", "mq_smtp_in_authenticate", "mq_smtp_in_mailfrom",
    "mq_smtp_in_rcptto", "mq_smtp_in_data", "mq_smtp_in_message",
    "mq_smtp_in_close", "mq_smtp_out_data", "mq_smtp_out_sent",
    "mq_context_cleanup", "mq_cleanup",
};

/* Casts a dlsym() result to the exact type the header declares, so the host
 * calls each entry point with the documented signature. */
#define AS(fn, sym) ((__typeof__(&fn))(sym))

struct plugin {
    char *name; /* file name: used in every message */
    void *sym[N_CB];
};

static struct plugin *plugins;
static size_t nplugins;

/* The plugin whose code is running: MQ_* calls are attributed to it. */
static struct plugin *current;
/* The callback running, and whether it runs on MailerQ's event loop. */
static const char *current_what;
static bool on_loop;
static pthread_t loop_thread;

/* First protocol violation since the running step began; the step fails. */
static struct str violation;

__attribute__((format(printf, 1, 2)))
static bool violate(const char *fmt, ...)
{
    if (violation.len)
        return false;
    va_list ap;
    va_start(ap, fmt);
    str_add(&violation, "%s: ", current ? current->name : "(no plugin)");
    str_vadd(&violation, fmt, ap);
    va_end(ap);
    return false;
}

/* Per-callback list of the plugins called, reported in "callback order". */
static struct str order[N_CB];

static void record_order(enum cb id, const struct plugin *p)
{
    str_add(&order[id], "%s%s", order[id].len ? ", " : "", p->name);
}

/* Every entry into plugin code goes through enter()/leave(): they attribute
 * MQ_* calls to the plugin and enforce the never-block rule. */
static double enter(struct plugin *p, const char *what, bool on_worker)
{
    current = p;
    current_what = what;
    on_loop = on_worker;
    return now_ms();
}

static void leave(const char *what, double start, bool on_worker)
{
    double ms = now_ms() - start;
    if (on_worker && ms > BLOCK_LIMIT_MS)
        violate("blocks: %s took %.0f ms; plugins must never block — use MQ_startTimer/MQ_ioWatch",
                what, ms);
    current = NULL;
    on_loop = false;
}

/* ---- the never-block rule, call by call ---------------------------------------------
 * The host is linked with -rdynamic, so these definitions come first in a plugin's
 * symbol lookup: a plugin calling sleep() or fopen() calls them. Made from plugin
 * code on the event loop they break the rule whatever they last (a 30 ms sleep
 * there delays every connection of the worker); anywhere else (mq_initialize, the
 * host itself, a plugin's own threads) they go straight to the C library. */

static void *libc_function(const char *name)
{
    static void *libc;
    if (!libc)
        libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *fn = libc ? dlsym(libc, name) : NULL;
    if (!fn) {
        fprintf(stderr, "mq-ref-host: the C library has no %s\n", name);
        abort();
    }
    return fn;
}

#define REAL(type, name) ((type)libc_function(#name))

static void blocking(const char *call)
{
    if (current && on_loop && pthread_equal(pthread_self(), loop_thread))
        violate("blocks: %s called %s on MailerQ's event loop; plugins must never block — "
                "use MQ_startTimer/MQ_ioWatch", current_what, call);
}

/* A read blocks on a descriptor in blocking mode with nothing to read yet (in an
 * MQ_ioWatch callback the data is there), a write on one whose buffer is full;
 * a connect always does. `unless` is the poll() event that means it will not. */
static void blocking_on(int fd, const char *call, short unless)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || (flags & O_NONBLOCK))
        return;
    struct pollfd ready = { .fd = fd, .events = unless };
    if (unless && poll(&ready, 1, 0) > 0 && (ready.revents & unless))
        return;
    blocking(call);
}

unsigned int sleep(unsigned int seconds)
{
    blocking("sleep()");
    return REAL(unsigned int (*)(unsigned int), sleep)(seconds);
}

int usleep(unsigned int microseconds)
{
    blocking("usleep()");
    return REAL(int (*)(unsigned int), usleep)(microseconds);
}

int nanosleep(const struct timespec *request, struct timespec *remaining)
{
    blocking("nanosleep()");
    return REAL(int (*)(const struct timespec *, struct timespec *), nanosleep)(request, remaining);
}

int connect(int fd, const struct sockaddr *address, socklen_t length)
{
    blocking_on(fd, "connect() on a blocking socket", 0);
    return REAL(int (*)(int, const struct sockaddr *, socklen_t), connect)(fd, address, length);
}

ssize_t read(int fd, void *buffer, size_t size)
{
    blocking_on(fd, "read() on a blocking descriptor with nothing to read", POLLIN);
    return REAL(ssize_t (*)(int, void *, size_t), read)(fd, buffer, size);
}

ssize_t recv(int fd, void *buffer, size_t size, int flags)
{
    blocking_on(fd, "recv() on a blocking socket with nothing to read", POLLIN);
    return REAL(ssize_t (*)(int, void *, size_t, int), recv)(fd, buffer, size, flags);
}

ssize_t write(int fd, const void *buffer, size_t size)
{
    blocking_on(fd, "write() on a blocking descriptor that is full", POLLOUT);
    return REAL(ssize_t (*)(int, const void *, size_t), write)(fd, buffer, size);
}

ssize_t send(int fd, const void *buffer, size_t size, int flags)
{
    blocking_on(fd, "send() on a blocking socket that is full", POLLOUT);
    return REAL(ssize_t (*)(int, const void *, size_t, int), send)(fd, buffer, size, flags);
}

int accept(int fd, struct sockaddr *address, socklen_t *length)
{
    blocking_on(fd, "accept() on a blocking socket with no connection waiting", POLLIN);
    return REAL(int (*)(int, struct sockaddr *, socklen_t *), accept)(fd, address, length);
}

int poll(struct pollfd *fds, nfds_t count, int timeout)
{
    if (timeout != 0)
        blocking("poll() with a timeout (let MQ_ioWatch wait instead)");
    return REAL(int (*)(struct pollfd *, nfds_t, int), poll)(fds, count, timeout);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    if (!(options & WNOHANG))
        blocking("waitpid() without WNOHANG");
    return REAL(pid_t (*)(pid_t, int *, int), waitpid)(pid, status, options);
}

int system(const char *command)
{
    blocking("system() (runs a command and waits for it)");
    return REAL(int (*)(const char *), system)(command);
}

FILE *popen(const char *command, const char *mode)
{
    blocking("popen() (starts a command)");
    return REAL(FILE *(*)(const char *, const char *), popen)(command, mode);
}

/* Gone from POSIX 2008, still in the C library and in old code. */
struct hostent *gethostbyname(const char *name);
struct hostent *gethostbyname(const char *name)
{
    blocking("gethostbyname() (a DNS lookup)");
    return REAL(struct hostent *(*)(const char *), gethostbyname)(name);
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **result)
{
    blocking("getaddrinfo() (a DNS lookup)");
    return REAL(int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **), getaddrinfo)(node, service, hints, result);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    bool needs_mode = flags & O_CREAT;
#ifdef O_TMPFILE
    needs_mode = needs_mode || (flags & O_TMPFILE) == O_TMPFILE;
#endif
    mode_t mode = needs_mode ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    blocking("open() (file I/O)");
    return REAL(int (*)(const char *, int, ...), open)(path, flags, mode);
}

FILE *fopen(const char *path, const char *mode)
{
    blocking("fopen() (file I/O)");
    return REAL(FILE *(*)(const char *, const char *), fopen)(path, mode);
}

/* ---- host-owned handles ---------------------------------------------------------
 * Plugins get pointers to these and pass them back. A pointer is looked up
 * among the live handles before it is dereferenced, so a garbage pointer is
 * reported rather than crashing the host; the magic marks retired handles. */

#define MAGIC_LIVE 0x4d514c56u /* "MQLV" */
#define MAGIC_DEAD 0x4d514444u /* "MQDD" */

enum kind { K_CONTEXT, K_CONNECTION, K_ADDRESS, K_MESSAGE, K_TIMER, K_WATCHER };

static const char *const kind_name[] = {
    "MQ_Context", "MQ_Connection", "MQ_Address", "MQ_Message", "MQ_Timer", "MQ_IOWatcher",
};

struct handle {
    uint32_t magic;
    enum kind kind;
    size_t slot; /* index in handles[] */
};

static struct handle **handles;
static size_t nhandles;

static void handle_add(struct handle *h, enum kind kind)
{
    h->magic = MAGIC_LIVE;
    h->kind = kind;
    h->slot = nhandles;
    handles = xrealloc(handles, (nhandles + 1) * sizeof *handles);
    handles[nhandles++] = h;
}

/* Fired, stopped and unwatched handles stay known for a while, so that a late
 * MQ_stopTimer or MQ_ioUnwatch is named precisely; beyond GRAVEYARD of them
 * the oldest is freed, so a timer re-armed in a tight loop cannot exhaust
 * memory. */
#define GRAVEYARD 4096
static struct handle *graveyard[GRAVEYARD];
static size_t buried;

static void bury(struct handle *h)
{
    struct handle **grave = &graveyard[buried++ % GRAVEYARD];
    if (*grave) {
        struct handle *moved = handles[--nhandles];
        handles[(*grave)->slot] = moved;
        moved->slot = (*grave)->slot;
        free(*grave);
    }
    *grave = h;
}

static bool check(const void *p, enum kind kind, const char *fn)
{
    for (size_t i = 0; i < nhandles; i++) {
        if (handles[i] != p)
            continue;
        if (handles[i]->kind != kind)
            return violate("passed a %s* to %s, which takes a %s*",
                           kind_name[handles[i]->kind], fn, kind_name[kind]);
        if (handles[i]->magic != MAGIC_LIVE)
            return violate("passed a %s* to %s after MailerQ released it", kind_name[kind], fn);
        return true;
    }
    return violate("passed %p to %s, which is not a %s* from MailerQ", p, fn, kind_name[kind]);
}

enum handback { HB_NONE, HB_CONTINUE, HB_COMPLETE, HB_RETRY };
static const char *const hb_name[] = { "none", "MQ_continue", "MQ_complete", "MQ_retry" };

struct MQ_Context {
    struct handle h;
    void **data; /* one slot per plugin */
};

struct MQ_Connection {
    struct handle h;
    void **data;
    int fd, peer;
    bool secure, authenticated;
    /* The plugin in control, from the call of its callback until it hands
     * back, and how it handed back (HB_NONE until it does). */
    struct plugin *holder;
    enum cb holder_cb;
    enum handback handback;
    /* Per plugin: its latest hand-back and the callback it came from, to
     * name a repeated hand-back. */
    enum handback *handed;
    enum cb *handed_cb;
};

struct MQ_Address {
    struct handle h;
    char *email;
};

struct MQ_Message {
    struct handle h;
    const char *mime;
};

enum timer_state { T_ACTIVE, T_FIRED, T_STOPPED };

struct MQ_Timer {
    struct handle h;
    struct plugin *owner;
    double due;
    void (*callback)(void *data);
    void *data;
    enum timer_state state;
};

struct MQ_IOWatcher {
    struct handle h;
    struct plugin *owner;
    int fd, events;
    void (*callback)(MQ_IOWatcher *watcher, int fd, int events, void *data);
    void *data;
    bool active;
};

static MQ_Context context; /* the one worker context */

/* Timers and watchers that may still fire: what the event loop waits for. */
static struct handle **armed;
static size_t narmed;

static void arm(struct handle *h)
{
    armed = xrealloc(armed, (narmed + 1) * sizeof *armed);
    armed[narmed++] = h;
}

static bool is_armed(const struct handle *h)
{
    if (h->kind == K_TIMER)
        return ((const MQ_Timer *)h)->state == T_ACTIVE;
    return ((const MQ_IOWatcher *)h)->active;
}

static size_t plugin_index(void)
{
    return (size_t)(current - plugins);
}

/* Plugin code only runs inside the host's calls; anything else came from a
 * thread of the plugin's own. */
static bool from_plugin(const char *fn)
{
    return current || violate("called %s outside any call from MailerQ (from another thread?)", fn);
}

/* ---- functions offered to plugins ----------------------------------------------- */

static void hand_back(MQ_Connection *conn, enum handback how)
{
    const char *fn = hb_name[how];
    if (!check(conn, K_CONNECTION, fn) || !from_plugin(fn))
        return;
    if (conn->holder == current && conn->handback == HB_NONE) {
        conn->handback = how;
        return;
    }
    enum handback before = conn->holder == current ? conn->handback : conn->handed[plugin_index()];
    enum cb taken_in = conn->holder == current ? conn->holder_cb : conn->handed_cb[plugin_index()];
    if (before == how)
        violate("called %s twice (control taken in %s)", fn, cb_name[taken_in]);
    else if (before != HB_NONE)
        violate("called %s after already calling %s (control taken in %s)",
                fn, hb_name[before], cb_name[taken_in]);
    else if (conn->holder)
        violate("called %s on a connection that %s controls", fn, conn->holder->name);
    else
        violate("called %s on a connection not under its control", fn);
}

void MQ_continue(MQ_Connection *connection) { hand_back(connection, HB_CONTINUE); }
void MQ_complete(MQ_Connection *connection) { hand_back(connection, HB_COMPLETE); }
void MQ_retry(MQ_Connection *connection) { hand_back(connection, HB_RETRY); }

void MQ_log(int priority, const char *message)
{
    static const char *const level[] = { "CRIT", "WARN", "INFO" };
    char name[24];
    if (priority >= MQ_CRIT && priority <= MQ_INFO)
        snprintf(name, sizeof name, "%s", level[priority - MQ_CRIT]);
    else
        snprintf(name, sizeof name, "PRIO%d", priority);
    fprintf(stderr, "[%s] %s %s\n", current ? current->name : "host", name,
            message ? message : "(null)");
    if (!message)
        violate("passed NULL to MQ_log");
}

void *MQ_contextData(MQ_Context *ctx)
{
    return check(ctx, K_CONTEXT, "MQ_contextData") && from_plugin("MQ_contextData")
               ? ctx->data[plugin_index()]
               : NULL;
}

void MQ_setContextData(MQ_Context *ctx, void *data)
{
    if (check(ctx, K_CONTEXT, "MQ_setContextData") && from_plugin("MQ_setContextData"))
        ctx->data[plugin_index()] = data;
}

void *MQ_connectionData(MQ_Connection *conn)
{
    return check(conn, K_CONNECTION, "MQ_connectionData") && from_plugin("MQ_connectionData")
               ? conn->data[plugin_index()]
               : NULL;
}

void MQ_setConnectionData(MQ_Connection *conn, void *data)
{
    if (check(conn, K_CONNECTION, "MQ_setConnectionData") && from_plugin("MQ_setConnectionData"))
        conn->data[plugin_index()] = data;
}

int MQ_fileDescriptor(MQ_Connection *conn)
{
    return check(conn, K_CONNECTION, "MQ_fileDescriptor") ? conn->fd : -1;
}

bool MQ_secure(MQ_Connection *conn)
{
    return check(conn, K_CONNECTION, "MQ_secure") && conn->secure;
}

bool MQ_authenticated(MQ_Connection *conn)
{
    return check(conn, K_CONNECTION, "MQ_authenticated") && conn->authenticated;
}

const char *MQ_email(MQ_Address *address)
{
    return check(address, K_ADDRESS, "MQ_email") ? address->email : NULL;
}

const char *MQ_mime(MQ_Message *message)
{
    return check(message, K_MESSAGE, "MQ_mime") ? message->mime : NULL;
}

struct ev_loop *MQ_ev(MQ_Context *ctx)
{
    check(ctx, K_CONTEXT, "MQ_ev");
    return NULL; /* no libev here: documented in mailerq.h */
}

/* Negative and NaN timeouts fire at once, as with libev. */
static double timeout_ms(float seconds)
{
    return seconds > 0 ? seconds * 1000.0 : 0.0;
}

MQ_Timer *MQ_startTimer(MQ_Context *ctx, float timeout, void (*callback)(void *data), void *data)
{
    if (!check(ctx, K_CONTEXT, "MQ_startTimer") || !from_plugin("MQ_startTimer"))
        return NULL;
    if (!callback) {
        violate("passed a NULL callback to MQ_startTimer");
        return NULL;
    }
    MQ_Timer *t = xcalloc(sizeof *t);
    t->owner = current;
    t->due = now_ms() + timeout_ms(timeout);
    t->callback = callback;
    t->data = data;
    t->state = T_ACTIVE;
    handle_add(&t->h, K_TIMER);
    arm(&t->h);
    return t;
}

/* MailerQ frees a timer once it fired or was stopped, so touching it after
 * that is a use-after-free there. */
static bool timer_usable(MQ_Timer *t, const char *fn)
{
    if (!check(t, K_TIMER, fn))
        return false;
    if (t->state == T_FIRED)
        return violate("called %s on a timer that already fired", fn);
    if (t->state == T_STOPPED)
        return violate("called %s on a timer that was already stopped", fn);
    return true;
}

void MQ_stopTimer(MQ_Timer *timer)
{
    if (timer_usable(timer, "MQ_stopTimer"))
        timer->state = T_STOPPED;
}

void MQ_resetTimer(MQ_Timer *timer, float timeout)
{
    if (timer_usable(timer, "MQ_resetTimer"))
        timer->due = now_ms() + timeout_ms(timeout);
}

MQ_IOWatcher *MQ_ioWatch(MQ_Context *ctx, int fd, int events,
                         void (*callback)(MQ_IOWatcher *watcher, int fd, int events, void *data),
                         void *data)
{
    if (!check(ctx, K_CONTEXT, "MQ_ioWatch") || !from_plugin("MQ_ioWatch"))
        return NULL;
    if (fd < 0 || !callback || !(events & (MQ_READ | MQ_WRITE)) || (events & ~(MQ_READ | MQ_WRITE))) {
        violate("called MQ_ioWatch with fd %d, events %d, callback %s", fd, events,
                callback ? "set" : "NULL");
        return NULL;
    }
    MQ_IOWatcher *w = xcalloc(sizeof *w);
    w->owner = current;
    w->fd = fd;
    w->events = events;
    w->callback = callback;
    w->data = data;
    w->active = true;
    handle_add(&w->h, K_WATCHER);
    arm(&w->h);
    return w;
}

void MQ_ioUnwatch(MQ_IOWatcher *watcher)
{
    if (!check(watcher, K_WATCHER, "MQ_ioUnwatch"))
        return;
    if (!watcher->active)
        violate("called MQ_ioUnwatch twice on the same watcher");
    watcher->active = false;
}

/* ---- event loop ---------------------------------------------------------------- */

/* One poll() round: waits until the next timer, an io event or `deadline`,
 * then runs the callbacks that are due. */
static void loop_once(double deadline)
{
    size_t kept = 0;
    for (size_t i = 0; i < narmed; i++) {
        if (is_armed(armed[i]))
            armed[kept++] = armed[i];
        else
            bury(armed[i]);
    }
    narmed = kept;

    /* Callbacks may arm more; those wait for the next round. */
    size_t known = narmed, n = 0;
    struct pollfd *fds = xcalloc((known + 1) * sizeof *fds);
    MQ_IOWatcher **watched = xcalloc((known + 1) * sizeof *watched);
    double wake = deadline;
    for (size_t i = 0; i < known; i++) {
        if (armed[i]->kind == K_TIMER) {
            MQ_Timer *t = (MQ_Timer *)armed[i];
            if (t->due < wake)
                wake = t->due;
        } else {
            MQ_IOWatcher *w = (MQ_IOWatcher *)armed[i];
            fds[n].fd = w->fd;
            fds[n].events = (short)(((w->events & MQ_READ) ? POLLIN : 0) |
                                    ((w->events & MQ_WRITE) ? POLLOUT : 0));
            watched[n++] = w;
        }
    }
    double wait = wake - now_ms();
    if (poll(fds, n, wait > 0 ? (int)(wait + 0.999) : 0) < 0 && errno != EINTR)
        perror("mq-ref-host: poll");

    for (size_t k = 0; k < n && !violation.len; k++) {
        MQ_IOWatcher *w = watched[k];
        if (!fds[k].revents || !w->active)
            continue;
        if (fds[k].revents & POLLNVAL) {
            current = w->owner;
            violate("watches fd %d with MQ_ioWatch, but that fd is not open", w->fd);
            current = NULL;
            break;
        }
        int events = ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) ? MQ_READ : 0) |
                     ((fds[k].revents & POLLOUT) ? MQ_WRITE : 0);
        /* Errors and hang-ups wake the watcher whatever it asked for, as in libev. */
        events = (events & w->events) ? (events & w->events) : w->events;
        double start = enter(w->owner, "an MQ_ioWatch callback", true);
        w->callback(w, w->fd, events, w->data);
        leave("an MQ_ioWatch callback", start, true);
    }
    free(fds);
    free(watched);

    double now = now_ms();
    for (size_t i = 0; i < known && !violation.len; i++) {
        MQ_Timer *t = (MQ_Timer *)armed[i];
        if (t->h.kind != K_TIMER || t->state != T_ACTIVE || t->due > now)
            continue;
        t->state = T_FIRED;
        double start = enter(t->owner, "an MQ_startTimer callback", true);
        t->callback(t->data);
        leave("an MQ_startTimer callback", start, true);
    }
}

static size_t active_timers(void)
{
    size_t count = 0;
    for (size_t i = 0; i < narmed; i++)
        if (armed[i]->kind == K_TIMER && is_armed(armed[i]))
            count++;
    return count;
}

/* ---- loading --------------------------------------------------------------------- */

enum leaks_mode { LEAKS_CHECK, LEAKS_SKIP, LEAKS_PROBE };

struct options {
    const char *dir;
    int api_version;
    int timeout_ms;
    int recipients;
    enum leaks_mode leaks;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files named *.so, in strcmp order: MailerQ's load and call order. */
static bool scan(const char *dir, char ***names, size_t *count)
{
    double start = now_ms();
    struct str detail = { 0 };
    DIR *d = opendir(dir);
    if (!d) {
        str_add(&detail, "%s: %s (MailerQ silently skips a missing plugin-directory and loads "
                "nothing; verification needs at least one plugin)", dir, strerror(errno));
        return emit("plugin directory", false, start, str_get(&detail));
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        char *path = xrealloc(NULL, strlen(dir) + len + 2);
        sprintf(path, "%s/%s", dir, e->d_name);
        struct stat st;
        bool regular = stat(path, &st) == 0 && S_ISREG(st.st_mode);
        free(path);
        if (!regular)
            continue;
        *names = xrealloc(*names, (*count + 1) * sizeof **names);
        (*names)[(*count)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (!*count) {
        str_add(&detail, "no *.so files in %s", dir);
        return emit("plugin directory", false, start, str_get(&detail));
    }
    qsort(*names, *count, sizeof **names, by_name);
    str_add(&detail, "%s:", dir);
    for (size_t i = 0; i < *count; i++)
        str_add(&detail, "%s %s", i ? "," : "", (*names)[i]);
    return emit("plugin directory", true, start, str_get(&detail));
}

/* Field-by-field views of ELF32/ELF64 structures, read with memcpy because
 * the file image has no alignment guarantee. */
struct section {
    uint64_t type, offset, size, link, entsize;
};

struct symbol {
    uint32_t name;
    unsigned char info, other;
    uint16_t shndx;
};

static void read_section(const unsigned char *img, bool is64, uint64_t off, struct section *s)
{
    if (is64) {
        Elf64_Shdr h;
        memcpy(&h, img + off, sizeof h);
        *s = (struct section){ h.sh_type, h.sh_offset, h.sh_size, h.sh_link, h.sh_entsize };
    } else {
        Elf32_Shdr h;
        memcpy(&h, img + off, sizeof h);
        *s = (struct section){ h.sh_type, h.sh_offset, h.sh_size, h.sh_link, h.sh_entsize };
    }
}

static void read_symbol(const unsigned char *img, bool is64, uint64_t off, struct symbol *s)
{
    if (is64) {
        Elf64_Sym y;
        memcpy(&y, img + off, sizeof y);
        *s = (struct symbol){ y.st_name, y.st_info, y.st_other, y.st_shndx };
    } else {
        Elf32_Sym y;
        memcpy(&y, img + off, sizeof y);
        *s = (struct symbol){ y.st_name, y.st_info, y.st_other, y.st_shndx };
    }
}

static bool fits(uint64_t off, uint64_t len, size_t size)
{
    return off <= size && len <= size - off;
}

static bool linker_symbol(const char *name)
{
    static const char *const exact[] = { "_init", "_fini", "_edata", "_end", "__bss_start",
                                         "__gmon_start__", "__cxa_finalize" };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (strcmp(name, exact[i]) == 0)
            return true;
    return strncmp(name, "_ITM_", 5) == 0;
}

/* Collects the symbols other objects can bind to: defined (not UND or ABS,
 * ABS entries being version names), global/weak/unique, default or
 * protected visibility, code or data. Returns NULL and sets err on failure. */
static char **elf_exports(const char *path, size_t *count, struct str *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        str_add(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *img = NULL;
    size_t size = 0, cap = 0, got;
    do {
        if (size == cap)
            img = xrealloc(img, cap += 65536);
        got = fread(img + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    fclose(f);

    static const union { uint16_t value; unsigned char byte; } probe = { 1 };
    const unsigned char host_data = probe.byte ? ELFDATA2LSB : ELFDATA2MSB;
    char **names = NULL;
    *count = 0;
    if (size < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0) {
        str_add(err, "not an ELF file");
        goto out;
    }
    bool is64 = img[EI_CLASS] == ELFCLASS64;
    if ((!is64 && img[EI_CLASS] != ELFCLASS32) || img[EI_DATA] != host_data) {
        str_add(err, "unsupported ELF class or byte order");
        goto out;
    }
    uint64_t shoff, shentsize, shnum;
    if (is64 && size >= sizeof(Elf64_Ehdr)) {
        Elf64_Ehdr h;
        memcpy(&h, img, sizeof h);
        shoff = h.e_shoff, shentsize = h.e_shentsize, shnum = h.e_shnum;
    } else if (!is64 && size >= sizeof(Elf32_Ehdr)) {
        Elf32_Ehdr h;
        memcpy(&h, img, sizeof h);
        shoff = h.e_shoff, shentsize = h.e_shentsize, shnum = h.e_shnum;
    } else {
        str_add(err, "truncated ELF header");
        goto out;
    }
    size_t shdr_size = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    size_t sym_size = is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    if (shentsize < shdr_size || !fits(shoff, shnum * shentsize, size)) {
        str_add(err, "malformed section header table");
        goto out;
    }
    bool found = false;
    for (uint64_t i = 0; i < shnum; i++) {
        struct section dynsym, strtab;
        read_section(img, is64, shoff + i * shentsize, &dynsym);
        if (dynsym.type != SHT_DYNSYM)
            continue;
        found = true;
        if (dynsym.link >= shnum || dynsym.entsize < sym_size || !fits(dynsym.offset, dynsym.size, size))
            break;
        read_section(img, is64, shoff + dynsym.link * shentsize, &strtab);
        if (!fits(strtab.offset, strtab.size, size))
            break;
        const char *strings = (const char *)img + strtab.offset;
        for (uint64_t k = 1; k < dynsym.size / dynsym.entsize; k++) {
            struct symbol s;
            read_symbol(img, is64, dynsym.offset + k * dynsym.entsize, &s);
            unsigned bind = s.info >> 4, type = s.info & 0xf, vis = s.other & 0x3;
            if (s.shndx == SHN_UNDEF || s.shndx == SHN_ABS || s.name >= strtab.size ||
                !memchr(strings + s.name, '\0', strtab.size - s.name))
                continue;
            if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
                continue;
            if (vis != STV_DEFAULT && vis != STV_PROTECTED)
                continue;
            if (type != STT_FUNC && type != STT_OBJECT && type != STT_TLS &&
                type != STT_GNU_IFUNC && type != STT_COMMON)
                continue;
            if (linker_symbol(strings + s.name))
                continue;
            names = xrealloc(names, (*count + 1) * sizeof *names);
            names[(*count)++] = xstrdup(strings + s.name);
        }
        qsort(names, *count, sizeof *names, by_name);
        free(img);
        return names ? names : xcalloc(sizeof *names);
    }
    str_add(err, found ? "malformed .dynsym section" : "no .dynsym section");
out:
    free(img);
    return NULL;
}

static bool entry_point(const char *name)
{
    if (strcmp(name, "mq_version") == 0)
        return true;
    for (int id = 0; id < N_CB; id++)
        if (strcmp(name, cb_name[id]) == 0)
            return true;
    return false;
}

static void add_list(struct str *s, char **names, size_t n)
{
    for (size_t i = 0; i < n && i < MAX_LISTED; i++)
        str_add(s, "%s%s", i ? ", " : "", names[i]);
    if (n > MAX_LISTED)
        str_add(s, " and %zu more", n - MAX_LISTED);
}

static bool check_exports(const char *path, const struct plugin *p)
{
    double start = now_ms();
    struct str detail = { 0 }, step = { 0 };
    str_add(&step, "exports %s", p->name);
    size_t n;
    char **names = elf_exports(path, &n, &detail);
    if (!names)
        return emit(str_get(&step), false, start, str_get(&detail));

    char **extra = xcalloc((n + 1) * sizeof *extra), **unknown = xcalloc((n + 1) * sizeof *unknown);
    size_t nextra = 0, nunknown = 0;
    bool cxx = false, overload = false;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], "mq_", 3) != 0) {
            extra[nextra++] = names[i];
            cxx = cxx || strncmp(names[i], "_Z", 2) == 0;
            overload = overload || (strncmp(names[i], "_Z", 2) == 0 && strstr(names[i], "mq_"));
        } else if (!entry_point(names[i])) {
            unknown[nunknown++] = names[i];
        }
    }
    /* MailerQ looks its entry points up by exact name: an mq_* name it does not know
     * (a misspelling) or a mangled one (a C++ overload) is a callback it never calls. */
    bool ok = nextra == 0 && nunknown == 0;
    if (ok) {
        str_add(&detail, "exports: ");
        add_list(&detail, names, n);
    } else if (nextra) {
        str_add(&detail, "%s: exports beyond the mq_* entry points: ", p->name);
        add_list(&detail, extra, nextra);
        str_add(&detail, " (build with -fvisibility=hidden and MQ_EXPORT only the entry points");
        if (overload)
            str_add(&detail, "; a mangled mq_* name is a C++ function outside extern \"C\" or with "
                    "another signature than mailerq.h's, which MailerQ never calls");
        if (cxx)
            str_add(&detail, "; C++ standard-library template instantiations stay default-visible "
                    "even then: also link with -Wl,--version-script=FILE where FILE holds "
                    "{ global: mq_*; local: *; };");
        str_add(&detail, ")");
    }
    if (nunknown) {
        str_add(&detail, "%s", nextra ? "; and " : "");
        str_add(&detail, "%s: ", p->name);
        add_list(&detail, unknown, nunknown);
        str_add(&detail, " %s no MailerQ entry point%s (misspelled?), so MailerQ never calls %s",
                nunknown == 1 ? "is" : "are", nunknown == 1 ? "" : "s", nunknown == 1 ? "it" : "them");
    }
    return emit(str_get(&step), ok, start, str_get(&detail));
}

static bool load(const char *dir, const char *name, struct plugin *p, int api_version)
{
    double start = now_ms();
    struct str path = { 0 }, step = { 0 }, detail = { 0 };
    str_add(&path, "%s/%s", dir, name);
    p->name = xstrdup(name);

    str_add(&step, "load %s", name);
    void *dl = dlopen(str_get(&path), RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *error = dlerror();
        str_add(&detail, "%s", error);
        if (strstr(error, "undefined symbol: MQ_"))
            str_add(&detail, " (this host offers only the MQ_* functions of the stand-in mailerq.h)");
        return emit(str_get(&step), false, start, str_get(&detail));
    }
    void *version = dlsym(dl, "mq_version");
    if (!version) {
        str_add(&detail, "%s: no mq_version exported; MailerQ requires int mq_version(void) "
                "(defined with MQ_EXPORT, inside extern \"C\" for C++)", name);
        return emit(str_get(&step), false, start, str_get(&detail));
    }
    if (!emit(str_get(&step), true, start, str_get(&path)))
        return false;

    start = now_ms();
    str_reset(&step);
    str_reset(&detail);
    str_add(&step, "mq_version %s", name);
    double t = enter(p, "mq_version", false);
    int got = AS(mq_version, version)();
    leave("mq_version", t, false);
    if (violation.len)
        return emit(str_get(&step), false, start, str_get(&violation));
    if (got != api_version) {
        str_add(&detail, "%s: mq_version() returned %d, this MailerQ expects %d "
                "(MQ_API_VERSION mismatch: MailerQ logs an error and exits)", name, got, api_version);
        return emit(str_get(&step), false, start, str_get(&detail));
    }
    str_add(&detail, "returned %d", got);
    if (!emit(str_get(&step), true, start, str_get(&detail)))
        return false;

    start = now_ms();
    str_reset(&step);
    str_reset(&detail);
    str_add(&step, "callbacks %s", name);
    for (int id = 0; id < N_CB; id++)
        if ((p->sym[id] = dlsym(dl, cb_name[id])))
            str_add(&detail, "%s%s", detail.len ? ", " : "", cb_name[id]);
    if (!detail.len)
        str_add(&detail, "none besides mq_version");
    if (!emit(str_get(&step), true, start, str_get(&detail)))
        return false;

    return check_exports(str_get(&path), p);
}

/* ---- calling plugins --------------------------------------------------------------- */

/* mq_initialize/mq_cleanup run once outside any worker, where blocking only
 * delays start-up or shutdown; the context callbacks run on a worker. */
static bool lifecycle(const char *step, enum cb id)
{
    double start = now_ms();
    struct str detail = { 0 };
    for (size_t i = 0; i < nplugins; i++) {
        struct plugin *p = &plugins[i];
        if (!p->sym[id])
            continue;
        record_order(id, p);
        double t = enter(p, cb_name[id], id == CB_CONTEXT_INITIALIZE || id == CB_CONTEXT_CLEANUP);
        switch (id) {
        case CB_CLEANUP: AS(mq_cleanup, p->sym[id])(); break;
        case CB_CONTEXT_INITIALIZE: AS(mq_context_initialize, p->sym[id])(&context); break;
        case CB_CONTEXT_CLEANUP: AS(mq_context_cleanup, p->sym[id])(&context); break;
        default: abort();
        }
        leave(cb_name[id], t, id == CB_CONTEXT_INITIALIZE || id == CB_CONTEXT_CLEANUP);
        if (violation.len)
            return emit(step, false, start, str_get(&violation));
        str_add(&detail, "%s%s", detail.len ? ", " : "called ", p->name);
    }
    /* The context is gone after its cleanup: data a plugin left there is unreachable. */
    if (id == CB_CONTEXT_CLEANUP)
        memset(context.data, 0, nplugins * sizeof *context.data);
    if (!detail.len)
        str_add(&detail, "no plugin implements %s", cb_name[id]);
    return emit(step, true, start, str_get(&detail));
}

/* MailerQ calls mq_initialize right after it loads a plugin, before it loads the next
 * one. The step is reported for every plugin, so a crash in it is named. */
static bool initialize(struct plugin *p)
{
    double start = now_ms();
    struct str step = { 0 };
    str_add(&step, "mq_initialize %s", p->name);
    if (!p->sym[CB_INITIALIZE])
        return emit(str_get(&step), true, start, "not implemented");
    record_order(CB_INITIALIZE, p);
    double t = enter(p, cb_name[CB_INITIALIZE], false);
    AS(mq_initialize, p->sym[CB_INITIALIZE])();
    leave(cb_name[CB_INITIALIZE], t, false);
    if (violation.len)
        return emit(str_get(&step), false, start, str_get(&violation));
    return emit(str_get(&step), true, start, "called right after loading it, before the next plugin loads");
}

/* Threads of this process: /proc/self/task holds one entry per thread. */
static int thread_count(void)
{
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(tasks));)
        n += e->d_name[0] != '.';
    closedir(tasks);
    return n;
}

/* MailerQ unloads its plugins after mq_cleanup: a thread a plugin started and left
 * running would go on in unmapped code. This host runs on one thread of its own;
 * a plugin's thread gets 200 ms to end after mq_cleanup returned. */
static bool threads_stopped(void)
{
    double start = now_ms();
    int n = thread_count();
    for (int waited = 0; n > 1 && waited < 200; waited += 10) {
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        n = thread_count();
    }
    if (n < 0)
        return emit("threads after mq_cleanup", false, start, "cannot read /proc/self/task to count threads");
    if (n > 1) {
        struct str detail = { 0 };
        str_add(&detail, "%d thread%s a plugin started still running after mq_cleanup: MailerQ "
                "unloads plugins next, so stop and join them in mq_cleanup", n - 1, n == 2 ? "" : "s");
        return emit("threads after mq_cleanup", false, start, str_get(&detail));
    }
    return emit("threads after mq_cleanup", true, start, "none left running");
}

#ifdef __SANITIZE_ADDRESS__
/* Once mq_cleanup returned and MailerQ freed its connections and context, memory
 * that plugin code allocated and nothing points to any more is a leak (memory a
 * plugin still reaches from its globals is not: the process keeps it). The report,
 * on stderr, names where each block was allocated; verify summarizes it. */
static bool leaks(enum leaks_mode mode)
{
    double start = now_ms();
    if (mode == LEAKS_SKIP) {
        fprintf(steps, "{\"name\":\"leaks\",\"ok\":true,\"status\":\"skipped\",\"ms\":0,\"detail\":"
                "\"LeakSanitizer does not work here (its probe missed a leak: ptrace forbidden by a "
                "container or sandbox, or detect_leaks=0 in ASAN_OPTIONS): leaks were not looked for\"}\n");
        fflush(steps);
        return true;
    }
    if (__lsan_do_recoverable_leak_check())
        return emit("leaks", false, start, "plugin code allocated memory that it never freed");
    return emit("leaks", true, start, "LeakSanitizer found none");
}

/* --leaks probe: whether LeakSanitizer works here at all. It stops the process
 * with ptrace, which some containers forbid; it then dies, and verify skips the check. */
static bool probe_leaks(void)
{
    double start = now_ms();
    void *volatile lost = malloc(16);
    lost = NULL;
    (void)lost;
    bool found = __lsan_do_recoverable_leak_check();
    return emit("leak probe", found, start, found ? "LeakSanitizer works" : "LeakSanitizer missed a leak");
}
#else
static bool leaks(enum leaks_mode mode)
{
    (void)mode;
    return true; /* no LeakSanitizer in this build: verify says the check was skipped */
}

static bool probe_leaks(void)
{
    return emit("leak probe", false, now_ms(), "this host was built without -fsanitize=address");
}
#endif

static const char LOGIN[] = "user", PASSWORD[] = "secret";

struct args {
    MQ_Connection *conn;
    MQ_Address *address;
    MQ_Message *message;
    const char *mime;
    size_t size;
};

static bool invoke(struct plugin *p, enum cb id, const struct args *a)
{
    void *f = p->sym[id];
    switch (id) {
    case CB_IN_CONNECT: return AS(mq_smtp_in_connect, f)(&context, a->conn);
    case CB_IN_SECURE: return AS(mq_smtp_in_secure, f)(&context, a->conn);
    case CB_IN_AUTHENTICATE:
        return AS(mq_smtp_in_authenticate, f)(&context, a->conn, LOGIN, sizeof LOGIN - 1,
                                               PASSWORD, sizeof PASSWORD - 1);
    case CB_IN_MAILFROM: return AS(mq_smtp_in_mailfrom, f)(&context, a->conn, a->address);
    case CB_IN_RCPTTO: return AS(mq_smtp_in_rcptto, f)(&context, a->conn, a->address);
    case CB_IN_DATA: return AS(mq_smtp_in_data, f)(&context, a->conn, a->mime, a->size);
    case CB_IN_MESSAGE: return AS(mq_smtp_in_message, f)(&context, a->conn, a->message);
    case CB_IN_CLOSE: return AS(mq_smtp_in_close, f)(&context, a->conn);
    case CB_OUT_DATA: return AS(mq_smtp_out_data, f)(&context, a->conn, a->message);
    case CB_OUT_SENT: return AS(mq_smtp_out_sent, f)(&context, a->conn, a->message);
    default: abort();
    }
}

/* One SMTP step: calls `id` on every implementing plugin in file-name order
 * under MailerQ's control protocol, running the event loop while a plugin
 * holds control. */
static bool stage(const char *step, enum cb id, const struct args *a, int timeout_ms)
{
    double start = now_ms();
    struct str detail = { 0 };
    MQ_Connection *conn = a->conn;
    int restarts = 0;
restart:
    for (size_t i = 0; i < nplugins; i++) {
        struct plugin *p = &plugins[i];
        if (!p->sym[id])
            continue;
        record_order(id, p);
        conn->holder = p;
        conn->holder_cb = id;
        conn->handback = HB_NONE;
        double t = enter(p, cb_name[id], true);
        bool took = invoke(p, id, a);
        if (!took && conn->handback != HB_NONE)
            violate("%s returned false but called %s; only a callback that returns true may "
                    "hand control back", cb_name[id], hb_name[conn->handback]);
        leave(cb_name[id], t, true);
        double called = now_ms();
        bool synchronous = conn->handback != HB_NONE;
        if (took)
            while (conn->handback == HB_NONE && !violation.len && now_ms() < called + timeout_ms)
                loop_once(called + timeout_ms);
        if (violation.len)
            return emit(step, false, start, str_get(&violation));
        if (took && conn->handback == HB_NONE) {
            struct str fail = { 0 };
            str_add(&fail, "%s: %s returned true but never called MQ_continue, MQ_complete or "
                    "MQ_retry within %d ms", p->name, cb_name[id], timeout_ms);
            return emit(step, false, start, str_get(&fail));
        }
        enum handback how = conn->handback;
        if (took) {
            conn->handed[i] = how;
            conn->handed_cb[i] = id;
        }
        conn->holder = NULL;
        str_add(&detail, "%s%s: ", detail.len ? "; " : "", p->name);
        if (!took) {
            str_add(&detail, "declined");
            continue;
        }
        if (synchronous)
            str_add(&detail, "%s before returning true", hb_name[how]);
        else
            str_add(&detail, "%s after %.0f ms", hb_name[how], now_ms() - called);
        if (how == HB_COMPLETE) {
            str_add(&detail, ", later plugins skipped");
            break;
        }
        if (how == HB_RETRY) {
            if (++restarts > MAX_RETRIES) {
                struct str fail = { 0 };
                str_add(&fail, "%s: called MQ_retry in %s %d times in a row; MailerQ restarts the "
                        "step each time, so this loops forever", p->name, step, restarts);
                return emit(step, false, start, str_get(&fail));
            }
            str_add(&detail, ", step restarted");
            goto restart;
        }
    }
    if (!detail.len)
        str_add(&detail, "no plugin implements %s", cb_name[id]);
    return emit(step, true, start, str_get(&detail));
}

/* ---- the session --------------------------------------------------------------------- */

/* A loopback TCP connection, so MQ_fileDescriptor() gives plugins a real
 * socket where getpeername()/getsockname() work as in MailerQ; a socketpair
 * if loopback TCP is unavailable. */
static void open_connection(MQ_Connection *conn)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    conn->fd = conn->peer = -1;
    if (listener >= 0 && bind(listener, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        listen(listener, 1) == 0 && getsockname(listener, (struct sockaddr *)&addr, &len) == 0 &&
        (conn->peer = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
        connect(conn->peer, (struct sockaddr *)&addr, sizeof addr) == 0) {
        conn->fd = accept(listener, NULL, NULL);
    }
    if (listener >= 0)
        close(listener);
    if (conn->fd < 0) {
        int pair[2];
        if (conn->peer >= 0)
            close(conn->peer);
        conn->peer = -1;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0)
            conn->fd = pair[0], conn->peer = pair[1];
    }
    conn->data = xcalloc(nplugins * sizeof *conn->data);
    conn->handed = xcalloc(nplugins * sizeof *conn->handed);
    conn->handed_cb = xcalloc(nplugins * sizeof *conn->handed_cb);
    handle_add(&conn->h, K_CONNECTION);
}

/* MailerQ frees a connection and its messages after the last callback. */
static void close_connection(MQ_Connection *conn)
{
    conn->h.magic = MAGIC_DEAD;
    memset(conn->data, 0, nplugins * sizeof *conn->data); /* so is the data plugins set on it */
    close(conn->fd);
    close(conn->peer);
}

static MQ_Address *new_address(const char *email)
{
    MQ_Address *a = xcalloc(sizeof *a);
    a->email = xstrdup(email);
    handle_add(&a->h, K_ADDRESS);
    return a;
}

static MQ_Message *new_message(const char *mime)
{
    MQ_Message *m = xcalloc(sizeof *m);
    m->mime = mime;
    handle_add(&m->h, K_MESSAGE);
    return m;
}

static bool session(const struct options *o)
{
    static MQ_Connection in, out;
    struct str mime = { 0 }, step = { 0 };
    MQ_Address *sender = new_address("sender@example.com");
    MQ_Address **rcpt = xcalloc((size_t)o->recipients * sizeof *rcpt);
    MQ_Message **msg = xcalloc((size_t)o->recipients * sizeof *msg);

    str_add(&mime, "From: <sender@example.com>\r\nTo: ");
    for (int i = 0; i < o->recipients; i++) {
        char email[32];
        snprintf(email, sizeof email, "rcpt%d@example.org", i + 1);
        rcpt[i] = new_address(email);
        str_add(&mime, "%s<%s>", i ? ", " : "", email);
    }
    str_add(&mime, "\r\nSubject: MailerQ reference host\r\nMessage-ID: <1@mq-ref-host.invalid>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "A message played through the plugins by the MailerQ reference host.\r\n");
    for (int i = 0; i < o->recipients; i++)
        msg[i] = new_message(str_get(&mime));

    open_connection(&in);
    struct args a = { .conn = &in };
    if (!stage("smtp in: connect", CB_IN_CONNECT, &a, o->timeout_ms))
        return false;
    in.secure = true; /* mq_smtp_in_secure runs once STARTTLS made it secure */
    if (!stage("smtp in: secure", CB_IN_SECURE, &a, o->timeout_ms) ||
        !stage("smtp in: authenticate", CB_IN_AUTHENTICATE, &a, o->timeout_ms))
        return false;
    in.authenticated = true;
    a.address = sender;
    if (!stage("smtp in: mailfrom", CB_IN_MAILFROM, &a, o->timeout_ms))
        return false;
    for (int i = 0; i < o->recipients; i++) {
        str_reset(&step);
        str_add(&step, "smtp in: rcptto %s", rcpt[i]->email);
        a.address = rcpt[i];
        if (!stage(str_get(&step), CB_IN_RCPTTO, &a, o->timeout_ms))
            return false;
    }
    a.address = NULL;
    a.mime = str_get(&mime);
    a.size = mime.len;
    if (!stage("smtp in: data", CB_IN_DATA, &a, o->timeout_ms))
        return false;
    for (int i = 0; i < o->recipients; i++) {
        str_reset(&step);
        str_add(&step, "smtp in: message %s", rcpt[i]->email);
        a.message = msg[i];
        if (!stage(str_get(&step), CB_IN_MESSAGE, &a, o->timeout_ms))
            return false;
    }
    if (!stage("smtp in: close", CB_IN_CLOSE, &(struct args){ .conn = &in }, o->timeout_ms))
        return false;
    close_connection(&in);
    for (int i = 0; i < o->recipients; i++)
        msg[i]->h.magic = rcpt[i]->h.magic = MAGIC_DEAD;
    sender->h.magic = MAGIC_DEAD;

    open_connection(&out);
    struct args b = { .conn = &out, .message = new_message(str_get(&mime)) };
    if (!stage("smtp out: data", CB_OUT_DATA, &b, o->timeout_ms) ||
        !stage("smtp out: sent", CB_OUT_SENT, &b, o->timeout_ms))
        return false;
    close_connection(&out);
    b.message->h.magic = MAGIC_DEAD;
    return true;
}

/* Lets timers that plugins left running fire, so a late or second hand-back
 * still shows up; a timer that keeps re-arming simply runs out the clock. */
static bool drain(int timeout_ms)
{
    double start = now_ms(), deadline = start + timeout_ms;
    while (active_timers() && !violation.len && now_ms() < deadline)
        loop_once(deadline);
    if (violation.len)
        return emit("event loop drain", false, start, str_get(&violation));
    struct str detail = { 0 };
    size_t left = active_timers();
    if (left)
        str_add(&detail, "%zu timer%s still pending after %d ms", left, left == 1 ? "" : "s", timeout_ms);
    else
        str_add(&detail, "no timers pending");
    return emit("event loop drain", true, start, str_get(&detail));
}

static bool callback_order(void)
{
    double start = now_ms();
    struct str detail = { 0 };
    for (int id = 0; id < N_CB; id++)
        if (order[id].len)
            str_add(&detail, "%s%s: %s", detail.len ? "; " : "", cb_name[id], str_get(&order[id]));
    return emit("callback order", true, start, detail.len ? str_get(&detail) : "no callbacks called");
}

static bool run(const struct options *o)
{
    char **names = NULL;
    if (!scan(o->dir, &names, &nplugins))
        return false;
    plugins = xcalloc(nplugins * sizeof *plugins);
    for (size_t i = 0; i < nplugins; i++)
        if (!load(o->dir, names[i], &plugins[i], o->api_version) || !initialize(&plugins[i]))
            return false;

    context.data = xcalloc(nplugins * sizeof *context.data);
    handle_add(&context.h, K_CONTEXT);
    return lifecycle("mq_context_initialize", CB_CONTEXT_INITIALIZE) &&
           session(o) && drain(o->timeout_ms) && callback_order() &&
           lifecycle("mq_context_cleanup", CB_CONTEXT_CLEANUP) &&
           lifecycle("mq_cleanup", CB_CLEANUP) && threads_stopped() && leaks(o->leaks);
}

/* ---- command line ------------------------------------------------------------------------ */

static int usage(const char *flag, const char *problem)
{
    fprintf(stderr, "mq-ref-host: %s%s\nusage: mq-ref-host --plugin-dir DIR --api-version N "
            "[--timeout-ms N] [--recipients N] [--leaks check|skip]\n"
            "       mq-ref-host --leaks probe\n", flag, problem);
    return 2;
}

static bool parse_int(const char *text, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < min || value > max)
        return false;
    *out = (int)value;
    return true;
}

int main(int argc, char **argv)
{
    struct options o = { .timeout_ms = 2000, .recipients = 2 };
    bool have_version = false;
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value)
            return usage(flag, " needs a value");
        if (strcmp(flag, "--plugin-dir") == 0)
            o.dir = value;
        else if (strcmp(flag, "--api-version") == 0) {
            if (!(have_version = parse_int(value, INT_MIN, INT_MAX, &o.api_version)))
                return usage(flag, " needs an integer");
        } else if (strcmp(flag, "--timeout-ms") == 0) {
            if (!parse_int(value, 1, 3600000, &o.timeout_ms))
                return usage(flag, " needs a number from 1 to 3600000");
        } else if (strcmp(flag, "--recipients") == 0) {
            if (!parse_int(value, 1, 100, &o.recipients))
                return usage(flag, " needs a number from 1 to 100");
        } else if (strcmp(flag, "--leaks") == 0) {
            if (strcmp(value, "check") == 0)
                o.leaks = LEAKS_CHECK;
            else if (strcmp(value, "skip") == 0)
                o.leaks = LEAKS_SKIP;
            else if (strcmp(value, "probe") == 0)
                o.leaks = LEAKS_PROBE;
            else
                return usage(flag, " needs check, skip or probe");
        } else
            return usage(flag, ": unknown option");
    }
    if (o.leaks == LEAKS_PROBE) {
        steps = stdout;
        return probe_leaks() ? 0 : 1;
    }
    if (!o.dir)
        return usage("--plugin-dir", " is required");
    if (!have_version)
        return usage("--api-version", " is required");
    int fd = dup(STDOUT_FILENO);
    if (fd < 0 || !(steps = fdopen(fd, "w")) || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        perror("mq-ref-host: stdout");
        return 1;
    }
    loop_thread = pthread_self();
    return run(&o) ? 0 : 1;
}
