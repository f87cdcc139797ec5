/*
 * vocab: the tables (vocab.h says which).
 */
#include "vocab.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "decode.h"

const char *tok_name(const struct tok *table, long value)
{
    for (; table->name; table++)
        if (table->value == value)
            return table->name;
    return NULL;
}

const char *tok_name_or(const struct tok *table, long value, const char *fallback)
{
    const char *name = tok_name(table, value);
    return name ? name : fallback;
}

char *tok_flags(const struct tok *table, unsigned long value, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!value) {
        snprintf(buf, len, "0");
        return buf;
    }
    for (; table->name; table++) {
        unsigned long bit = (unsigned long)table->value;
        if (bit && (value & bit) == bit) {
            n +=
                (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", table->name);
            value &= ~bit;
        }
    }
    if (value)
        snprintf(buf + n, n < len ? len - n : 0, "%s%#lx", n ? "|" : "", value);
    return buf;
}

const struct tok tcp_flag_names[] = {
    { TCPF_FIN, "FIN" }, { TCPF_SYN, "SYN" }, { TCPF_RST, "RST" },
    { TCPF_PSH, "PSH" }, { TCPF_ACK, "ACK" }, { TCPF_URG, "URG" },
    { TCPF_ECE, "ECE" }, { TCPF_CWR, "CWR" }, { 0, NULL },
};

const struct tok socket_domains[] = {
    { AF_INET, "AF_INET" },
    { AF_INET6, "AF_INET6" },
    { AF_UNIX, "AF_UNIX" },
    { 0, NULL },
};

const struct tok socket_types[] = {
    { SOCK_STREAM, "SOCK_STREAM" },
    { SOCK_DGRAM, "SOCK_DGRAM" },
    { SOCK_RAW, "SOCK_RAW" },
    { 0, NULL },
};

const struct tok msg_flag_names[] = {
    { MSG_OOB, "MSG_OOB" },
    { MSG_PEEK, "MSG_PEEK" },
    { MSG_DONTROUTE, "MSG_DONTROUTE" },
    { MSG_DONTWAIT, "MSG_DONTWAIT" },
    { MSG_EOR, "MSG_EOR" },
    { MSG_WAITALL, "MSG_WAITALL" },
    { MSG_MORE, "MSG_MORE" },
    { MSG_NOSIGNAL, "MSG_NOSIGNAL" },
    { MSG_TRUNC, "MSG_TRUNC" },
    { MSG_CMSG_CLOEXEC, "MSG_CMSG_CLOEXEC" },
    { MSG_WAITFORONE, "MSG_WAITFORONE" },
    { MSG_ZEROCOPY, "MSG_ZEROCOPY" },
    { 0, NULL },
};

const struct tok accept4_flag_names[] = {
    { SOCK_NONBLOCK, "SOCK_NONBLOCK" },
    { SOCK_CLOEXEC, "SOCK_CLOEXEC" },
    { 0, NULL },
};

const struct tok socket_options[] = {
    { SO_LINGER, "SO_LINGER" }, { SO_ERROR, "SO_ERROR" },   { SO_KEEPALIVE, "SO_KEEPALIVE" },
    { SO_SNDBUF, "SO_SNDBUF" }, { SO_RCVBUF, "SO_RCVBUF" }, { 0, NULL },
};

const struct tok tcp_options[] = {
    { TCP_NODELAY, "TCP_NODELAY" },
    { 0, NULL },
};

const struct tok option_levels[] = {
    { SOL_SOCKET, "SOL_SOCKET" },
    { IPPROTO_TCP, "IPPROTO_TCP" },
    { 0, NULL },
};

