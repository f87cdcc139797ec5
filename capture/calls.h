/*
 * calls: the system calls the tracer follows (calls[]), and for each the
 * decoders that fill struct syscall_facts at its entry and at its exit,
 * reading the tracee's memory with process_vm_readv.
 */
#ifndef SIGTRACE_CALLS_H
#define SIGTRACE_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"

/* One followed call: what it is, how a programmer names it, and its decoders. */
struct call_def {
    long nr;
    enum call_kind kind;
    const char *syscall;
    bool any_fd; /* read, write, close: followed only when the fd is a TCP socket */
    int alt_fd;  /* for any_fd: the argument that may be the socket instead of the first; 0 */
    bool no_fd;  /* the first argument is no fd (sigaction, close_range) */
    /* Whether this call, with these arguments, is followed (NULL: always). */
    bool (*want)(pid_t tid, const uint64_t args[6]);
    void (*entry)(pid_t tid, const uint64_t args[6], struct syscall_facts *f);
    void (*exit)(pid_t tid, const uint64_t args[6],
                 struct syscall_facts *f); /* ret and err are set */
};

/* calls[] has ncalls rows, never more than CALLS_MAX (the seccomp filter's room). */
#define CALLS_MAX 64
extern const struct call_def calls[];
extern const size_t ncalls;

/* The followed call with this number, or NULL. */
const struct call_def *calls_find(unsigned long nr);

/* socket(domain, type, protocol) asks for a TCP socket. */
bool calls_is_tcp_socket(const uint64_t args[6]);

/* Fill *f at the call's entry; fd is the socket it works on (-1: none). */
void calls_entry(const struct call_def *def, pid_t tid, const uint64_t args[6], int fd,
                 struct syscall_facts *f);

/* Complete *f at the call's exit: its result (rval, a negative errno if is_error) and what it brought. */
void calls_exit(const struct call_def *def, pid_t tid, const uint64_t args[6], int64_t rval,
                bool is_error, struct syscall_facts *f);

/* Up to len bytes of the tracee's memory at addr into buf: how many could be read. */
size_t calls_peek(pid_t tid, uint64_t addr, void *buf, size_t len);

/* The first bytes of a buffer described by iovecs in the tracee, at most limit, into out (size bytes). */
uint32_t calls_peek_iov(pid_t tid, uint64_t iov_addr, uint64_t iovcnt, uint64_t limit, uint8_t *out,
                        uint32_t size);

/*
 * sendmsg, recvmsg (mmsg: sendmmsg, recvmmsg) with these arguments: may one
 * of its messages carry fds (a control buffer big enough for SCM_RIGHTS)?
 */
bool calls_may_pass(pid_t tid, const uint64_t args[6], bool mmsg);

/*
 * The fds the SCM_RIGHTS messages of such a call carry, read from tid's
 * memory (a send's at its entry, a receive's at its exit, the first nmsgs
 * messages, those the kernel filled): the connected or listening TCP
 * sockets among them, as tid holds them, into *pass. Returns how many.
 */
int calls_peek_rights(pid_t tid, const uint64_t args[6], bool mmsg, uint64_t nmsgs,
                      struct pass_facts *pass);

#endif
