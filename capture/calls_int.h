/*
 * calls_int: what the decoders share: calls.c (the table, reading the
 * tracee's memory, writing the arguments) and the decoders by family,
 * calls_socket.c, calls_data.c, calls_fd.c and calls_signal.c. Not for the
 * rest of the tracer.
 */
#ifndef SIGTRACE_CALLS_INT_H
#define SIGTRACE_CALLS_INT_H

#include "calls.h"

/* iovecs read at most, from a readv, writev or msghdr: the preview needs no more. */
#define PEEK_IOV_MAX 4

/* A decoder, at a call's entry or its exit (calls.h: struct call_def). */
#define ENTRY(name) void entry_##name(pid_t tid, const uint64_t args[6], struct syscall_facts *f)
#define EXIT(name) void exit_##name(pid_t tid, const uint64_t args[6], struct syscall_facts *f)

/* calls.c: a socket address in the tracee, as an endpoint. */
void calls_peek_sockaddr(pid_t tid, uint64_t addr, uint64_t addrlen, struct endpoint *e);

/* calls.c: append to f->args, as strace writes arguments. */
void calls_arg(struct syscall_facts *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* calls.c: a pointer argument, by the name of what it points to. */
void calls_arg_ptr(struct syscall_facts *f, uint64_t p, const char *name);

/* calls_socket.c: making, naming, connecting, accepting, shutting down; options. */
ENTRY(socket);
EXIT(socket);
ENTRY(sockaddr);
EXIT(bind);
EXIT(connect);
ENTRY(second_arg);
EXIT(listen);
EXIT(accept);
ENTRY(accept4);
bool want_sockopt(pid_t tid, const uint64_t args[6]);
ENTRY(setsockopt);
ENTRY(getsockopt);
EXIT(getsockopt);

/* calls_data.c: reads and receives, writes and sends, and the calls between descriptors. */
ENTRY(read);
ENTRY(recv);
ENTRY(recvfrom);
ENTRY(recvmsg);
EXIT(recv_buf);
EXIT(readv);
EXIT(recvmsg);
ENTRY(write);
ENTRY(writev);
ENTRY(send);
ENTRY(sendto);
ENTRY(sendmsg);
ENTRY(sendfile);
ENTRY(splice);
ENTRY(tee);
ENTRY(mmsg);
EXIT(mmsg);
ENTRY(pio);
ENTRY(piov);
EXIT(pread);

/* calls_fd.c: closing and copying descriptors. */
bool want_close_range(pid_t tid, const uint64_t args[6]);
ENTRY(close_range);
ENTRY(dup);
bool want_fcntl(pid_t tid, const uint64_t args[6]);
ENTRY(fcntl);

/* calls_signal.c: SIGPIPE's disposition, mask and signalfd. */
bool want_sigaction(pid_t tid, const uint64_t args[6]);
ENTRY(sigaction);
bool want_sigprocmask(pid_t tid, const uint64_t args[6]);
ENTRY(sigprocmask);
bool want_signalfd(pid_t tid, const uint64_t args[6]);
ENTRY(signalfd);

/* calls_wait.c: waiting until sockets are ready. */
bool want_poll(pid_t tid, const uint64_t args[6]);
ENTRY(poll);
EXIT(poll);
bool want_epoll_wait(pid_t tid, const uint64_t args[6]);
ENTRY(epoll_wait);
EXIT(epoll_wait);
bool want_epoll_ctl(pid_t tid, const uint64_t args[6]);
ENTRY(epoll_ctl);
bool want_select(pid_t tid, const uint64_t args[6]);
ENTRY(select);
EXIT(select);

#endif
