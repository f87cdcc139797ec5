/*
 * notes_int: what notes.c shares with the files that write the notes of
 * one kind of call (notes_option.c, notes_wait.c, notes_pass.c). Private to the notes.
 */
#ifndef SIGTRACE_NOTES_INT_H
#define SIGTRACE_NOTES_INT_H

#include "event.h"
#include "notebuf.h"

/* The note of a failure any call can have (EBADF, EINTR, ...): 1 if one was written. */
int notes_common_failure(const struct event *ev, struct notebuf *n);

/* setsockopt, getsockopt, fcntl F_SETFL. */
void notes_option(const struct event *ev, struct notebuf *n);

/* sigaction, sigprocmask and signalfd, where they concern SIGPIPE. */
void notes_sigpipe_call(const struct syscall_facts *f, struct notebuf *n);

/* poll, select, epoll_ctl and the epoll waits. */
void notes_wait(const struct syscall_facts *f, struct notebuf *n);

/*
 * sendmsg and recvmsg that hand followed sockets over (SCM_RIGHTS), when
 * they succeeded; and the close() of a socket handed over.
 */
void notes_pass(const struct syscall_facts *f, struct notebuf *n);
void notes_close_passed(const struct syscall_facts *f, struct notebuf *n);

#endif
