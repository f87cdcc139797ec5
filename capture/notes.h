/*
 * notes: the plain words that go with each system call, signal, exec and
 * exit: what happened and why, for a reader who knows what a socket is and
 * little more.
 *
 * Notes come only from what was seen, and they keep nothing: an event's
 * facts, and the past its trackers gave it (a recv that returned 0 makes the
 * next send's note say the peer has closed: sockets.h). Nothing depends on
 * which program runs. notes_tcp.c writes the notes of segments and
 * connections, notes_option.c those of options and of SIGPIPE's settings,
 * notes_wait.c those of poll, select and epoll, notes.c the others. A
 * phrase a reader sees is written once.
 */
#ifndef SIGTRACE_NOTES_H
#define SIGTRACE_NOTES_H

#include "event.h"
#include "tcp.h"

/* Fill ev->note for a syscall, signal, exec or exit event (given its past: sockets_see()), or a repeat. */
void notes_explain(struct event *ev);

/*
 * The warning that who writes to sigtrace's own output faster than anyone
 * reads: per_second times a second (0: not known yet), bytes a time.
 */
void notes_flood(const char *who, double per_second, long long bytes, char *buf, size_t len);

/*
 * The note for one segment, from tcp_track()'s facts: x names its sender,
 * y its receiver ("the client", or a process as the timeline names it).
 */
void notes_segment(const struct seg_facts *f, const struct tcp_seg *seg, const char *x,
                   const char *y, char *buf, size_t len);

/*
 * The note for a connection's end, from its summary: who closed first and
 * how, and what it means for each side's next call. on and rn name the
 * originator and the responder as x and y above.
 */
void notes_connection(const struct conn_summary *s, const char *on, const char *rn, char *buf,
                      size_t len);

#endif
