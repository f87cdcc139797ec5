/*
 * trace_fds: what a traced process's descriptors are, for trace.c's stops:
 * each one's kind (a TCP socket, another socket, sigtrace's own output, a
 * file), remembered until a call frees it; at a close, which other traced
 * processes hold the same socket (then the close sends nothing); and the
 * sockets handed from process to process over UNIX sockets (SCM_RIGHTS).
 */
#include <linux/close_range.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "procfs.h"
#include "trace_int.h"

/* --- what a descriptor is ------------------------------------------------------ */

/* What fd of p is, remembered or looked up; FDK_UNKNOWN if it is not open. */
enum fd_kind trace_fd_kind(struct tracer *t, const struct proc *p, int fd)
{
    enum fd_kind k = fdcache_get(t->fds, p->tgid, fd);
    struct stat st;
    if (k != FDK_UNKNOWN || fd < 0 || procfs_fd_stat(p->tid, fd, &st) < 0)
        return k;
    if (S_ISSOCK(st.st_mode))
        k = !procfs_fd_other_socket(p->tid, fd) ? FDK_TCP
            : procfs_fd_unix_socket(p->tid, fd) ? FDK_UNIX
                                                : FDK_OTHER_SOCKET;
    else if (t->out_known && st.st_dev == t->out_dev && st.st_ino == t->out_ino)
        k = FDK_OUTPUT;
    else
        k = FDK_FILE;
    fdcache_set(t->fds, p->tgid, fd, k);
    return k;
}

/* The fds a call frees, forgotten before it runs (whether or not the tracer follows it). */
void trace_forget_freed(struct tracer *t, const struct proc *p, unsigned long nr,
                        const uint64_t args[6])
{
    switch (nr) {
    case SYS_close: fdcache_forget(t->fds, p->tgid, (int)args[0], (int)args[0]); break;
#ifdef SYS_dup2
    case SYS_dup2:
#endif
    case SYS_dup3: fdcache_forget(t->fds, p->tgid, (int)args[1], (int)args[1]); break;
    case SYS_close_range:
        fdcache_forget(t->fds, p->tgid, (long)(unsigned)args[0],
                       args[1] > 0x7fffffffULL ? 0x7fffffffL : (long)args[1]);
        break;
    default: break;
    }
}

bool trace_is_socket(enum fd_kind k)
{
    return k == FDK_TCP || k == FDK_OTHER_SOCKET || k == FDK_UNIX;
}

/* --- a close: who else holds the socket ----------------------------------------- */

/*
 * fd, a TCP socket of p's, about to be closed: which other traced processes
 * hold the same socket (a forked child, a parent)? Each process is looked
 * at once, in /proc/PID/fd; while one holds it, closing sends nothing.
 * Returns whether one does, with h filled.
 */
static bool find_holders(struct tracer *t, const struct proc *p, int fd, struct close_held *h)
{
    unsigned long inode;
    memset(h, 0, sizeof(*h));
    h->fd = fd;
    if (procfs_fd_socket(p->tid, fd, &inode) != 1)
        return false;
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct proc *q = &t->procs[i];
        bool seen = q->tgid == p->tgid;
        for (size_t j = 0; j < i && !seen; j++)
            seen = t->procs[j].tgid == q->tgid;
        int held = seen ? -1 : procfs_socket_fd(q->tgid, inode);
        if (held < 0)
            continue;
        if (h->holders++ == 0) {
            h->holder = q->tgid;
            h->holder_fd = held;
            memcpy(h->holder_name, q->comm, sizeof(h->holder_name));
        }
    }
    return h->holders > 0;
}

/* A socket of p's being closed: if other processes hold it, one more of f's held sockets. */
static void add_held(struct tracer *t, const struct proc *p, int fd, struct syscall_facts *f)
{
    struct close_held h;
    if (!find_holders(t, p, fd, &h))
        return;
    if (f->nheld < CLOSE_HELD_MAX)
        f->held[f->nheld++] = h;
    else
        f->held_more++;
}

