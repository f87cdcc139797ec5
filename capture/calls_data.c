/*
 * calls_data: the decoders of the calls that move data through a socket:
 * the reads and receives, the writes and sends, and the calls that move it
 * between descriptors (sendfile, splice, tee). What was sent is read at the
 * entry, what was received at the exit, up to the preview (EVENT_PREVIEW).
 */
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "calls_int.h"
#include "procfs.h"
#include "vocab.h"

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
        calls_peek_sockaddr(tid, args[4], args[5], &f->addr);
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
    calls_arg(f, "%d", (int)args[0]);
    calls_arg(f, "%d", (int)args[1]);
    calls_arg_ptr(f, args[2], "offset");
    calls_arg(f, "%llu", (unsigned long long)args[3]);
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags): the socket is either end. */
ENTRY(splice)
{
    (void)tid;
    f->len = (long long)args[4];
    f->fd2 = f->fd == (int)args[0] ? (int)args[2] : (int)args[0];
    f->kind = f->fd == (int)args[0] ? CALL_RECV : CALL_SEND;
    calls_arg(f, "%d", (int)args[0]);
    calls_arg_ptr(f, args[1], "off_in");
    calls_arg(f, "%d", (int)args[2]);
    calls_arg_ptr(f, args[3], "off_out");
    calls_arg(f, "%llu", (unsigned long long)args[4]);
    calls_arg(f, "%#x", (unsigned)args[5]);
}

/* tee(fd_in, fd_out, len, flags): pipes only; on a socket it fails with EINVAL. */
ENTRY(tee)
{
    (void)tid;
    f->len = (long long)args[2];
    f->fd2 = f->fd == (int)args[0] ? (int)args[1] : (int)args[0];
    calls_arg(f, "%d", (int)args[0]);
    calls_arg(f, "%d", (int)args[1]);
    calls_arg(f, "%llu", (unsigned long long)args[2]);
    calls_arg(f, "%#x", (unsigned)args[3]);
}

/* sendmmsg/recvmmsg(fd, msgvec, vlen, flags[, timeout]): ret is how many messages. */
ENTRY(mmsg)
{
    f->msg_flags = (int)args[3];
    char flags[96];
    calls_arg(f, "%d", f->fd);
    calls_arg_ptr(f, args[1], "msgvec");
    calls_arg(f, "%u", (unsigned)args[2]);
    calls_arg(f, "%s", tok_flags(msg_flag_names, (unsigned)args[3], flags, sizeof flags));
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
    calls_arg(f, "%d", f->fd);
    if (f->kind == CALL_SEND)
        f->datalen = peek_buf(tid, args[1], args[2], f->data);
    calls_arg(f, "%llu", (unsigned long long)args[2]);
    calls_arg(f, "%lld", (long long)args[3]);
}

/* preadv/pwritev(2)(fd, iov, iovcnt, offset[, ..., flags]). */
ENTRY(piov)
{
    calls_arg(f, "%d", f->fd);
    calls_arg_ptr(f, args[1], "iov");
    calls_arg(f, "%llu", (unsigned long long)args[2]);
    calls_arg(f, "%lld", (long long)args[3]);
    if (f->kind == CALL_SEND)
        f->datalen = peek_iov(tid, args[1], args[2], EVENT_PREVIEW, f->data);
}

EXIT(pread)
{
    if (f->ret > 0)
        f->datalen = peek_buf(tid, args[1], (uint64_t)f->ret, f->data);
}

/* --- sockets handed over: SCM_RIGHTS ------------------------------------------------ */

/* The messages of a sendmsg or recvmsg (one) or of an mmsg call (its first PEEK_IOV_MAX). */
static uint64_t message_count(const uint64_t args[6], bool mmsg)
{
    if (!mmsg)
        return 1;
    return args[2] < PEEK_IOV_MAX ? args[2] : PEEK_IOV_MAX;
}

/* Where the i-th message's msghdr is: an mmsghdr begins with one. */
static uint64_t message_at(const uint64_t args[6], bool mmsg, uint64_t i)
{
    return args[1] + (mmsg ? i * sizeof(struct mmsghdr) : 0);
}

bool calls_may_pass(pid_t tid, const uint64_t args[6], bool mmsg)
{
    for (uint64_t i = 0; i < message_count(args, mmsg); i++) {
        struct msghdr msg;
        if (calls_peek(tid, message_at(args, mmsg, i), &msg, sizeof msg) == sizeof msg &&
            msg.msg_control && msg.msg_controllen >= CMSG_LEN(sizeof(int)))
            return true;
    }
    return false;
}

/* fd of tid, one of those a message carries: one more followed socket in *pass, or another fd. */
static void add_passed(pid_t tid, int fd, struct pass_facts *pass)
{
    unsigned long inode;
    int state;
    struct pass_fd *p = &pass->fds[pass->n];
    if (procfs_fd_socket(tid, fd, &inode) != 1 || procfs_fd_other_socket(tid, fd) == 1) {
        pass->others++;
    } else if (pass->n == PASS_FDS_MAX) {
        pass->more++;
    } else if (procfs_tcp_socket(tid, inode, &p->local, &p->remote, &state) == 0) {
        p->fd = fd;
        p->inode = inode;
        p->listening = state == TCP_LISTEN;
        pass->n++;
    } else {
        pass->others++; /* a TCP socket neither connected nor listening: nothing to follow */
    }
}

/* The fds of one message's control data (at most PASS_CONTROL_MAX bytes of it) into *pass. */
static void peek_rights(pid_t tid, uint64_t msg_addr, struct pass_facts *pass)
{
    struct msghdr msg;
    union {
        uint8_t buf[PASS_CONTROL_MAX];
        struct cmsghdr align;
    } control;
    if (calls_peek(tid, msg_addr, &msg, sizeof msg) != sizeof msg || !msg.msg_control ||
        msg.msg_controllen < CMSG_LEN(sizeof(int)))
        return;
    size_t want = msg.msg_controllen, got;
    if (want > sizeof control.buf) {
        pass->control_cut += want - sizeof control.buf;
        want = sizeof control.buf;
    }
    got = calls_peek(tid, (uint64_t)(uintptr_t)msg.msg_control, control.buf, want);
    pass->control_cut += want - got;
    struct msghdr local = { .msg_control = control.buf, .msg_controllen = got };
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&local); c; c = CMSG_NXTHDR(&local, c)) {
        /* Its length as the tracee wrote it, but never past what was read. */
        size_t room = got - (size_t)((uint8_t *)c - control.buf);
        size_t len = c->cmsg_len < room ? c->cmsg_len : room;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || len < CMSG_LEN(0))
            continue;
        for (size_t i = 0; i < (len - CMSG_LEN(0)) / sizeof(int); i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            add_passed(tid, fd, pass);
        }
    }
}

int calls_peek_rights(pid_t tid, const uint64_t args[6], bool mmsg, uint64_t nmsgs,
                      struct pass_facts *pass)
{
    memset(pass, 0, sizeof *pass);
    if (nmsgs > message_count(args, mmsg))
        nmsgs = message_count(args, mmsg);
    for (uint64_t i = 0; i < nmsgs; i++)
        peek_rights(tid, message_at(args, mmsg, i), pass);
    return pass->n + pass->more;
}
