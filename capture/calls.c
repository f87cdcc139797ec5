/*
 * calls: the system calls the tracer follows, one row each with its entry
 * and exit decoders (as strace's syscall table gives each call its own
 * SYS_FUNC), and the reading of the tracee's memory they need. A decoder
 * fills struct syscall_facts from the call's arguments and result; it never
 * decides what the call means (notes.c does).
 */
#include "calls.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "procfs.h"
#include "vocab.h"

/* iovecs read at most, from a readv, writev or msghdr: the preview needs no more. */
#define PEEK_IOV_MAX 4

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

static uint32_t peek_iov(pid_t tid, uint64_t iov_addr, uint64_t iovcnt, uint64_t limit,
                         uint8_t *out)
{
    return calls_peek_iov(tid, iov_addr, iovcnt, limit, out, EVENT_PREVIEW);
}

static uint32_t peek_msg(pid_t tid, uint64_t msg_addr, uint64_t limit, uint8_t *out)
{
    struct msghdr msg;
    if (calls_peek(tid, msg_addr, &msg, sizeof(msg)) != sizeof(msg))
        return 0;
    return peek_iov(tid, (uint64_t)(uintptr_t)msg.msg_iov, msg.msg_iovlen, limit, out);
}

static uint32_t peek_buf(pid_t tid, uint64_t addr, uint64_t limit, uint8_t *out)
{
    return (uint32_t)calls_peek(tid, addr, out,
                                limit < EVENT_PREVIEW ? (size_t)limit : EVENT_PREVIEW);
}

/* A socket address in the tracee, as an endpoint (IPv4-mapped IPv6 shown as IPv4). */
static void peek_sockaddr(pid_t tid, uint64_t addr, uint64_t addrlen, struct endpoint *e)
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

/* The socket's addresses, read from the process's own /proc view. */
static void socket_endpoints(pid_t tid, int fd, struct syscall_facts *f)
{
    unsigned long inode;
    int state;
    if (procfs_fd_socket(tid, fd, &inode) == 1 &&
        procfs_tcp_socket(tid, inode, &f->local, &f->remote, &state) == 0)
        f->listening = state == TCP_LISTEN;
}

