/*
 * notes_option: the notes of calls that change how a socket behaves later
 * rather than move anything now: socket options (SO_LINGER, SO_ERROR, ...),
 * fcntl's O_NONBLOCK, and SIGPIPE's disposition, mask and signalfd.
 */
#include "notes.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "notebuf.h"
#include "notes_int.h"

/* What an option set (or read) means for the connection. */
void notes_option(const struct event *ev, struct notebuf *n)
{
    const struct syscall_facts *f = &ev->u.sys;
    bool set = strcmp(f->syscall, "getsockopt") != 0;
    if (f->err) {
        if (!notes_common_failure(ev, n))
            notebuf_add(n, "%s failed: %s", f->syscall, strerror(f->err));
        return;
    }
    if (f->option_level < 0) { /* fcntl F_SETFL */
        if (f->value & O_NONBLOCK)
            notebuf_add(
                n, "fd %d is non-blocking now: a call that would wait fails with EAGAIN instead",
                f->fd);
        else
            notebuf_add(n, "fd %d blocks now: a call waits until it can be done", f->fd);
        return;
    }
    if (!f->value_known) {
        notebuf_add(n, "the option's value could not be read");
        return;
    }
    if (f->option_level == SOL_SOCKET) {
        switch (f->option) {
        case SO_LINGER:
            if (!f->value)
                notebuf_add(n,
                            "SO_LINGER off: close() returns at once, and the kernel sends what is "
                            "left, then FIN, in the background");
            else if (!f->value2)
                notebuf_add(n, "SO_LINGER on with 0 seconds: close() will abort the connection, "
                               "sending RST instead of FIN and throwing away unsent data");
            else
                notebuf_add(n,
                            "SO_LINGER on with %lld s: close() waits up to that long for what "
                            "is left to be sent and acknowledged",
                            f->value2);
            return;
        case SO_ERROR:
            if (f->value == 0)
                notebuf_add(
                    n, "no error pending on the socket%s",
                    set ? ""
                        : ": a non-blocking connect() that poll() reported done has succeeded");
            else
                notebuf_add(n, "the socket's pending error, now read and cleared: %s (%s)%s",
                            errno_name((int)f->value), strerror((int)f->value),
                            f->value == ECONNREFUSED
                                ? "; a non-blocking connect() ended this way: nothing listened"
                                : "");
            return;
        case SO_KEEPALIVE:
            notebuf_add(n, "keep-alive %s: %s", f->value ? "on" : "off",
                        f->value ? "after a long silence the kernel probes the peer, and a "
                                   "peer that does not answer makes the next call fail"
                                 : "a silent peer that is gone is never noticed until a send");
            return;
        case SO_SNDBUF:
        case SO_RCVBUF:
            notebuf_add(n, "the %s buffer %s %lld bytes%s",
                        f->option == SO_SNDBUF ? "send" : "receive", set ? "asked for:" : "is",
                        f->value, set ? " (Linux doubles the value for its own bookkeeping)" : "");
            return;
        }
    }
    if (f->option_level == IPPROTO_TCP && f->option == TCP_NODELAY) {
        notebuf_add(n, "Nagle's algorithm %s: small writes %s", f->value ? "off" : "on",
                    f->value ? "go out at once" : "may wait for the previous one's ACK");
        return;
    }
    notebuf_add(n, "%s done", f->syscall);
}

/* sigaction, sigprocmask and signalfd, where they concern SIGPIPE. */
void notes_sigpipe_call(const struct syscall_facts *f, struct notebuf *n)
{
    if (f->err) {
        notebuf_add(n, "%s failed: %s", f->syscall, strerror(f->err));
        return;
    }
    if (!strcmp(f->syscall, "rt_sigaction")) {
        if (!f->value_known)
            notebuf_add(n, "SIGPIPE's disposition changes (the new one could not be read)");
        else if (f->value == (long long)(uintptr_t)SIG_IGN)
            notebuf_add(n, "from now on SIGPIPE is ignored: a write to a closed connection just "
                           "fails with EPIPE (ignoring is kept across exec)");
        else if (f->value == (long long)(uintptr_t)SIG_DFL)
            notebuf_add(n, "from now on SIGPIPE has its default action: a write to a closed "
                           "connection kills the process");
        else
            notebuf_add(n, "from now on SIGPIPE runs the process's handler: a write to a closed "
                           "connection fails with EPIPE after the handler returns (an exec resets "
                           "a handler to the default)");
    } else if (!strcmp(f->syscall, "rt_sigprocmask")) {
        bool blocks = f->option == SIG_BLOCK || (f->option == SIG_SETMASK && f->value2);
        if (blocks)
            notebuf_add(n, "SIGPIPE is blocked from now on: a failed write's SIGPIPE waits, "
                           "pending, until it is unblocked (the mask is kept across exec)");
        else
            notebuf_add(n, "SIGPIPE is unblocked: one that was pending is delivered now");
    } else {
        notebuf_add(n, "a signalfd for SIGPIPE: while SIGPIPE is blocked, a pending one is read "
                       "from the fd instead of being delivered");
    }
}
