/*
 * calls: the system calls the tracer follows, one row each with its entry
 * and exit decoders (as strace's syscall table gives each call its own
 * SYS_FUNC), and the reading of the tracee's memory they need. A decoder
 * fills struct syscall_facts from the call's arguments and result; it never
 * decides what the call means (notes.c does). The decoders live by family:
 * calls_socket.c, calls_data.c, calls_fd.c and calls_signal.c.
 */
#include "calls.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "calls_int.h"
#include "procfs.h"
#include "vocab.h"

/* --- reading the tracee's memory --------------------------------------------- */

size_t calls_peek(pid_t tid, uint64_t addr, void *buf, size_t len)
{
    if (!addr || !len)
        return 0;
    struct iovec local = { buf, len };
    struct iovec remote = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
    return n < 0 ? 0 : (size_t)n;
}

uint32_t calls_peek_iov(pid_t tid, uint64_t iov_addr, uint64_t iovcnt, uint64_t limit, uint8_t *out,
                        uint32_t size)
{
    struct iovec iov[PEEK_IOV_MAX];
    if (iovcnt > PEEK_IOV_MAX)
        iovcnt = PEEK_IOV_MAX;
    size_t got = calls_peek(tid, iov_addr, iov, iovcnt * sizeof(iov[0])) / sizeof(iov[0]);
    uint32_t n = 0;
    for (size_t i = 0; i < got && n < size && n < limit; i++) {
        size_t want = iov[i].iov_len;
        if (want > size - n)
            want = size - n;
        if (want > limit - n)
            want = (size_t)(limit - n);
        size_t have = calls_peek(tid, (uint64_t)(uintptr_t)iov[i].iov_base, out + n, want);
        n += (uint32_t)have;
        if (have < want)
            break;
    }
    return n;
}

/* A socket address in the tracee, as an endpoint (IPv4-mapped IPv6 shown as IPv4). */
void calls_peek_sockaddr(pid_t tid, uint64_t addr, uint64_t addrlen, struct endpoint *e)
{
    struct sockaddr_storage ss;
    memset(e, 0, sizeof(*e));
    if (addrlen > sizeof(ss))
        addrlen = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    size_t n = calls_peek(tid, addr, &ss, (size_t)addrlen);
    if (ss.ss_family == AF_INET && n >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        e->family = AF_INET;
        memcpy(e->addr, &sin->sin_addr, 4);
        e->port = ntohs(sin->sin_port);
    } else if (ss.ss_family == AF_INET6 && n >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        e->port = ntohs(sin6->sin6_port);
        if (memcmp(&sin6->sin6_addr, mapped, 12) == 0) {
            e->family = AF_INET;
            memcpy(e->addr, (const uint8_t *)&sin6->sin6_addr + 12, 4);
        } else {
            e->family = AF_INET6;
            memcpy(e->addr, &sin6->sin6_addr, 16);
        }
    }
}

/* --- writing the arguments ------------------------------------------------------ */

