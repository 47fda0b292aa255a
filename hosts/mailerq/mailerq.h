// SPDX-License-Identifier: MIT
/*
 * STAND-IN for mailerq.h. This is NOT the header that ships with MailerQ.
 * It was written from MailerQ's public plugin documentation, which names more
 * than it specifies: every value or signature below that the documentation
 * does not give is marked ASSUMED, and may differ in the real header (the
 * MQ_API_VERSION value, the MQ_READ/MQ_WRITE values, and the signatures of the
 * context, connection, message, timer and io functions). MQ_API_VERSION must
 * match the MailerQ the plugin will run in: MailerQ logs an error and exits
 * when a plugin's mq_version() returns another value. Replace this file with
 * the real mailerq.h (installed with MailerQ) when it is available.
 *
 * Where the documentation of different MailerQ releases disagrees, this file
 * follows the 5.x pages (lower camelCase MQ_* names, float timer timeouts,
 * MQ_IOWatcher handles). Accessors documented with conflicting signatures
 * (MQ_envelope, MQ_recipient) and functions with no 5.x signature on record
 * (MQ_send, MQ_json, MQ_setAuthenticated, ...) are left out on purpose.
 */
#ifndef MAILERQ_H
#define MAILERQ_H

#include <stdbool.h>
#include <stddef.h>

/* ASSUMED value: undocumented, it only grows with each MailerQ release.
 * Override it with -DMQ_API_VERSION=N to match the MailerQ you deploy to. */
#ifndef MQ_API_VERSION
#define MQ_API_VERSION 1
#endif

#ifndef MQ_EXPORT
#if defined(__GNUC__) || defined(__clang__)
#define MQ_EXPORT __attribute__((visibility("default")))
#else
#define MQ_EXPORT
#endif
#endif

/* Log priorities for MQ_log(). */
#define MQ_CRIT 1
#define MQ_WARN 2
#define MQ_INFO 3

/* Events for MQ_ioWatch(). ASSUMED values: not documented (libev's EV_READ
 * and EV_WRITE are 1 and 2). */
#define MQ_READ 1
#define MQ_WRITE 2

/* C++: an exception must never unwind into MailerQ, which is C, so the entry
 * points are declared noexcept (a definition must say it too, as MQ_NOEXCEPT).
 * MQ_NOEXCEPT is this stand-in's own: MailerQ's header may not have it. */
#ifndef MQ_NOEXCEPT
#ifdef __cplusplus
#define MQ_NOEXCEPT noexcept
#else
#define MQ_NOEXCEPT
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* All MailerQ types are opaque: plugins only ever hold pointers to them. */
typedef struct MQ_Context MQ_Context;
typedef struct MQ_Connection MQ_Connection;
typedef struct MQ_Address MQ_Address;
typedef struct MQ_Message MQ_Message;
typedef struct MQ_Timer MQ_Timer;
typedef struct MQ_IOWatcher MQ_IOWatcher;

/* libev's loop type, as returned by MQ_ev(). */
struct ev_loop;

/* ---- Functions MailerQ offers to plugins ---------------------------------- */

/* Hand control back after a callback returned true: run the next plugin... */
void MQ_continue(MQ_Connection *connection);
/* ...skip all further plugins of this step... */
void MQ_complete(MQ_Connection *connection);
/* ...or restart this step from the first plugin (beware of loops). */
void MQ_retry(MQ_Connection *connection);

void MQ_log(int priority, const char *message);

/* ---- ASSUMED signatures from here to the exported functions: the
 * documentation names these functions without declaring them. ---- */

/* Per-plugin data: every plugin sees only its own pointer. */
void *MQ_contextData(MQ_Context *context);
void MQ_setContextData(MQ_Context *context, void *data);
void *MQ_connectionData(MQ_Connection *connection);
void MQ_setConnectionData(MQ_Connection *connection, void *data);

/* The socket of the SMTP connection: inspect it (getpeername...), never read,
 * write or close it. */
int MQ_fileDescriptor(MQ_Connection *connection);
bool MQ_secure(MQ_Connection *connection);
bool MQ_authenticated(MQ_Connection *connection);

const char *MQ_email(MQ_Address *address);
const char *MQ_mime(MQ_Message *message);

/* The worker's libev loop. The reference host has no libev and returns NULL,
 * so verify cannot run code that uses it: prefer the timer and io functions
 * below, which work in both. */
struct ev_loop *MQ_ev(MQ_Context *context);

/* One-shot timer; stop or reset it only before it has fired. */
MQ_Timer *MQ_startTimer(MQ_Context *context, float timeout,
                        void (*callback)(void *data), void *data);
void MQ_stopTimer(MQ_Timer *timer);
void MQ_resetTimer(MQ_Timer *timer, float timeout);

/* events: MQ_READ and/or MQ_WRITE. */
MQ_IOWatcher *MQ_ioWatch(MQ_Context *context, int fd, int events,
                         void (*callback)(MQ_IOWatcher *watcher, int fd,
                                          int events, void *data),
                         void *data);
void MQ_ioUnwatch(MQ_IOWatcher *watcher);

/* ---- Functions a plugin exports (only mq_version is required) -------------
 * Declared here so that a definition with another signature does not compile.
 * C++ plugins must define them inside extern "C": outside it, a wrong
 * signature silently becomes an overload that MailerQ never calls. MQ_EXPORT
 * on these declarations also exports the definitions under
 * -fvisibility=hidden. */

MQ_EXPORT int mq_version(void) MQ_NOEXCEPT;
MQ_EXPORT void mq_initialize(void) MQ_NOEXCEPT;
MQ_EXPORT void mq_cleanup(void) MQ_NOEXCEPT;
MQ_EXPORT void mq_context_initialize(MQ_Context *context) MQ_NOEXCEPT;
MQ_EXPORT void mq_context_cleanup(MQ_Context *context) MQ_NOEXCEPT;

/* SMTP callbacks: return false to decline (MailerQ moves on to the next
 * plugin), true to take control until MQ_continue/MQ_complete/MQ_retry. */
MQ_EXPORT bool mq_smtp_in_connect(MQ_Context *context, MQ_Connection *connection) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_in_secure(MQ_Context *context, MQ_Connection *connection) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_in_authenticate(MQ_Context *context, MQ_Connection *connection,
                                       const char *login, size_t loginsize,
                                       const char *password, size_t passwordsize) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_in_mailfrom(MQ_Context *context, MQ_Connection *connection,
                                   MQ_Address *address) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_in_rcptto(MQ_Context *context, MQ_Connection *connection,
                                 MQ_Address *address) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_in_data(MQ_Context *context, MQ_Connection *connection,
                               const char *mime, size_t size) MQ_NOEXCEPT;
/* Called once per recipient. */
MQ_EXPORT bool mq_smtp_in_message(MQ_Context *context, MQ_Connection *connection,
                                  MQ_Message *message) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_in_close(MQ_Context *context, MQ_Connection *connection) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_out_data(MQ_Context *context, MQ_Connection *connection,
                                MQ_Message *message) MQ_NOEXCEPT;
MQ_EXPORT bool mq_smtp_out_sent(MQ_Context *context, MQ_Connection *connection,
                                MQ_Message *message) MQ_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* MAILERQ_H */
