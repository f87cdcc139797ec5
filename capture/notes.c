/*
 * notes: what each process event means, in plain words, from the event
 * alone: its facts, and the past sockets.c gave it (a send after a receive
 * returned 0 is a send to a peer that has closed; a send on a socket whose
 * connect failed has nothing to write to).
 */
#include "notes.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void say(struct event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct event *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->note, sizeof(ev->note), fmt, ap);
    va_end(ap);
}

/* Append to the note. */
static void add(struct event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct event *ev, const char *fmt, ...)
{
    size_t used = strlen(ev->note);
    if (used + 1 >= sizeof(ev->note))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->note + used, sizeof(ev->note) - used, fmt, ap);
    va_end(ap);
}

static int interrupted(int err) { return err == EINTR || is_restart_code(err); }

/* Notes for failures every call can have. 1 if the note is written. */
static int common_failure(struct event *ev)
{
    const struct syscall_facts *f = &ev->u.sys;
    if (interrupted(f->err)) {
        say(ev,
            "interrupted by a signal: after the signal is handled, the call is restarted or fails with EINTR");
        return 1;
    }
    switch (f->err) {
    case EAGAIN:
        say(ev,
            "it would have to wait, and the socket is non-blocking: try again when poll() says it is ready");
        return 1;
    case EBADF: say(ev, "fd %d is not open", f->fd); return 1;
    case ENOTSOCK: say(ev, "fd %d is not a socket", f->fd); return 1;
    case ENOTCONN: say(ev, "the socket is not connected: there is no peer to talk to"); return 1;
    }
    return 0;
}

