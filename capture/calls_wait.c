/*
 * calls_wait: the decoders of the calls that wait until sockets are ready
 * (poll, ppoll). Of the pollfd array, only the entries whose fd is a
 * followed (TCP) socket are kept, what they ask for at the entry and what
 * came at the exit; the others are counted. The array is read once at each
 * end, at most WAIT_READ_MAX entries; what lies beyond is counted as well.
 */
#include <poll.h>
#include <sys/stat.h>
#include <time.h>

#include "calls_int.h"
#include "procfs.h"

/* fd of tid is a TCP socket. */
static bool is_tcp(pid_t tid, int fd)
{
    struct stat st;
    return fd >= 0 && procfs_fd_stat(tid, fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
           !procfs_fd_other_socket(tid, fd);
}

/* The first entries of the pollfd array at addr (nfds of them): how many could be read. */
static size_t peek_pollfds(pid_t tid, uint64_t addr, uint64_t nfds, struct pollfd *p)
{
    if (nfds > WAIT_READ_MAX)
        nfds = WAIT_READ_MAX;
    return calls_peek(tid, addr, p, (size_t)nfds * sizeof(*p)) / sizeof(*p);
}

/* poll and ppoll are followed when one of their fds is a TCP socket. */
bool want_poll(pid_t tid, const uint64_t args[6])
{
    struct pollfd p[WAIT_READ_MAX];
    size_t n = peek_pollfds(tid, args[0], args[1], p);
    for (size_t i = 0; i < n; i++)
        if (is_tcp(tid, p[i].fd))
            return true;
    return false;
}

/* poll(fds, nfds, timeout), ppoll(fds, nfds, tmo_p, sigmask, sigsetsize). */
ENTRY(poll)
{
    struct pollfd p[WAIT_READ_MAX];
    struct wait_facts *w = &f->wait;
    size_t n = peek_pollfds(tid, args[0], args[1], p);
    w->more = args[1] > n ? (int)(args[1] - n > 0x7fffffff ? 0x7fffffff : args[1] - n) : 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_tcp(tid, p[i].fd))
            w->others++;
        else if (w->nfds < WAIT_FDS_MAX)
            w->fds[w->nfds++] = (struct wait_fd){ p[i].fd, (uint16_t)p[i].events, 0, 0 };
        else
            w->more++;
    }
    f->fd = w->nfds ? w->fds[0].fd : -1;
    f->len = (long long)args[1];
    if (f->syscall[0] == 'p' && f->syscall[1] == 'p') { /* ppoll: a timespec, or NULL */
        struct timespec ts;
        if (!args[2])
            w->timeout_ms = -1;
        else if (calls_peek(tid, args[2], &ts, sizeof ts) == sizeof ts)
            w->timeout_ms = (long long)ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000; /* up */
        else
            w->timeout_ms = -2; /* unreadable */
    } else {
        w->timeout_ms = (int)args[2] < 0 ? -1 : (int)args[2];
    }
}

/* What came: the revents of the followed sockets, as the kernel wrote them. */
EXIT(poll)
{
    struct pollfd p[WAIT_READ_MAX];
    struct wait_facts *w = &f->wait;
    if (f->ret <= 0)
        return;
    size_t n = peek_pollfds(tid, args[0], args[1], p);
    for (int k = 0; k < w->nfds; k++)
        for (size_t i = 0; i < n; i++)
            if (p[i].fd == w->fds[k].fd) {
                w->fds[k].revents = (uint16_t)p[i].revents;
                break;
            }
}
