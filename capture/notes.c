/*
 * notes: what each process event means, in plain words, from the event
 * alone: its facts, and the past sockets.c gave it (a send after a receive
 * returned 0 is a send to a peer that has closed; a send on a socket whose
 * connect failed has nothing to write to).
 */
#include "notes.h"

#include <errno.h>
#include <limits.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "notebuf.h"
#include "notes_int.h"

/* Notes for failures every call can have. 1 if the note is written. */
int notes_common_failure(const struct event *ev, struct notebuf *n)
{
    const struct syscall_facts *f = &ev->u.sys;
    if (f->err == EINTR) {
        notebuf_add(n, "interrupted by a signal: the call failed instead of going on (after a "
                       "handler installed without SA_RESTART; poll(), select() and epoll_wait() "
                       "fail so whatever the handler, and epoll_wait() even after a stop, a "
                       "tracer's too)");
        return 1;
    }
    /* A restart code shows only when a handler's own call is cut short while another waits. */
    if (is_restart_code(f->err)) {
        notebuf_add(
            n,
            "interrupted by a signal: after the signal is handled, the call is restarted or fails with EINTR");
        return 1;
    }
    switch (f->err) {
    case EAGAIN:
        notebuf_add(
            n,
            "it would have to wait, and the socket is non-blocking: try again when poll() says it is ready");
        return 1;
    case EBADF: notebuf_add(n, "fd %d is not open", f->fd); return 1;
    case ENOTSOCK: notebuf_add(n, "fd %d is not a socket", f->fd); return 1;
    case ENOTCONN:
        notebuf_add(n, "the socket is not connected: there is no peer to talk to");
        return 1;
    case ESPIPE:
        notebuf_add(n, "a socket has no file position: reading or writing at an offset (pread, "
                       "pwrite) fails with ESPIPE; recv and send are the calls for it");
        return 1;
    case EINVAL:
        if (strcmp(f->syscall, "tee") != 0)
            return 0;
        notebuf_add(n, "tee copies between pipes only: on a socket it fails with EINVAL (splice "
                       "moves data between a socket and a pipe)");
        return 1;
    }
    return 0;
}

/* sendmmsg, recvmmsg: the result counts messages, not bytes. */
static bool is_mmsg(const struct syscall_facts *f) { return strstr(f->syscall, "mmsg") != NULL; }

/* The call waits: neither the socket (O_NONBLOCK) nor the call (MSG_DONTWAIT) is non-blocking. */
static bool blocking(const struct syscall_facts *f)
{
    return !f->past.nonblocking && !(f->msg_flags & MSG_DONTWAIT);
}

/* After a send failed with EPIPE: what became of the SIGPIPE the kernel raises with it. */
static void explain_epipe_signal(const struct syscall_facts *f, struct notebuf *n)
{
    const struct pipe_past *p = &f->pipe;
    if (f->msg_flags & MSG_NOSIGNAL)
        notebuf_add(n, "; MSG_NOSIGNAL was given, so no SIGPIPE");
    else if (p->blocked)
        notebuf_add(n,
                    "; the kernel also raises SIGPIPE, which the process has blocked: it stays "
                    "pending until unblocked%s",
                    p->signalfd ? " or read from its signalfd" : "");
    else if (p->disposition == DISP_IGNORED)
        notebuf_add(n, "; the kernel also raises SIGPIPE, which the process ignores");
    else if (p->disposition == DISP_CAUGHT)
        notebuf_add(n, "; the kernel also raises SIGPIPE, and the process's handler runs");
    else
        notebuf_add(n, "; the kernel also raises SIGPIPE");
}

/* A call its process's end cut short (PART_NEVER): how the process ended while it ran. */
static void explain_never_returned(const struct syscall_facts *f, struct notebuf *n)
{
    const struct exit_facts *x = &f->ended;
    if (f->ended_by_exec)
        notebuf_add(n, "never returned: the process ran a new program (exec), which ends its "
                       "other threads, and this call with them");
    else if (x->signo)
        notebuf_add(n,
                    "never returned: the process was killed by %s while the call waited; every "
                    "thread of a process ends with it, whatever call it is in",
                    signal_name(x->signo));
    else
        notebuf_add(n,
                    "never returned: the process exited (code %d) while the call waited; "
                    "every thread of a process ends with it",
                    x->code);
}