static void explain_syscall(struct event *ev)
{
    const struct syscall_facts *f = &ev->u.sys;
    const struct sock_past *s = &f->past;
    char a[64], b[64];

    if (f->err && f->kind != CALL_SEND && f->kind != CALL_RECV && f->kind != CALL_CONNECT &&
        common_failure(ev))
        return;
    switch (f->kind) {
    case CALL_SOCKET:
        if (f->err)
            say(ev, "no socket: %s", strerror(f->err));
        else {
            /* The tracer follows TCP sockets only. */
            say(ev, "a new TCP socket, fd %lld: an endpoint not yet bound or connected to anything",
                f->ret);
        }
        return;
    case CALL_BIND:
        if (f->err == EADDRINUSE)
            say(ev,
                "the address %s is taken: another socket holds it, or an old connection lingers on it "
                "(TIME_WAIT) and SO_REUSEADDR was not set",
                endpoint_str(&f->addr, a, sizeof(a)));
        else if (f->err == EACCES)
            say(ev, "not allowed: ports below 1024 need privileges");
        else if (f->err)
            say(ev, "bind failed: %s", strerror(f->err));
        else if (endpoint_is_any(&f->local))
            say(ev,
                "fd %d takes port %u on every local address: connections to that port will be "
                "for this socket once it listens",
                f->fd, f->local.port);
        else
            say(ev, "fd %d takes the address %s", f->fd, endpoint_str(&f->local, a, sizeof(a)));
        return;
    case CALL_LISTEN:
        if (f->err) {
            say(ev, "listen failed: %s", strerror(f->err));
            return;
        }
        say(ev,
            "fd %d now takes connections on %s: the kernel completes each handshake by itself and "
            "queues the connection (backlog %lld) until accept() takes it",
            f->fd, endpoint_str(&f->local, a, sizeof(a)), f->len);
        return;
    case CALL_ACCEPT:
        if (f->err) {
            say(ev, "accept failed: %s", strerror(f->err));
            return;
        }
        say(ev,
            "took a connection from %s out of the queue: fd %lld is that one connection, "
            "fd %d goes on listening",
            endpoint_str(&f->remote, a, sizeof(a)), f->ret, f->fd);
        return;
    case CALL_CONNECT:
        endpoint_str(&f->addr, a, sizeof(a));
        if (f->err == 0)
            /* The call is shown where it started, before its packets: say so. */
            say(ev,
                "connected to %s from %s: connect() returned once the three-way handshake that "
                "follows (SYN, SYN-ACK, ACK) was done",
                a, endpoint_str(&f->local, b, sizeof(b)));
        else if (f->err == ECONNREFUSED)
            say(ev,
                "refused: nothing listens at %s, so the answer to the SYN that follows was a RST",
                a);
        else if (f->err == EINPROGRESS)
            say(ev,
                "the socket is non-blocking: the handshake with %s goes on in the background; "
                "poll() for writability, then SO_ERROR says how it ended",
                a);
        else if (f->err == ETIMEDOUT)
            say(ev, "no answer from %s: the SYNs went unanswered until the kernel gave up", a);
        else if (!common_failure(ev))
            say(ev, "connect to %s failed: %s", a, strerror(f->err));
        return;
    case CALL_SEND:
        if (f->err == EPIPE) {
            if (s->connect_failed)
                say(ev, "this socket never connected (its connect failed), so it cannot send");
            else
                say(ev,
                    "the connection is closed for writing: the peer reset it or we shut it down");
            if (f->msg_flags & MSG_NOSIGNAL)
                add(ev, "; MSG_NOSIGNAL was given, so no SIGPIPE");
            else
                add(ev, "; the kernel also raises SIGPIPE");
        } else if (f->err == ECONNRESET) {
            say(ev, "the peer reset the connection (RST): what was sent is lost");
        } else if (f->err) {
            if (!common_failure(ev))
                say(ev, "send failed: %s", strerror(f->err));
        } else if (s->peer_closed) {
            say(ev,
                "%lld bytes accepted, but the peer has already closed its end (a receive returned 0): "
                "if it is gone, its kernel answers with RST, and the next send fails with EPIPE",
                f->ret);
        } else if (f->len >= 0 && f->ret < f->len) {
            say(ev,
                "only %lld of the %lld bytes were taken: the send buffer is full; the rest must be sent again",
                f->ret, f->len);
        } else {
            say(ev,
                "%lld bytes handed to the kernel, which sends them: success says they were queued, "
                "not that the peer has read them",
                f->ret);
        }
        return;
    case CALL_RECV:
        if (f->ret == 0 && f->len != 0) {
            if (s->peer_closed)
                say(ev,
                    "end of stream again: the peer closed its end (FIN); every further receive returns 0 at once");
            else
                say(ev,
                    "end of stream: the peer closed its end (FIN); every further receive returns 0 at once");
        } else if (f->err == ECONNRESET) {
            say(ev,
                "the peer reset the connection (RST): it closed with data unread, or was gone when our data came");
        } else if (f->err) {
            if (!common_failure(ev))
                say(ev, "receive failed: %s", strerror(f->err));
        } else {
            say(ev, "%lld bytes arrived from the peer", f->ret);
        }
        return;
    case CALL_SHUTDOWN:
        if (f->err)
            say(ev, "shutdown failed: %s", strerror(f->err));
        else if (f->len == SHUT_WR)
            say(ev, "no more sending from this side: the kernel sends FIN; receiving still works");
        else if (f->len == SHUT_RD)
            say(ev, "no more receiving from this side; the peer is not told");
        else
            say(ev, "no more sending or receiving: the kernel sends FIN");
        return;
    case CALL_CLOSE:
        if (f->err)
            say(ev, "close failed: %s", strerror(f->err));
        else if (s->listening)
            say(ev,
                "the listening socket is closed: connections queued and not accepted are reset, new ones refused");
        else
            say(ev,
                "fd %d is closed: if it was connected, the kernel sends FIN (RST instead, if received data "
                "was left unread)",
                f->fd);
        return;
    }
}

