/*
 * sockets: what each process's sockets have been through, as its own calls
 * showed: a receive that returned 0 (the peer's FIN came), a connect that
 * failed, listen(), a hand-over to another process (SCM_RIGHTS); and whether its last followed call failed with EPIPE.
 * Before notes.c explains a call or a signal, the event is given that past
 * (syscall_facts.past, signal_facts.after_epipe), so a note can say what the
 * call means in context: a send after a receive returned 0 is a send to a
 * peer that has closed. A socket's past ends with close(), a process's with
 * its exit; a new socket on a reused fd starts afresh.
 */
#ifndef SIGTRACE_SOCKETS_H
#define SIGTRACE_SOCKETS_H

#include "event.h"

struct sockets;

/* An empty memory, or NULL when out of memory. */
struct sockets *sockets_new(void);
void sockets_free(struct sockets *s);

/* Give a syscall or signal event its past, then learn from it (and from an exit). */
void sockets_see(struct sockets *s, struct event *ev);

/* Sockets or processes that could not be remembered for want of memory. */
unsigned long sockets_lost(const struct sockets *s);

#endif