/* Append to f->args, as strace writes arguments: ", " between them. */
void calls_arg(struct syscall_facts *f, const char *fmt, ...)
{
    size_t used = strlen(f->args);
    if (used + 3 >= sizeof(f->args))
        return;
    if (used)
        used += (size_t)snprintf(f->args + used, sizeof(f->args) - used, ", ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->args + used, sizeof(f->args) - used, fmt, ap);
    va_end(ap);
}

/*
 * A pointer argument: NULL, or what it points to by name ("&offset"), not
 * its address, which changes from run to run (ASLR) and tells a reader nothing.
 */
void calls_arg_ptr(struct syscall_facts *f, uint64_t p, const char *name)
{
    if (p)
        calls_arg(f, "&%s", name);
    else
        calls_arg(f, "NULL");
}

/* --- the table ----------------------------------------------------------------- */

/*
 * The rows: any_fd calls work on any fd and are followed only when theirs
 * (or alt_fd's, where the call has two) is a TCP socket; the others are
 * followed unless the fd is another kind of socket; no_fd calls have none.
 * want, where given, picks the calls worth showing (a SIGPIPE sigaction).
 */
#define ROW(name, k, ...)                                                                          \
    {                                                                                              \
        .nr = SYS_##name, .kind = k, .syscall = #name, __VA_ARGS__                                 \
    }

const struct call_def calls[] = {
    ROW(socket, CALL_SOCKET, .entry = entry_socket, .exit = exit_socket),
    ROW(bind, CALL_BIND, .entry = entry_sockaddr, .exit = exit_bind),
    ROW(listen, CALL_LISTEN, .entry = entry_second_arg, .exit = exit_listen),
#ifdef SYS_accept
    ROW(accept, CALL_ACCEPT, .exit = exit_accept),
#endif
    ROW(accept4, CALL_ACCEPT, .entry = entry_accept4, .exit = exit_accept),
    ROW(connect, CALL_CONNECT, .entry = entry_sockaddr, .exit = exit_connect),
    ROW(read, CALL_RECV, .any_fd = true, .entry = entry_read, .exit = exit_recv_buf),
    ROW(readv, CALL_RECV, .any_fd = true, .exit = exit_readv),
    ROW(pread64, CALL_RECV, .any_fd = true, .entry = entry_pio, .exit = exit_pread),
    ROW(preadv, CALL_RECV, .any_fd = true, .entry = entry_piov, .exit = exit_readv),
    ROW(preadv2, CALL_RECV, .any_fd = true, .entry = entry_piov, .exit = exit_readv),
#ifdef SYS_recv
    ROW(recv, CALL_RECV, .entry = entry_recv, .exit = exit_recv_buf),
#endif
    ROW(recvfrom, CALL_RECV, .entry = entry_recvfrom, .exit = exit_recv_buf),
    ROW(recvmsg, CALL_RECV, .entry = entry_recvmsg, .exit = exit_recvmsg),
    ROW(recvmmsg, CALL_RECV, .entry = entry_mmsg, .exit = exit_mmsg),
    ROW(write, CALL_SEND, .any_fd = true, .entry = entry_write),
    ROW(writev, CALL_SEND, .any_fd = true, .entry = entry_writev),
    ROW(pwrite64, CALL_SEND, .any_fd = true, .entry = entry_pio),
    ROW(pwritev, CALL_SEND, .any_fd = true, .entry = entry_piov),
    ROW(pwritev2, CALL_SEND, .any_fd = true, .entry = entry_piov),
#ifdef SYS_send
    ROW(send, CALL_SEND, .entry = entry_send),
#endif
    ROW(sendto, CALL_SEND, .entry = entry_sendto),
    ROW(sendmsg, CALL_SEND, .entry = entry_sendmsg),
    ROW(sendmmsg, CALL_SEND, .entry = entry_mmsg, .exit = exit_mmsg),
    ROW(sendfile, CALL_SEND, .any_fd = true, .entry = entry_sendfile),
    ROW(splice, CALL_SEND, .any_fd = true, .alt_fd = 2, .entry = entry_splice),
    ROW(tee, CALL_SEND, .any_fd = true, .alt_fd = 1, .entry = entry_tee),
    ROW(shutdown, CALL_SHUTDOWN, .entry = entry_second_arg),
    ROW(close, CALL_CLOSE, .any_fd = true),
    ROW(close_range, CALL_CLOSE, .no_fd = true, .want = want_close_range,
        .entry = entry_close_range),
    ROW(dup, CALL_DUP, .any_fd = true, .entry = entry_dup),
#ifdef SYS_dup2
    ROW(dup2, CALL_DUP, .any_fd = true, .entry = entry_dup),
#endif
    ROW(dup3, CALL_DUP, .any_fd = true, .entry = entry_dup),
    ROW(fcntl, CALL_DUP, .any_fd = true, .want = want_fcntl, .entry = entry_fcntl),
    ROW(setsockopt, CALL_OPTION, .want = want_sockopt, .entry = entry_setsockopt),
    ROW(getsockopt, CALL_OPTION, .want = want_sockopt, .entry = entry_getsockopt,
        .exit = exit_getsockopt),
    ROW(rt_sigaction, CALL_SIGNAL, .no_fd = true, .want = want_sigaction, .entry = entry_sigaction),
    ROW(rt_sigprocmask, CALL_SIGNAL, .no_fd = true, .want = want_sigprocmask,
        .entry = entry_sigprocmask),
#ifdef SYS_signalfd
    ROW(signalfd, CALL_SIGNAL, .no_fd = true, .want = want_signalfd, .entry = entry_signalfd),
#endif
    ROW(signalfd4, CALL_SIGNAL, .no_fd = true, .want = want_signalfd, .entry = entry_signalfd),
#ifdef SYS_poll
    ROW(poll, CALL_WAIT, .no_fd = true, .want = want_poll, .entry = entry_poll, .exit = exit_poll),
#endif
    ROW(ppoll, CALL_WAIT, .no_fd = true, .want = want_poll, .entry = entry_poll, .exit = exit_poll),
#ifdef SYS_epoll_wait
    ROW(epoll_wait, CALL_WAIT, .no_fd = true, .want = want_epoll_wait, .entry = entry_epoll_wait,
        .exit = exit_epoll_wait),
#endif
    ROW(epoll_pwait, CALL_WAIT, .no_fd = true, .want = want_epoll_wait, .entry = entry_epoll_wait,
        .exit = exit_epoll_wait),
#ifdef SYS_epoll_pwait2
    ROW(epoll_pwait2, CALL_WAIT, .no_fd = true, .want = want_epoll_wait, .entry = entry_epoll_wait,
        .exit = exit_epoll_wait),
#endif
#ifdef SYS_select
    ROW(select, CALL_WAIT, .no_fd = true, .want = want_select, .entry = entry_select,
        .exit = exit_select),
#endif
    ROW(pselect6, CALL_WAIT, .no_fd = true, .want = want_select, .entry = entry_select,
        .exit = exit_select),
    ROW(epoll_ctl, CALL_WAIT, .no_fd = true, .want = want_epoll_ctl, .entry = entry_epoll_ctl),
};
const size_t ncalls = sizeof calls / sizeof calls[0];

const struct call_def *calls_find(unsigned long nr)
{
    for (size_t i = 0; i < ncalls; i++)
        if ((unsigned long)calls[i].nr == nr)
            return &calls[i];
    return NULL;
}

bool calls_is_tcp_socket(const uint64_t args[6])
{
    int domain = (int)args[0], type = (int)args[1] & SOCK_TYPE_MASK, protocol = (int)args[2];
    return (domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM &&
           (protocol == 0 || protocol == IPPROTO_TCP);
}

void calls_entry(const struct call_def *def, pid_t tid, const uint64_t args[6], int fd,
                 struct syscall_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->kind = def->kind;
    f->syscall = def->syscall;
    f->call = def->syscall;
    f->fd = fd;
    f->fd2 = -1;
    f->len = -1;
    if (def->entry)
        def->entry(tid, args, f);
}

void calls_exit(const struct call_def *def, pid_t tid, const uint64_t args[6], int64_t rval,
                bool is_error, struct syscall_facts *f)
{
    f->ret = is_error ? -1 : rval;
    f->err = is_error ? (int)-rval : 0;
    if (def->exit)
        def->exit(tid, args, f);
    if (f->kind == CALL_SEND || f->kind == CALL_RECV) {
        if (strstr(f->syscall, "mmsg"))
            f->moved = f->value_known ? f->value : 0;
        else if (f->ret > 0 && !(f->kind == CALL_RECV && (f->msg_flags & MSG_PEEK)))
            f->moved = f->ret;
    }
    /* A send that failed with EPIPE raises SIGPIPE: what will become of it, as /proc says now. */
    if (f->kind == CALL_SEND && f->err == EPIPE) {
        uint64_t ignored, caught, blocked, bit = 1ULL << (SIGPIPE - 1);
        if (procfs_signal_masks(tid, &ignored, &caught) == 0)
            f->pipe.disposition = ignored & bit  ? DISP_IGNORED
                                  : caught & bit ? DISP_CAUGHT
                                                 : DISP_DEFAULT;
        if (procfs_signal_blocked(tid, &blocked) == 0)
            f->pipe.blocked = (blocked & bit) != 0;
    }
}