/* What each default action does, by enum sig_action. */
static const char *const default_action_words[] = {
    [ACT_TERMINATE] = "terminate the process",
    [ACT_CORE] = "terminate the process and dump core",
    [ACT_IGNORE] = "ignore it",
    [ACT_STOP] = "stop the process until a SIGCONT",
    [ACT_CONTINUE] = "continue the process if it was stopped",
};

static void explain_signal(struct event *ev)
{
    const struct signal_facts *s = &ev->u.sig;
    int pipe = s->signo == SIGPIPE;
    switch (s->disposition) {
    case DISP_IGNORED:
        if (pipe)
            say(ev,
                "ignored (SIG_IGN): nothing happens, the failed write just returns EPIPE; the tracer "
                "sees the signal only because ptrace reports every signal, even ignored ones");
        else
            say(ev,
                "ignored (SIG_IGN): it has no effect; the tracer sees it only because ptrace reports "
                "every signal, even ignored ones");
        break;
    case DISP_CAUGHT:
        say(ev, "caught: the process's handler runs, then the process goes on where it was");
        if (pipe)
            add(ev, " (the failed write returns EPIPE)");
        break;
    case DISP_DEFAULT: say(ev, "default action: %s", default_action_words[s->action]); break;
    }
    if (s->sender)
        add(ev, "; sent by %s (pid %d) with kill()",
            s->sender_name[0] ? s->sender_name : "another process", (int)s->sender);
    else if (s->after_epipe)
        add(ev, "; raised by the kernel because the write failed with EPIPE");
}

static void explain_exit(struct event *ev)
{
    const struct exit_facts *x = &ev->u.exit;
    if (x->signo == SIGPIPE)
        say(ev,
            "killed by SIGPIPE: it wrote to a connection closed for writing, and neither ignored nor "
            "caught SIGPIPE, whose default action is to terminate (a shell reports status 141)");
    else if (x->signo == SIGKILL)
        say(ev,
            "killed by SIGKILL, which can be neither caught nor ignored (a shell reports status 137)");
    else if (x->signo)
        say(ev, "killed by %s, by its default action%s (a shell reports status %d)",
            signal_name(x->signo), x->core ? ", with a core dump" : "", 128 + x->signo);
    else if (x->code == 0)
        say(ev, "exited normally (code 0)");
    else if (x->code == 127)
        say(ev, "exited with code 127: the command was not found");
    else if (x->code == 126)
        say(ev, "exited with code 126: the command could not be run");
    else
        say(ev, "exited with code %d", x->code);
}

/* How often a repeat came: more than BUSY_RATE a second is a busy loop. */
#define BUSY_RATE 1000

static void explain_repeat(struct event *ev)
{
    const struct repeat_facts *r = &ev->u.rep;
    double span = ts_diff(&r->last, &r->first);
    if (r->calls_return && span > 0 && r->count[0] / span > BUSY_RATE)
        say(ev, "a busy loop: nothing in it waits, so it uses all the CPU it gets");
}

void notes_explain(struct event *ev)
{
    switch (ev->type) {
    case EV_SYSCALL: explain_syscall(ev); break;
    case EV_SIGNAL: explain_signal(ev); break;
    case EV_EXIT: explain_exit(ev); break;
    case EV_EXEC: say(ev, "starts running %s", ev->u.exec.path); break;
    case EV_VERDICT: say(ev, "the scenario's verdict"); break;
    case EV_REPEAT: explain_repeat(ev); break;
    default: break;
    }
}

void notes_flood(const char *who, double per_second, long long bytes, char *buf, size_t len)
{
    char pace[64] = "in a loop, faster than anyone reads";
    if (per_second > 0)
        snprintf(pace, sizeof(pace), "%.0f times a second (%.0f kB/s)", per_second,
                 per_second * (double)bytes / 1000);
    snprintf(
        buf, len,
        "warning: %s writes to this output %s, between these lines: redirect its output to a file (> FILE), or read the timeline from sigtrace -o FILE",
        who, pace);
}