const struct tok fcntl_commands[] = {
    { F_DUPFD, "F_DUPFD" },
    { F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC" },
    { F_SETFL, "F_SETFL" },
    { 0, NULL },
};

const struct tok file_flag_names[] = {
    { O_NONBLOCK, "O_NONBLOCK" }, { O_APPEND, "O_APPEND" }, { O_ASYNC, "O_ASYNC" },
    { O_RDWR, "O_RDWR" },         { O_WRONLY, "O_WRONLY" }, { 0, NULL },
};

const struct tok sigmask_hows[] = {
    { SIG_BLOCK, "SIG_BLOCK" },
    { SIG_UNBLOCK, "SIG_UNBLOCK" },
    { SIG_SETMASK, "SIG_SETMASK" },
    { 0, NULL },
};

const struct tok shutdown_modes[] = {
    { SHUT_RD, "SHUT_RD" },
    { SHUT_WR, "SHUT_WR" },
    { SHUT_RDWR, "SHUT_RDWR" },
    { 0, NULL },
};

/* From the kernel's include/linux/errno.h: 515 (ENOIOCTLCMD) is no restart code. */
const struct tok restart_codes[] = {
    { 512, "ERESTARTSYS" },
    { 513, "ERESTARTNOINTR" },
    { 514, "ERESTARTNOHAND" },
    { 516, "ERESTART_RESTARTBLOCK" },
    { 0, NULL },
};

const struct tok sig_action_names[] = {
    { ACT_TERMINATE, "terminate" }, { ACT_CORE, "core" },         { ACT_IGNORE, "ignore" },
    { ACT_STOP, "stop" },           { ACT_CONTINUE, "continue" }, { 0, NULL },
};

/* Signals whose default action is not to terminate (signal(7)); every other one terminates. */
static const struct {
    int signo;
    enum sig_action action;
} default_actions[] = {
    { SIGQUIT, ACT_CORE },    { SIGILL, ACT_CORE },    { SIGTRAP, ACT_CORE },
    { SIGABRT, ACT_CORE },    { SIGBUS, ACT_CORE },    { SIGFPE, ACT_CORE },
    { SIGSEGV, ACT_CORE },    { SIGSYS, ACT_CORE },    { SIGXCPU, ACT_CORE },
    { SIGXFSZ, ACT_CORE },    { SIGCHLD, ACT_IGNORE }, { SIGURG, ACT_IGNORE },
    { SIGWINCH, ACT_IGNORE }, { SIGSTOP, ACT_STOP },   { SIGTSTP, ACT_STOP },
    { SIGTTIN, ACT_STOP },    { SIGTTOU, ACT_STOP },   { SIGCONT, ACT_CONTINUE },
};

enum sig_action sig_default_action(int signo)
{
    for (size_t i = 0; i < sizeof default_actions / sizeof default_actions[0]; i++)
        if (default_actions[i].signo == signo)
            return default_actions[i].action;
    return ACT_TERMINATE;
}

bool is_restart_code(int err) { return tok_name(restart_codes, err) != NULL; }

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000 /* Linux's, named by <poll.h> under _GNU_SOURCE only */
#endif

const struct tok poll_event_names[] = {
    { POLLIN, "POLLIN" },
    { POLLPRI, "POLLPRI" },
    { POLLOUT, "POLLOUT" },
    { POLLERR, "POLLERR" },
    { POLLHUP, "POLLHUP" },
    { POLLNVAL, "POLLNVAL" },
    { POLLRDNORM, "POLLRDNORM" },
    { POLLRDBAND, "POLLRDBAND" },
    { POLLWRNORM, "POLLWRNORM" },
    { POLLWRBAND, "POLLWRBAND" },
    { POLLMSG, "POLLMSG" },
    { POLLRDHUP, "POLLRDHUP" },
    /* epoll's own bits (its others are poll's, which epoll.h names EPOLLIN ...) */
    { EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE" },
    { EPOLLWAKEUP, "EPOLLWAKEUP" },
    { EPOLLONESHOT, "EPOLLONESHOT" },
    { (long)EPOLLET, "EPOLLET" },
    { 0, NULL },
};

/* select's three sets in its arguments' order, each as the poll bit that says the same. */
const struct tok select_sets[] = {
    { POLLIN, "in" },
    { POLLOUT, "out" },
    { POLLPRI, "except" },
    { 0, NULL },
};

const struct tok close_range_flags[] = {
    { CLOSE_RANGE_UNSHARE, "CLOSE_RANGE_UNSHARE" },
    { CLOSE_RANGE_CLOEXEC, "CLOSE_RANGE_CLOEXEC" },
    { 0, NULL },
};

const struct tok epoll_ctl_ops[] = {
    { EPOLL_CTL_ADD, "EPOLL_CTL_ADD" },
    { EPOLL_CTL_MOD, "EPOLL_CTL_MOD" },
    { EPOLL_CTL_DEL, "EPOLL_CTL_DEL" },
    { 0, NULL },
};
