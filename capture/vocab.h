/*
 * vocab: the kernel's and TCP's vocabularies as tables, one a vocabulary,
 * and the one lookup they share: a value's name for every printer, and what
 * the name means where a note needs it.
 */
#ifndef SIGTRACE_VOCAB_H
#define SIGTRACE_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One value and its name; a table ends with { 0, NULL }. */
struct tok {
    long value;
    const char *name;
};

/* The name of value in table, or NULL when it has none. */
const char *tok_name(const struct tok *table, long value);
/* The same, or fallback when it has none. */
const char *tok_name_or(const struct tok *table, long value, const char *fallback);

/*
 * The names of the bits set in value, joined with '|' ("MSG_NOSIGNAL|MSG_DONTWAIT"),
 * bits without a name in hex; "0" for none. Returns buf.
 */
char *tok_flags(const struct tok *table, unsigned long value, char *buf, size_t len);

/* TCP flag bits in the header's order (tcpdump's): FIN, SYN, RST, PSH, ACK, URG, ECE, CWR. */
extern const struct tok tcp_flag_names[];
/* socket(2) domains and types (the type without SOCK_NONBLOCK and SOCK_CLOEXEC: SOCK_TYPE_MASK). */
extern const struct tok socket_domains[];
extern const struct tok socket_types[];
#define SOCK_TYPE_MASK 0xf
/* send(2) and recv(2) flags (MSG_*), accept4(2)'s SOCK_NONBLOCK and SOCK_CLOEXEC. */
extern const struct tok msg_flag_names[];
extern const struct tok accept4_flag_names[];
/* The socket options the tracer follows, at SOL_SOCKET and at IPPROTO_TCP; their levels. */
extern const struct tok socket_options[];
extern const struct tok tcp_options[];
extern const struct tok option_levels[];
/* fcntl(2): the commands followed, and the file status flags shown. */
extern const struct tok fcntl_commands[];
extern const struct tok file_flag_names[];
/* sigprocmask(2)'s how. */
extern const struct tok sigmask_hows[];

/* shutdown(2)'s how. */
extern const struct tok shutdown_modes[];

/* poll's events and revents (POLLIN ...). */
extern const struct tok poll_event_names[];
/* select's readfds, writefds and exceptfds, in that order, as poll bits: "in", "out", "except". */
extern const struct tok select_sets[];
/* close_range's flags. */
extern const struct tok close_range_flags[];
/* epoll_ctl's operations. */
extern const struct tok epoll_ctl_ops[];
/*
 * The kernel's internal restart codes (include/linux/errno.h), which ptrace
 * shows at a system call's exit when a signal interrupted it; glibc has no
 * names for them.
 */
extern const struct tok restart_codes[];

/* What a signal's default disposition does (signal(7)). */
enum sig_action { ACT_TERMINATE, ACT_CORE, ACT_IGNORE, ACT_STOP, ACT_CONTINUE };
extern const struct tok sig_action_names[];

/* The default action of signo. */
enum sig_action sig_default_action(int signo);

/* A restart code: the call was interrupted and the kernel restarts it or fails it with EINTR. */
bool is_restart_code(int err);

#endif