/*
 * A closed socket another process still holds: "fd 4 closed; the socket
 * stays open: ...", or, in a close_range's note (in_range), "; fd 4's socket
 * stays open: ...".
 */
static void explain_held(const struct close_held *h, bool in_range, struct notebuf *n)
{
    char more[48] = "";
    if (h->holders > 1)
        snprintf(more, sizeof(more), " (and %d other process%s)", h->holders - 1,
                 h->holders > 2 ? "es" : "");
    if (in_range)
        notebuf_add(n, "; fd %d's socket stays open", h->fd);
    else
        notebuf_add(n, "fd %d closed; the socket stays open", h->fd);
    notebuf_add(n,
                ": pid %d (%s) still holds it, as fd %d%s: nothing is sent now; FIN (or RST) "
                "comes when the last holder closes it or exits",
                (int)h->holder, h->holder_name, h->holder_fd, more);
}

/* A receive on a followed socket: what came, or why nothing did. */
static void explain_receive(const struct event *ev, struct notebuf *n)
{
    const struct syscall_facts *f = &ev->u.sys;
    const struct sock_past *s = &f->past;
    if (f->ret == 0 && f->len != 0 && s->reset && !s->peer_closed) {
        notebuf_add(
            n, "end of stream, after the reset: the RST closed the socket both ways, and once its "
               "error (ECONNRESET) was reported, every receive returns 0 at once; this 0 does not "
               "mean the peer sent FIN");
    } else if (f->ret == 0 && f->len != 0) {
        if (s->peer_closed)
            notebuf_add(
                n,
                "end of stream again: the peer closed its end (FIN); every further receive returns 0 at once");
        else
            notebuf_add(
                n,
                "end of stream: the peer closed its end (FIN); every further receive returns 0 at once");
    } else if (f->err == ECONNRESET) {
        notebuf_add(n, "the peer reset the connection (RST): it closed with data unread or with "
                       "SO_LINGER zero, or our data came to a socket it had closed (the RST's "
                       "note says which)");
    } else if (f->err) {
        if (!notes_common_failure(ev, n))
            notebuf_add(n, "receive failed: %s", strerror(f->err));
    } else if (is_mmsg(f)) {
        notebuf_add(n, "%lld message%s arrived from the peer", f->ret, f->ret == 1 ? "" : "s");
        if (f->value_known)
            notebuf_add(n, ", %lld bytes in all", f->value);
    } else if (f->msg_flags & MSG_PEEK) {
        notebuf_add(
            n,
            "%lld bytes are waiting, looked at and left in place (MSG_PEEK): the next receive "
            "returns them again",
            f->ret);
    } else {
        notebuf_add(n, "%lld byte%s arrived from the peer", f->ret, f->ret == 1 ? "" : "s");
    }
}