/*
 * A close or close_range of p's at its entry: the TCP sockets it closes
 * (close_range's: those of p's in its range, of the first PROCFS_FDS_MAX
 * fds /proc lists), each looked at as close() looks at its one.
 */
void trace_find_closed_held(struct tracer *t, const struct proc *p, const struct call_def *def,
                            const uint64_t args[6], struct syscall_facts *f)
{
    int fds[PROCFS_FDS_MAX];
    unsigned long inodes[PROCFS_FDS_MAX];
    f->nheld = f->held_more = 0;
    if (!def->no_fd) {
        add_held(t, p, (int)args[0], f);
        return;
    }
    if (args[2] & CLOSE_RANGE_CLOEXEC) /* marks them close-on-exec, closes none */
        return;
    size_t n = procfs_tcp_fds(p->tid, fds, inodes, PROCFS_FDS_MAX);
    for (size_t i = 0; i < n; i++)
        if ((uint64_t)fds[i] >= args[0] && (uint64_t)fds[i] <= args[1])
            add_held(t, p, fds[i], f);
}

/* --- sockets handed over: SCM_RIGHTS ------------------------------------------ */

bool trace_is_msg_call(unsigned long nr)
{
    return nr == SYS_sendmsg || nr == SYS_recvmsg || nr == SYS_sendmmsg || nr == SYS_recvmmsg;
}

bool trace_is_mmsg_call(unsigned long nr) { return nr == SYS_sendmmsg || nr == SYS_recvmmsg; }

/* p hands over the followed sockets in pass: remembered for their receiver. */
void trace_handed_add(struct tracer *t, const struct proc *p, const struct pass_facts *pass)
{
    for (int i = 0; i < pass->n; i++) {
        struct handed *h = &t->handed[t->nhanded++ % HANDED_MAX];
        h->inode = pass->fds[i].inode;
        h->pid = p->tgid;
        h->fd = pass->fds[i].fd;
        memcpy(h->comm, p->comm, sizeof(h->comm));
    }
}

/* The latest hand-over of the socket with this inode, or NULL. */
static struct handed *handed_find(struct tracer *t, unsigned long inode)
{
    size_t kept = t->nhanded < HANDED_MAX ? t->nhanded : HANDED_MAX;
    for (size_t i = 1; i <= kept; i++) {
        struct handed *h = &t->handed[(t->nhanded - i) % HANDED_MAX];
        if (h->inode == inode)
            return h;
    }
    return NULL;
}

/* p's send of pass failed: nothing was handed over. */
void trace_handed_undo(struct tracer *t, const struct proc *p, const struct pass_facts *pass)
{
    for (int i = 0; i < pass->n; i++) {
        struct handed *h = handed_find(t, pass->fds[i].inode);
        if (h && h->pid == p->tgid)
            h->inode = 0;
    }
}

/*
 * A receive on a UNIX socket returned: the followed sockets it brought, by
 * whom they were passed where the tracer saw it, and their new fds known as
 * TCP sockets. False if it brought none: it is not told.
 */
bool trace_received_sockets(struct tracer *t, struct proc *p, int64_t rval, int is_error)
{
    struct syscall_facts *f = &p->facts;
    uint64_t nmsgs = is_error || rval < 0                            ? 0
                     : trace_is_mmsg_call((unsigned long)p->def->nr) ? (uint64_t)rval
                                                                     : 1;
    if (!calls_peek_rights(p->tid, p->args, trace_is_mmsg_call((unsigned long)p->def->nr), nmsgs,
                           &f->pass))
        return false;
    for (int i = 0; i < f->pass.n; i++) {
        struct pass_fd *r = &f->pass.fds[i];
        const struct handed *h = handed_find(t, r->inode);
        fdcache_set(t->fds, p->tgid, r->fd, FDK_TCP);
        if (h) {
            r->by = h->pid;
            r->by_fd = h->fd;
            memcpy(r->by_name, h->comm, sizeof(r->by_name));
        }
    }
    return true;
}
