/*
 * timeline: puts events from the capture and the tracer into one order, and
 * collapses repeats.
 *
 * Packets carry the kernel's capture time, process events the time the
 * tracer saw them; both are CLOCK_REALTIME. The tracer tells each followed
 * call twice: at its entry (PART_ENTRY, kept aside as a call in flight) and
 * at its return. A call during which nothing else happened goes out as one
 * line (PART_WHOLE); one that something fell inside (a packet, a signal,
 * another process's call) goes out in two halves, as strace shows it: its
 * entry (PART_UNFINISHED) at its time, what happened, then its result
 * (PART_RESUMED). Nothing later than the entry of a call in flight goes
 * out before that entry: a call that blocks cannot be outrun.
 *
 * Process events reach the timeline as they happen; packets reach it from
 * the capture's buffer a little late. Every event therefore waits a short
 * grace before it is let out, oldest first.
 *
 * Before that, each process's events pass through a repeat detector: when a
 * process does again what it just did, one event (recv returning 0) or a
 * cycle of up to REPEAT_MAX_PERIOD of them (recv = 0, send = -1 EPIPE,
 * SIGPIPE), the repeats are not let out one by one. The first time through
 * is shown, and the second; the detector then lets out an EV_REPEAT_START marker, counts,
 * and when the process does something else (or ends, or the run ends) lets
 * out one EV_REPEAT that says how many times, over how long.
 */
#ifndef SIGTRACE_TIMELINE_H
#define SIGTRACE_TIMELINE_H

#include <time.h>

#include "event.h"

struct timeline;

/*
 * grace_ns: how long an event waits for older ones that may still come (a
 * packet still in the capture's buffer); hold_ns: how long a possible repeat
 * is held back before it is let out as an ordinary event (must be shorter
 * than the grace).
 */
struct timeline *timeline_new(long long grace_ns, long long hold_ns);
void timeline_free(struct timeline *tl);

/*
 * Add an event (the timeline owns it). 0, or -1 when out of memory (the
 * event is dropped). A call's entry (PART_ENTRY) is kept as the thread's
 * call in flight; its result, pushed later, is made whole or the second half.
 */
int timeline_push(struct timeline *tl, struct event *ev);

/* A call's entry (PART_ENTRY), as timeline_push takes it. */
int timeline_enter(struct timeline *tl, struct event *entry);

/*
 * The next event that is due at now (older than the grace), or NULL: the
 * first half of a call in flight first, when the event fell inside it. With
 * now NULL, the end of the run: every held repeat is closed, every event is
 * due, and the calls that never returned go out as first halves. The caller owns the event.
 */
struct event *timeline_pop(struct timeline *tl, const struct timespec *now);

/*
 * The next event no later than until, grace or not, or NULL: for letting
 * out at once everything before a moment that must be shown now, by thread
 * tid. Events other threads hold as possible repeats go out as ordinary
 * ones (tid's own may be the start of its repeat); repeats being counted
 * stay open.
 */
struct event *timeline_pop_until(struct timeline *tl, const struct timespec *until, pid_t tid);

#endif
