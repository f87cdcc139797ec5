/*
 * calls: the system calls the tracer follows, one row each with its entry
 * and exit decoders (as strace's syscall table gives each call its own
 * SYS_FUNC), and the reading of the tracee's memory they need. A decoder
 * fills struct syscall_facts from the call's arguments and result; it never
 * decides what the call means (notes.c does).
 */
#include "calls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

#define NO_ENTRY NULL
#define NO_EXIT NULL

const struct call_def calls[] = {
    { SYS_socket, CALL_SOCKET, "socket", false, entry_socket, exit_socket },
    { SYS_bind, CALL_BIND, "bind", false, entry_sockaddr, exit_bind },
    { SYS_listen, CALL_LISTEN, "listen", false, entry_second_arg, exit_listen },
#ifdef SYS_accept
    { SYS_accept, CALL_ACCEPT, "accept", false, NO_ENTRY, exit_accept },
#endif
    { SYS_accept4, CALL_ACCEPT, "accept4", false, NO_ENTRY, exit_accept },
    { SYS_connect, CALL_CONNECT, "connect", false, entry_sockaddr, exit_connect },
    { SYS_read, CALL_RECV, "read", true, entry_read, exit_recv_buf },
    { SYS_readv, CALL_RECV, "readv", true, NO_ENTRY, exit_readv },
#ifdef SYS_recv
    { SYS_recv, CALL_RECV, "recv", false, entry_recv, exit_recv_buf },
#endif
    { SYS_recvfrom, CALL_RECV, "recvfrom", false, entry_recvfrom, exit_recv_buf },
    { SYS_recvmsg, CALL_RECV, "recvmsg", false, entry_recvmsg, exit_recvmsg },
    { SYS_write, CALL_SEND, "write", true, entry_write, NO_EXIT },
    { SYS_writev, CALL_SEND, "writev", true, entry_writev, NO_EXIT },
#ifdef SYS_send
    { SYS_send, CALL_SEND, "send", false, entry_send, NO_EXIT },
#endif
    { SYS_sendto, CALL_SEND, "sendto", false, entry_sendto, NO_EXIT },
    { SYS_sendmsg, CALL_SEND, "sendmsg", false, entry_sendmsg, NO_EXIT },
    { SYS_shutdown, CALL_SHUTDOWN, "shutdown", false, entry_second_arg, NO_EXIT },
    { SYS_close, CALL_CLOSE, "close", true, NO_ENTRY, NO_EXIT },
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

void calls_entry(const struct call_def *def, pid_t tid, const uint64_t args[6],
                 struct syscall_facts *f)
{
    memset(f, 0, sizeof(*f));
    f->kind = def->kind;
    f->syscall = def->syscall;
    f->call = def->syscall;
    f->fd = (int)args[0];
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
}
