/*
 * fdcache: what each traced process's fds are (a TCP socket, another
 * socket, sigtrace's own output, anything else), remembered from the first
 * look in /proc until the fd is closed or replaced, so that a read or write
 * costs no procfs lookup after the first.
 *
 * Kept per process (thread group): threads share their fd table; a forked
 * child starts with a copy of its parent's (fdcache_copy), an exec drops
 * the table (close-on-exec fds go). An fd's kind changes only after it is
 * freed, by close, close_range, dup2 or dup3 onto it, or exec: the tracer
 * stops at each of these and forgets what they free (fdcache_forget). Only
 * open fds are remembered.
 */
#ifndef SIGTRACE_FDCACHE_H
#define SIGTRACE_FDCACHE_H

#include <sys/types.h>

enum fd_kind {
    FDK_UNKNOWN,      /* not remembered (or not open) */
    FDK_TCP,          /* a TCP socket */
    FDK_OTHER_SOCKET, /* a UDP, netlink ... socket */
    FDK_UNIX,         /* a UNIX socket: not followed, but it may hand TCP sockets over */
    FDK_OUTPUT,       /* sigtrace's own standard output */
    FDK_FILE,         /* anything else: a file, a pipe, a terminal */
};

struct fdcache;

struct fdcache *fdcache_new(void);
void fdcache_free(struct fdcache *c);

enum fd_kind fdcache_get(const struct fdcache *c, pid_t tgid, int fd);
/* Remember fd's kind (silently not, out of memory or for a very large fd: it is looked up again). */
void fdcache_set(struct fdcache *c, pid_t tgid, int fd, enum fd_kind kind);
/* Forget fds first to last of tgid. */
void fdcache_forget(struct fdcache *c, pid_t tgid, long first, long last);
/* Forget all of tgid's (exec, exit). */
void fdcache_drop(struct fdcache *c, pid_t tgid);
/* A new process (fork) has its parent's fds. */
void fdcache_copy(struct fdcache *c, pid_t from, pid_t to);

#endif