static void explain_syscall(const struct event *ev, struct notebuf *n)
{
    const struct syscall_facts *f = &ev->u.sys;
    const struct sock_past *s = &f->past;
    char a[64], b[64], range[48];

    if (f->part == PART_NEVER) {
        explain_never_returned(f, n);
        return;
    }

    if (f->err && f->kind != CALL_SEND && f->kind != CALL_RECV && f->kind != CALL_CONNECT &&
        notes_common_failure(ev, n))
        return;
    switch (f->kind) {
    case CALL_SOCKET:
        if (f->err)
            notebuf_add(n, "no socket: %s", strerror(f->err));
        else {
            /* The tracer follows TCP sockets only. */
            notebuf_add(
                n, "a new TCP socket, fd %lld: an endpoint not yet bound or connected to anything",
                f->ret);
        }
        return;
    case CALL_BIND:
        if (f->err == EADDRINUSE)
            notebuf_add(
                n,
                "the address %s is taken: another socket holds it, or an old connection lingers on it "
                "(TIME_WAIT) and SO_REUSEADDR was not set",
                endpoint_str(&f->addr, a, sizeof(a)));
        else if (f->err == EACCES)
            notebuf_add(n, "not allowed: ports below 1024 need privileges");
        else if (f->err)
            notebuf_add(n, "bind failed: %s", strerror(f->err));
        else if (endpoint_is_any(&f->local))
            notebuf_add(
                n,
                "fd %d takes port %u on every local address: connections to that port will be "
                "for this socket once it listens",
                f->fd, f->local.port);
        else
            notebuf_add(n, "fd %d takes the address %s", f->fd,
                        endpoint_str(&f->local, a, sizeof(a)));
        return;
    case CALL_LISTEN:
        if (f->err) {
            notebuf_add(n, "listen failed: %s", strerror(f->err));
            return;
        }
        notebuf_add(
            n,
            "fd %d now takes connections on %s: the kernel completes each handshake by itself and "
            "queues the connection (backlog %lld) until accept() takes it",
            f->fd, endpoint_str(&f->local, a, sizeof(a)), f->len);
        return;
    case CALL_ACCEPT:
        if (f->err) {
            notebuf_add(n, "accept failed: %s", strerror(f->err));
            return;
        }
        notebuf_add(n,
                    "took a connection from %s out of the queue: fd %lld is that one connection, "
                    "fd %d goes on listening",
                    endpoint_str(&f->remote, a, sizeof(a)), f->ret, f->fd);
        return;
    case CALL_CONNECT:
        endpoint_str(&f->addr, a, sizeof(a));
        if (f->err == 0)
            /* The note goes with the return, which is shown after the packets it waited for. */
            notebuf_add(n,
                        "connected to %s from %s: connect() returned once the three-way handshake "
                        "(SYN, SYN-ACK, ACK) was done",
                        a, endpoint_str(&f->local, b, sizeof(b)));
        else if (f->err == ECONNREFUSED)
            notebuf_add(n, "refused: nothing listens at %s, so the answer to its SYN was a RST", a);
        else if (f->err == EINPROGRESS)
            notebuf_add(
                n,
                "the socket is non-blocking: the handshake with %s goes on in the background; "
                "poll() for writability, then SO_ERROR says how it ended",
                a);
        else if (f->err == ETIMEDOUT)
            notebuf_add(n, "no answer from %s: the SYNs went unanswered until the kernel gave up",
                        a);
        else if (!notes_common_failure(ev, n))
            notebuf_add(n, "connect to %s failed: %s", a, strerror(f->err));
        return;
    case CALL_SEND:
    case CALL_RECV:
        if (!f->err && (f->pass.n || f->pass.more)) {
            notes_pass(f, n);
            return;
        }
        if (f->kind == CALL_RECV) {
            explain_receive(ev, n);
            return;
        }
        if (f->err == EPIPE) {
            if (s->connect_failed)
                notebuf_add(n,
                            "this socket never connected (its connect failed), so it cannot send");
            else
                notebuf_add(
                    n,
                    "the connection is closed for writing: the peer reset it or we shut it down");
            explain_epipe_signal(f, n);
        } else if (f->err == ECONNRESET) {
            notebuf_add(n, "the peer reset the connection (RST): what was sent is lost");
        } else if (f->err) {
            if (!notes_common_failure(ev, n))
                notebuf_add(n, "send failed: %s", strerror(f->err));
        } else if (is_mmsg(f)) {
            notebuf_add(n, "%lld message%s handed to the kernel", f->ret, f->ret == 1 ? "" : "s");
            if (f->value_known)
                notebuf_add(n, ", %lld bytes in all", f->value);
            notebuf_add(n, ": success says they were queued, not that the peer has read them");
        } else if (s->peer_closed) {
            notebuf_add(
                n,
                "%lld byte%s accepted, but the peer has already closed its end (a receive returned "
                "0): if it is gone, its kernel answers with RST, and the next send fails with EPIPE",
                f->ret, f->ret == 1 ? "" : "s");
        } else if (f->len >= 0 && f->ret < f->len && blocking(f)) {
            notebuf_add(
                n,
                "only %lld of the %lld bytes were taken, and the socket blocks: a blocking send "
                "waits for room in the send buffer, so it returns early only when the connection "
                "failed while it waited (a RST came) or a signal interrupted it; the rest was not sent",
                f->ret, f->len);
        } else if (f->len >= 0 && f->ret < f->len) {
            notebuf_add(
                n,
                "only %lld of the %lld bytes were taken: the send buffer is full; the rest must be sent again",
                f->ret, f->len);
        } else {
            bool one = f->ret == 1;
            notebuf_add(n,
                        "%lld %s handed to the kernel, which sends %s: success says %s queued, "
                        "not that the peer has read %s",
                        f->ret, one ? "byte" : "bytes", one ? "it" : "them",
                        one ? "it was" : "they were", one ? "it" : "them");
        }
        return;
    case CALL_SHUTDOWN:
        if (f->err)
            notebuf_add(n, "shutdown failed: %s", strerror(f->err));
        else if (f->len == SHUT_WR)
            notebuf_add(
                n, "no more sending from this side: the kernel sends FIN; receiving still works");
        else if (f->len == SHUT_RD)
            notebuf_add(n, "no more receiving from this side; the peer is not told");
        else
            notebuf_add(n, "no more sending or receiving: the kernel sends FIN");
        return;
    case CALL_CLOSE:
        if (f->fd2 >= 0) /* close_range: "from 3 to 9", or "from 3 on" up to ~0U */
            snprintf(range, sizeof range, f->fd2 == INT_MAX ? "from %d on" : "from %d to %d", f->fd,
                     f->fd2);
        if (f->err)
            notebuf_add(n, "%s failed: %s", f->call, strerror(f->err));
        else if (f->fd2 >= 0 && (f->option & CLOSE_RANGE_CLOEXEC))
            notebuf_add(n,
                        "every fd %s is marked close-on-exec: nothing is closed now, an exec will "
                        "close them",
                        range);
        else if (f->fd2 >= 0) {
            notebuf_add(
                n, "every fd %s is closed at once: each socket among them is closed as by close()",
                range);
            for (int i = 0; i < f->nheld; i++)
                explain_held(&f->held[i], true, n);
            if (f->held_more)
                notebuf_add(n, "; and %d more socket%s that other processes still hold",
                            f->held_more, f->held_more == 1 ? "" : "s");
        } else if (s->others > 0)
            notebuf_add(
                n,
                "fd %d is closed, but %d other fd%s of this process still refer%s to the same socket "
                "(dup): nothing is sent; the connection ends when the last one is closed",
                f->fd, s->others, s->others == 1 ? "" : "s", s->others == 1 ? "s" : "");
        else if (f->nheld > 0)
            explain_held(&f->held[0], false, n);
        else if (s->passed)
            notes_close_passed(f, n);
        else if (s->listening)
            notebuf_add(
                n,
                "the listening socket is closed: connections queued and not accepted are reset, new ones refused");
        else if (s->linger_zero)
            notebuf_add(
                n,
                "fd %d is closed with SO_LINGER {on, 0 seconds}: an abortive close, the kernel "
                "sends RST instead of FIN and throws away whatever was not sent or read",
                f->fd);
        else
            notebuf_add(
                n,
                "fd %d is closed: if it was connected, the kernel sends FIN (RST instead, if received data "
                "was left unread)",
                f->fd);
        return;
    case CALL_DUP:
        if (f->err) {
            if (!notes_common_failure(ev, n))
                notebuf_add(n, "%s failed: %s", f->call, strerror(f->err));
            return;
        }
        notebuf_add(
            n,
            "fd %lld now refers to the same socket as fd %d: closing one of them sends nothing; "
            "the connection ends when the last is closed",
            f->ret, f->fd);
        return;
    case CALL_OPTION: notes_option(ev, n); return;
    case CALL_SIGNAL: notes_sigpipe_call(f, n); return;
    case CALL_WAIT: notes_wait(f, n); return;
    case CALL_OWN_ARGS: return;
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

static void explain_signal(const struct event *ev, struct notebuf *n)
{
    const struct signal_facts *s = &ev->u.sig;
    int pipe = s->signo == SIGPIPE;
    switch (s->disposition) {
    case DISP_IGNORED:
        if (pipe)
            notebuf_add(
                n,
                "ignored (SIG_IGN): nothing happens, the failed write just returns EPIPE; the tracer "
                "sees the signal only because ptrace reports every signal, even ignored ones");
        else
            notebuf_add(
                n,
                "ignored (SIG_IGN): it has no effect; the tracer sees it only because ptrace reports "
                "every signal, even ignored ones");
        break;
    case DISP_CAUGHT:
        notebuf_add(n, "caught: the process's handler runs, then the process goes on where it was");
        if (pipe)
            notebuf_add(n, " (the failed write returns EPIPE)");
        break;
    case DISP_DEFAULT: notebuf_add(n, "default action: %s", default_action_words[s->action]); break;
    }
    if (s->sender)
        notebuf_add(n, "; sent by %s (pid %d) with kill()",
                    s->sender_name[0] ? s->sender_name : "another process", (int)s->sender);
    else if (s->after_epipe)
        notebuf_add(n, "; raised by the kernel because the write failed with EPIPE");
    else if (s->was_blocked)
        notebuf_add(n,
                    "; raised by the kernel when an earlier write failed with EPIPE while SIGPIPE "
                    "was blocked, delivered now that it is unblocked");
}

static void explain_exit(const struct event *ev, struct notebuf *n)
{
    const struct exit_facts *x = &ev->u.exit;
    if (x->signo == SIGPIPE && x->sender)
        notebuf_add(n,
                    "killed by SIGPIPE, which %s (pid %d) sent with kill(): no write of its own "
                    "failed; SIGPIPE's default action is to terminate (a shell reports status 141)",
                    x->sender_name[0] ? x->sender_name : "another process", (int)x->sender);
    else if (x->signo == SIGPIPE)
        notebuf_add(
            n,
            "killed by SIGPIPE: a write failed with EPIPE (the connection was closed for writing, "
            "or never connected), and it neither ignored nor caught SIGPIPE, whose default action "
            "is to terminate (a shell reports status 141)");
    else if (x->signo == SIGKILL)
        notebuf_add(
            n,
            "killed by SIGKILL, which can be neither caught nor ignored (a shell reports status 137)");
    else if (x->signo)
        notebuf_add(n, "killed by %s, by its default action%s (a shell reports status %d)",
                    signal_name(x->signo), x->core ? ", with a core dump" : "", 128 + x->signo);
    else if (x->code == 0)
        notebuf_add(n, "exited normally (code 0)");
    else if (x->code == 127)
        notebuf_add(n, "exited with code 127: the command was not found");
    else if (x->code == 126)
        notebuf_add(n, "exited with code 126: the command could not be run");
    else
        notebuf_add(n, "exited with code %d", x->code);
}

/* How often a repeat came: more than BUSY_RATE a second is a busy loop. */
#define BUSY_RATE 1000
/* ... and for a loop whose waits return at once, more than WAIT_BUSY_RATE. */
#define WAIT_BUSY_RATE 100

static void explain_repeat(const struct event *ev, struct notebuf *n)
{
    const struct repeat_facts *r = &ev->u.rep;
    double span = ts_diff(&r->last, &r->first);
    if (!r->calls_return || span <= 0)
        return;
    /*
     * A loop with a wait in it (poll) spins when the wait returns at once turn
     * after turn: that is seen, whatever the pace the tracer's stops and the
     * machine's load allow it (WAIT_BUSY_RATE keeps out a slow loop on a busy
     * machine that just happens to find work every turn). It does not spin
     * when its waits waited, most turns (one at once here and there is a slow
     * turn, not a spin). A loop without one spins when it is fast.
     */
    if (r->waits ? r->waits_blocked * 10 >= r->waits || r->count[0] / span <= WAIT_BUSY_RATE
                 : r->count[0] / span <= BUSY_RATE)
        return;
    const char *wait = NULL;
    for (int i = 0; i < r->period && !wait; i++)
        if (r->pattern[i]->type == EV_SYSCALL && r->pattern[i]->u.sys.kind == CALL_WAIT)
            wait = r->pattern[i]->u.sys.call;
    if (wait)
        notebuf_add(n,
                    "a busy loop: its %s returns at once every turn, so it uses all the CPU it "
                    "gets",
                    wait);
    else
        notebuf_add(n, "a busy loop: nothing in it waits, so it uses all the CPU it gets");
}

void notes_explain(struct event *ev)
{
    struct notebuf note = notebuf_at(ev->note, sizeof ev->note), *n = &note;
    switch (ev->type) {
    case EV_SYSCALL: explain_syscall(ev, n); break;
    case EV_SIGNAL: explain_signal(ev, n); break;
    case EV_EXIT: explain_exit(ev, n); break;
    case EV_EXEC:
        notebuf_add(n, "starts running %s", ev->u.exec.path);
        if (ev->u.exec.sigpipe_ignored)
            notebuf_add(n, "; SIGPIPE starts ignored, inherited (an ignored signal stays ignored "
                           "across exec): a write to a closed connection will fail with EPIPE, "
                           "and nothing kills it");
        if (ev->u.exec.sigpipe_blocked)
            notebuf_add(n, "; SIGPIPE starts blocked, inherited (the signal mask is kept across "
                           "exec)");
        break;
    case EV_VERDICT: notebuf_add(n, "the scenario's verdict"); break;
    case EV_REPEAT: explain_repeat(ev, n); break;
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
