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
#include "owners.h"

struct notes;

struct notes *notes_new(void);
void notes_free(struct notes *n);

/* Fill ev->note for a syscall, signal, exec or exit event, in each process's order. */
void notes_explain(struct notes *n, struct event *ev);

/*
 * The note for x's RST before its FIN, to y, and for a connection that x
 * ended that way: from what x's process left unread when it closed, where
 * that was seen; else both possible causes, as an inference. 0 and buf
 * untouched where that was not seen and x never answered y's last data:
 * the note conn.c gives the segment (unread data, most likely) stands.
 */
int notes_rst(const struct rst_cause *c, const char *x, const char *y, char *buf, size_t len);
int notes_rst_summary(const struct rst_cause *c, const char *x, const char *y, char *buf, size_t len);

#endif
