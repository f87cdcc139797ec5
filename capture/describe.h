/*
 * describe: an event as the timeline writes it, for every printer: who (the
 * process's label, or a packet's ends), what (a call as strace would show
 * it, a packet's flags and relative numbers) and the note. Bytes from the
 * traced programs go through escape.h.
 */
#ifndef SIGTRACE_DESCRIBE_H
#define SIGTRACE_DESCRIBE_H

#include <stddef.h>

#include "event.h"
#include "story.h"
#include "vocab.h"

/* DISP_DEFAULT "default", DISP_IGNORED "ignored", DISP_CAUGHT "caught". */
extern const struct tok dispositions[];

/* "send(4, "done\n", 5) = -1 EPIPE" */
void describe_call(const struct syscall_facts *f, char *buf, size_t len);

/* "SIGPIPE (default: terminate)", "SIGPIPE (ignored)" */
void describe_signal(const struct signal_facts *s, char *buf, size_t len);

/* Who (a label, "client→server", "connection") and what, as the text timeline shows them. */
void describe_who_what(struct story *st, const struct event *ev, char *who, size_t wlen, char *what,
                       size_t len);

/* The note; for a repeat, what repeats, then its note. */
void describe_note(const struct event *ev, char *buf, size_t len);

/* "who: what -- note" on one line: a pcapng comment. */
void describe_line(struct story *st, const struct event *ev, char *buf, size_t len);

#endif
