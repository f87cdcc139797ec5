/*
 * calls_socket: the decoders of the calls that make a TCP socket, name it,
 * connect it, make it listen or accept, shut it down, and set or read its
 * options (socket, bind, connect, listen, accept, accept4, shutdown,
 * setsockopt, getsockopt).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "calls_int.h"
#include "procfs.h"
#include "vocab.h"

/* The socket's addresses, read from the process's own /proc view. */
static void socket_endpoints(pid_t tid, int fd, struct syscall_facts *f)
{
    unsigned long inode;
    int state;
    if (procfs_fd_socket(tid, fd, &inode) == 1 &&
        procfs_tcp_socket(tid, inode, &f->local, &f->remote, &state) == 0)
        f->listening = state == TCP_LISTEN;
}

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
ENTRY(sockaddr) { calls_peek_sockaddr(tid, args[1], args[2], &f->addr); }

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

/* accept4's flags. */
ENTRY(accept4)
{
    (void)tid;
    f->msg_flags = (int)args[3];
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

bool want_sockopt(pid_t tid, const uint64_t args[6])
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
    calls_arg(f, "%s", text);
}

/* setsockopt(fd, level, name, value, len): the value is read at the entry. */
ENTRY(setsockopt)
{
    f->option_level = (int)args[1];
    f->option = (int)args[2];
    calls_arg(f, "%d", f->fd);
    calls_arg(f, "%s", tok_name_or(option_levels, f->option_level, "?"));
    calls_arg(f, "%s", option_name(f->option_level, f->option));
    peek_option(tid, args[3], args[4], f);
    calls_arg(f, "%u", (unsigned)args[4]);
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
    calls_arg(f, "%d", f->fd);
    calls_arg(f, "%s", tok_name_or(option_levels, f->option_level, "?"));
    calls_arg(f, "%s", option_name(f->option_level, f->option));
    uint32_t optlen = 0;
    if (f->ret == 0 && calls_peek(tid, args[4], &optlen, sizeof(optlen)) == sizeof(optlen)) {
        peek_option(tid, args[3], optlen, f);
        calls_arg(f, "[%u]", optlen);
    } else {
        calls_arg_ptr(f, args[3], "value");
        calls_arg_ptr(f, args[4], "len");
    }
}
