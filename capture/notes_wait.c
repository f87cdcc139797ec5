/*
 * notes_wait: the notes of poll, select and epoll on followed sockets: what
 * each ready socket means for the next call on it, and whether the wait
 * slept (the kernel's word: calls_wait.c) or returned at once.
 */
#include "notes.h"

#include <poll.h>
#include <string.h>
#include <sys/epoll.h>

#include "notebuf.h"
#include "notes_int.h"

/* What a wait's ready sockets mean, and whether it waited. */
void notes_wait(const struct syscall_facts *f, struct notebuf *n)
{
    const struct wait_facts *w = &f->wait;
    const char *sep = "";
    if (f->args[0]) { /* epoll_ctl */
        if (f->err)
            notebuf_add(n, "%s failed: %s", f->call, strerror(f->err));
        else if (f->option == EPOLL_CTL_DEL)
            notebuf_add(n, "epoll fd %d no longer watches fd %d", f->fd2, f->fd);
        else
            notebuf_add(n, "epoll fd %d watches fd %d from now on, for what its events name",
                        f->fd2, f->fd);
        return;
    }
    if (f->syscall[0] == 'e' && f->ret > 0) {
        /* What came, but not on which fd: the program's data says, and it is opaque. */
        notebuf_add(n,
                    "%lld of what epoll fd %d watches %s ready (epoll_wait says what, not "
                    "which fd)",
                    f->ret, f->fd2, f->ret == 1 ? "is" : "are");
        sep = "; ";
    }
    if (f->ret == 0 && w->timeout_ms == 0) {
        notebuf_add(n, "nothing ready; with timeout 0 %s does not wait", f->call);
        return;
    }
    if (f->ret == 0)
        notebuf_add(n, "nothing ready within the timeout");
    for (int i = 0; i < w->nfds && f->ret > 0 && f->syscall[0] != 'e'; i++) {
        int fd = w->fds[i].fd;
        unsigned r = w->fds[i].revents;
        bool fin_seen = w->fds[i].past & WAIT_FIN_SEEN;
        if (!r)
            continue;
        notebuf_add(n, "%s", sep);
        sep = "; ";
        if (r & POLLNVAL)
            notebuf_add(n, "fd %d is not open (POLLNVAL)", fd);
        else if (r & POLLERR)
            notebuf_add(n,
                        "fd %d has an error pending (POLLERR: a RST came, or a connect failed): "
                        "the next call on it fails with it",
                        fd);
        else if (r & POLLHUP)
            notebuf_add(n,
                        "fd %d is closed both ways (POLLHUP): a read returns what is left, then 0 "
                        "at once; it will never wait again",
                        fd);
        else if ((r & POLLIN) && (w->fds[i].past & WAIT_LISTENING))
            notebuf_add(n, "fd %d, listening, has a connection waiting: accept() takes it at once",
                        fd);
        else if ((r & POLLIN) && fin_seen)
            notebuf_add(n,
                        "fd %d is readable: a read will return 0 at once (the peer closed its "
                        "end, as an earlier receive showed)",
                        fd);
        else if (r & POLLRDHUP)
            notebuf_add(n,
                        "fd %d is readable and the peer closed its end (POLLRDHUP): a read "
                        "returns what is left, then 0 at once",
                        fd);
        else if ((r & POLLIN) && w->sets) /* select: an error makes it readable too */
            notebuf_add(n,
                        "fd %d is readable: data waits, the peer's FIN (a read returning 0), or "
                        "an error (a read failing)",
                        fd);
        else if (r & POLLIN)
            notebuf_add(n, "fd %d is readable: data waits, or the peer's FIN (a read returning 0)",
                        fd);
        else if ((r & POLLOUT) && w->sets)
            notebuf_add(
                n, "fd %d is writable: the send buffer has room, or an error (a write failing)",
                fd);
        else if (r & POLLOUT)
            notebuf_add(n, "fd %d is writable: the send buffer has room", fd);
        else if (r & POLLPRI)
            notebuf_add(n, "fd %d has urgent (out-of-band) data waiting", fd);
        else
            sep = "";
    }
    if (f->part != PART_WHOLE && f->part != PART_RESUMED)
        return;
    /* Whether it slept decides, when known: a slow tracer lengthens a call that never slept. */
    if (f->wait.slept == SLEPT_NO || (f->wait.slept == SLEPT_UNKNOWN && f->duration < 0.001))
        notebuf_add(n, "%sreturned at once", n->len ? "; " : "");
    else if (wait_waited(f) && f->duration >= 0.001)
        notebuf_add(n, "%swaited %.0f ms", n->len ? "; " : "", f->duration * 1e3);
    else if (wait_waited(f))
        notebuf_add(n, "%swaited %.1f ms", n->len ? "; " : "", f->duration * 1e3);
    else
        notebuf_add(n, "%sreturned after %.1f ms", n->len ? "; " : "", f->duration * 1e3);
}