/* Append to f->args, as strace writes arguments: ", " between them. */
static void arg(struct syscall_facts *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void arg(struct syscall_facts *f, const char *fmt, ...)
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
static void arg_ptr(struct syscall_facts *f, uint64_t p, const char *name)
{
    if (p)
        arg(f, "&%s", name);
    else
        arg(f, "NULL");
}

/* A signal set in the tracee holds SIGPIPE: 1, 0, or -1 if it cannot be read. */
static int set_has_sigpipe(pid_t tid, uint64_t addr)
{
    uint64_t set;
    if (calls_peek(tid, addr, &set, sizeof(set)) != sizeof(set))
        return -1;
    return (set & (1ULL << (SIGPIPE - 1))) != 0;
}

/* --- the decoders, one a call ----------------------------------------------------- */

#define ENTRY(name)                                                                                \
    static void entry_##name(pid_t tid, const uint64_t args[6], struct syscall_facts *f)
#define EXIT(name)                                                                                 \
    static void exit_##name(pid_t tid, const uint64_t args[6], struct syscall_facts *f)

ENTRY(socket)
{
    (void)tid;
    f->fd = -1;
    f->domain = (int)args[0];
    f->socktype = (int)args[1];
}

EXIT(socket)
{
    (void)tid, (void)args;
    if (f->ret >= 0)
        f->fd = (int)f->ret;
}

/* bind and connect: the address asked for. */
ENTRY(sockaddr) { peek_sockaddr(tid, args[1], args[2], &f->addr); }

EXIT(bind)
{
    (void)args;
    if (f->ret != 0)
        return;
    socket_endpoints(tid, f->fd, f);
    if (f->local.family == 0)
        f->local = f->addr; /* a bound socket that does not listen yet is not in /proc/net/tcp */
}

EXIT(connect)
{
    (void)args;
    if (f->ret == 0 || f->err == EINPROGRESS)
        socket_endpoints(tid, f->fd, f);
}

/* listen's backlog, shutdown's how. */
ENTRY(second_arg)
{
    (void)tid;
    f->len = (long long)(int)args[1];
}

EXIT(listen)
{
    (void)args;
    if (f->ret == 0)
        socket_endpoints(tid, f->fd, f);
}

EXIT(accept)
{
    (void)args;
    if (f->ret < 0)
        return;
    socket_endpoints(tid, (int)f->ret, f);
    f->addr = f->remote;
}

/* read(fd, buf, len) */
ENTRY(read)
{
    (void)tid;
    f->len = (long long)args[2];
}

/* recv(fd, buf, len, flags) */
ENTRY(recv)
{
    (void)tid;
    f->len = (long long)args[2];
    f->msg_flags = (int)args[3];
}

/* recvfrom(fd, buf, len, flags, addr, addrlen): without an address, a recv. */
ENTRY(recvfrom)
{
    entry_recv(tid, args, f);
    if (!args[4])
        f->call = "recv";
}

ENTRY(recvmsg)
{
    (void)tid;
    f->msg_flags = (int)args[2];
}

/* What a receive into a plain buffer brought. */
EXIT(recv_buf)
{
    if (f->ret > 0)
        f->datalen = peek_buf(tid, args[1], (uint64_t)f->ret, f->data);
}

EXIT(readv)
{
    if (f->ret > 0)
        f->datalen = peek_iov(tid, args[1], args[2], (uint64_t)f->ret, f->data);
}

EXIT(recvmsg)
{
    if (f->ret > 0)
        f->datalen = peek_msg(tid, args[1], (uint64_t)f->ret, f->data);
}

ENTRY(write)
{
    f->len = (long long)args[2];
    f->datalen = peek_buf(tid, args[1], args[2], f->data);
}

ENTRY(writev) { f->datalen = peek_iov(tid, args[1], args[2], EVENT_PREVIEW, f->data); }

/* send(fd, buf, len, flags) */
ENTRY(send)
{
    f->len = (long long)args[2];
    f->msg_flags = (int)args[3];
    f->datalen = peek_buf(tid, args[1], args[2], f->data);
}

/* sendto(fd, buf, len, flags, addr, addrlen): without an address, a send. */
ENTRY(sendto)
{
    entry_send(tid, args, f);
    if (args[4])
        peek_sockaddr(tid, args[4], args[5], &f->addr);
    else
        f->call = "send";
}

ENTRY(sendmsg)
{
    f->msg_flags = (int)args[2];
    f->datalen = peek_msg(tid, args[1], EVENT_PREVIEW, f->data);
}

/* sendfile(out_fd, in_fd, offset, count): the socket is out_fd (in_fd cannot be one). */
ENTRY(sendfile)
{
    (void)tid;
    f->len = (long long)args[3];
    f->fd2 = (int)args[1];
    arg(f, "%d", (int)args[0]);
    arg(f, "%d", (int)args[1]);
    arg_ptr(f, args[2], "offset");
    arg(f, "%llu", (unsigned long long)args[3]);
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags): the socket is either end. */
ENTRY(splice)
{
    (void)tid;
    f->len = (long long)args[4];
    f->fd2 = f->fd == (int)args[0] ? (int)args[2] : (int)args[0];
    f->kind = f->fd == (int)args[0] ? CALL_RECV : CALL_SEND;
    arg(f, "%d", (int)args[0]);
    arg_ptr(f, args[1], "off_in");
    arg(f, "%d", (int)args[2]);
    arg_ptr(f, args[3], "off_out");
    arg(f, "%llu", (unsigned long long)args[4]);
    arg(f, "%#x", (unsigned)args[5]);
}

/* tee(fd_in, fd_out, len, flags): pipes only; on a socket it fails with EINVAL. */
ENTRY(tee)
{
    (void)tid;
    f->len = (long long)args[2];
    f->fd2 = f->fd == (int)args[0] ? (int)args[1] : (int)args[0];
    arg(f, "%d", (int)args[0]);
    arg(f, "%d", (int)args[1]);
    arg(f, "%llu", (unsigned long long)args[2]);
    arg(f, "%#x", (unsigned)args[3]);
}

/* sendmmsg/recvmmsg(fd, msgvec, vlen, flags[, timeout]): ret is how many messages. */
ENTRY(mmsg)
{
    f->msg_flags = (int)args[3];
    char flags[96];
    arg(f, "%d", f->fd);
    arg_ptr(f, args[1], "msgvec");
    arg(f, "%u", (unsigned)args[2]);
    arg(f, "%s", tok_flags(msg_flag_names, (unsigned)args[3], flags, sizeof flags));
    if (f->kind == CALL_SEND && args[2] > 0)
        f->datalen = peek_msg(tid, args[1], EVENT_PREVIEW, f->data);
}

/* How many bytes the first messages of an mmsghdr array moved, as the kernel wrote msg_len. */
EXIT(mmsg)
{
    if (f->ret <= 0)
        return;
    struct mmsghdr m[PEEK_IOV_MAX];
    uint64_t n = (uint64_t)f->ret < PEEK_IOV_MAX ? (uint64_t)f->ret : PEEK_IOV_MAX;
    size_t got = calls_peek(tid, args[1], m, n * sizeof(m[0])) / sizeof(m[0]);
    long long bytes = 0;
    for (size_t i = 0; i < got; i++)
        bytes += m[i].msg_len;
    f->value = bytes;
    f->value_known = got == n && (uint64_t)f->ret == n;
    if (f->kind == CALL_RECV && got > 0 && m[0].msg_len > 0)
        f->datalen = peek_msg(tid, args[1], m[0].msg_len, f->data);
}

/* pread64/pwrite64(fd, buf, count, offset): a socket has no position (ESPIPE). */
ENTRY(pio)
{
    f->len = (long long)args[2];
    arg(f, "%d", f->fd);
    if (f->kind == CALL_SEND)
        f->datalen = peek_buf(tid, args[1], args[2], f->data);
    arg(f, "%llu", (unsigned long long)args[2]);
    arg(f, "%lld", (long long)args[3]);
}

/* preadv/pwritev(2)(fd, iov, iovcnt, offset[, ..., flags]). */
ENTRY(piov)
{
    arg(f, "%d", f->fd);
    arg_ptr(f, args[1], "iov");
    arg(f, "%llu", (unsigned long long)args[2]);
    arg(f, "%lld", (long long)args[3]);
    if (f->kind == CALL_SEND)
        f->datalen = peek_iov(tid, args[1], args[2], EVENT_PREVIEW, f->data);
}

EXIT(pread)
{
    if (f->ret > 0)
        f->datalen = peek_buf(tid, args[1], (uint64_t)f->ret, f->data);
}

/* close_range(first, last, flags): every fd from first to last. */
ENTRY(close_range)
{
    (void)tid;
    f->fd = (int)args[0];
    f->fd2 = args[1] > 0x7fffffff ? 0x7fffffff : (int)args[1];
    f->option = (int)args[2];
    arg(f, "%u", (unsigned)args[0]);
    if (args[1] >= 0xffffffffULL)
        arg(f, "~0U");
    else
        arg(f, "%u", (unsigned)args[1]);
    arg(f, "%#x", (unsigned)args[2]);
}

/* close_range is followed when it closes a TCP socket. */
static bool want_close_range(pid_t tid, const uint64_t args[6])
{
    if (args[0] > args[1])
        return false;
    return procfs_tcp_socket_in(tid, (unsigned)args[0],
                                args[1] > 0xffffffffULL ? 0xffffffffU : (unsigned)args[1]);
}

/* dup(old), dup2(old, new), dup3(old, new, flags). */
ENTRY(dup)
{
    (void)tid;
    f->fd2 = -1;
    arg(f, "%d", f->fd);
    if (f->syscall[3]) { /* dup2, dup3 */
        f->fd2 = (int)args[1];
        arg(f, "%d", (int)args[1]);
    }
    if (f->syscall[3] == '3')
        arg(f, "%s", (int)args[2] & O_CLOEXEC ? "O_CLOEXEC" : "0");
}

/* fcntl(fd, cmd, arg): F_DUPFD and F_DUPFD_CLOEXEC, a dup; F_SETFL, the socket's flags. */
ENTRY(fcntl)
{
    (void)tid;
    char flags[96];
    int cmd = (int)args[1];
    arg(f, "%d", f->fd);
    arg(f, "%s", tok_name_or(fcntl_commands, cmd, "?"));
    f->option_level = -1;
    f->option = cmd;
    if (cmd == F_SETFL) {
        f->kind = CALL_OPTION;
        f->value = (long long)(int)args[2];
        f->value_known = true;
        arg(f, "%s", tok_flags(file_flag_names, (unsigned)args[2], flags, sizeof flags));
    } else {
        f->kind = CALL_DUP;
        f->fd2 = (int)args[2];
        arg(f, "%d", (int)args[2]);
    }
}

/* Which fcntl commands are followed. */
static bool want_fcntl(pid_t tid, const uint64_t args[6])
{
    (void)tid;
    return tok_name(fcntl_commands, (long)(int)args[1]) != NULL;
}

/* The option's name in its level's table, or NULL if it is not one the tracer follows. */
static const char *option_name(int level, int name)
{
    if (level == SOL_SOCKET)
        return tok_name(socket_options, name);
    if (level == IPPROTO_TCP)
        return tok_name(tcp_options, name);
    return NULL;
}

static bool want_sockopt(pid_t tid, const uint64_t args[6])
{
    (void)tid;
    return option_name((int)args[1], (int)args[2]) != NULL;
}

/* An option's value in the tracee: an int, or SO_LINGER's struct linger. */
static void peek_option(pid_t tid, uint64_t addr, uint64_t optlen, struct syscall_facts *f)
{
    char text[48];
    if (f->option_level == SOL_SOCKET && f->option == SO_LINGER) {
        struct linger l;
        if (optlen >= sizeof(l) && calls_peek(tid, addr, &l, sizeof(l)) == sizeof(l)) {
            f->value = l.l_onoff;
            f->value2 = l.l_linger;
            f->value_known = true;
            snprintf(text, sizeof text, "{l_onoff=%d, l_linger=%d}", l.l_onoff, l.l_linger);
        } else {
            snprintf(text, sizeof text, "%s", addr ? "&linger" : "NULL");
        }
    } else {
        int v;
        if (optlen >= sizeof(v) && calls_peek(tid, addr, &v, sizeof(v)) == sizeof(v)) {
            f->value = v;
            f->value_known = true;
            if (f->option_level == SOL_SOCKET && f->option == SO_ERROR)
                snprintf(text, sizeof text, "[%s]", v ? errno_name(v) : "0");
            else
                snprintf(text, sizeof text, "[%d]", v);
        } else {
            snprintf(text, sizeof text, "%s", addr ? "&value" : "NULL");
        }
    }
    arg(f, "%s", text);
}

/* setsockopt(fd, level, name, value, len): the value is read at the entry. */
ENTRY(setsockopt)
{
    f->option_level = (int)args[1];
    f->option = (int)args[2];
    arg(f, "%d", f->fd);
    arg(f, "%s", tok_name_or(option_levels, f->option_level, "?"));
    arg(f, "%s", option_name(f->option_level, f->option));
    peek_option(tid, args[3], args[4], f);
    arg(f, "%u", (unsigned)args[4]);
}

/* getsockopt(fd, level, name, value, lenp): the value is read at the exit. */
ENTRY(getsockopt)
{
    (void)tid;
    f->option_level = (int)args[1];
    f->option = (int)args[2];
}

EXIT(getsockopt)
{
    arg(f, "%d", f->fd);
    arg(f, "%s", tok_name_or(option_levels, f->option_level, "?"));
    arg(f, "%s", option_name(f->option_level, f->option));
    uint32_t optlen = 0;
    if (f->ret == 0 && calls_peek(tid, args[4], &optlen, sizeof(optlen)) == sizeof(optlen)) {
        peek_option(tid, args[3], optlen, f);
        arg(f, "[%u]", optlen);
    } else {
        arg_ptr(f, args[3], "value");
        arg_ptr(f, args[4], "len");
    }
}

/* rt_sigaction(signo, act, oldact, size): followed for SIGPIPE, when it changes. */
static bool want_sigaction(pid_t tid, const uint64_t args[6])
{
    (void)tid;
    return (int)args[0] == SIGPIPE && args[1] != 0;
}

ENTRY(sigaction)
{
    uint64_t handler;
    f->fd = -1;
    arg(f, "SIGPIPE");
    if (calls_peek(tid, args[1], &handler, sizeof(handler)) == sizeof(handler)) {
        f->value = (long long)handler;
        f->value_known = true;
        if (handler == (uint64_t)(uintptr_t)SIG_DFL)
            arg(f, "{sa_handler=SIG_DFL}");
        else if (handler == (uint64_t)(uintptr_t)SIG_IGN)
            arg(f, "{sa_handler=SIG_IGN}");
        else
            arg(f, "{sa_handler=handler}"); /* its address changes from run to run */
    } else {
        arg_ptr(f, args[1], "act");
    }
    arg_ptr(f, args[2], "oldact");
}

/*
 * rt_sigprocmask(how, set, oldset, size): followed when the set holds
 * SIGPIPE, or SIG_SETMASK changes whether it is blocked; not when every
 * signal is blocked for a moment and the mask put back after (as
 * pthread_create and posix_spawn do): that is about no signal in particular.
 */
#define MASK_ALL_BITS 32 /* a set with more signals than this is "all of them" */

static bool want_sigprocmask(pid_t tid, const uint64_t args[6])
{
    uint64_t set, blocked;
    if (!args[1] || calls_peek(tid, args[1], &set, sizeof(set)) != sizeof(set))
        return false;
    bool has = set & (1ULL << (SIGPIPE - 1));
    if (__builtin_popcountll(set) > MASK_ALL_BITS)
        return false;
    if ((int)args[0] != SIG_SETMASK)
        return has;
    if (procfs_signal_blocked(tid, &blocked) < 0)
        return has;
    if (__builtin_popcountll(blocked) > MASK_ALL_BITS)
        return false; /* putting the mask back after blocking everything */
    return has != ((blocked & (1ULL << (SIGPIPE - 1))) != 0);
}

ENTRY(sigprocmask)
{
    f->fd = -1;
    f->option = (int)args[0];
    f->value2 = set_has_sigpipe(tid, args[1]) == 1;
    f->value_known = true;
    arg(f, "%s", tok_name_or(sigmask_hows, f->option, "?"));
    arg(f, "%s", f->value2 ? "[PIPE ...]" : "[~PIPE ...]");
    arg_ptr(f, args[2], "oldset");
}

/* signalfd(fd, mask, size), signalfd4(fd, mask, size, flags): followed when the mask holds SIGPIPE. */
static bool want_signalfd(pid_t tid, const uint64_t args[6])
{
    return set_has_sigpipe(tid, args[1]) == 1;
}

ENTRY(signalfd)
{
    (void)tid;
    f->fd2 = (int)args[0];
    f->fd = -1;
    f->value2 = 1;
    arg(f, "%d", (int)args[0]);
    arg(f, "[PIPE ...]");
    arg(f, "%u", (unsigned)args[2]);
}

/* accept4's flags. */
ENTRY(accept4)
{
    (void)tid;
    f->msg_flags = (int)args[3];
}

#define NO_ENTRY NULL
#define NO_EXIT NULL

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
