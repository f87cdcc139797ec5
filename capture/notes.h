/*
 * notes: the plain words that go with each system call, signal, exec and
 * exit: what happened and why, for a reader who knows what a socket is and
 * little more.
 *
 * Notes come only from what was seen: the call, its result, and what this
 * process did earlier on the same socket (a recv that returned 0 makes the
 * next send's note say the peer has closed). Nothing depends on which
 * program runs. Packet notes come from conn.c.
 */
#ifndef SIGTRACE_NOTES_H
#define SIGTRACE_NOTES_H

#include "event.h"

struct notes;

struct notes *notes_new(void);
void notes_free(struct notes *n);

/* Fill ev->note for a syscall, signal, exec or exit event, in each process's order. */
void notes_explain(struct notes *n, struct event *ev);

#endif
