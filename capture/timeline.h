/*
 * timeline: puts events from the capture and the tracer into one order, and
 * collapses repeats.
 *
 * Packets carry the kernel's capture time, process events the time the
 * tracer saw them; both are CLOCK_REALTIME. They reach us a little out of
 * order, so every event waits in a short reorder window before it is let
 * out, oldest first.
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
 * window_ns: how long an event waits for older ones that may still come;
 * hold_ns: how long a possible repeat is held back before it is let out as
 * an ordinary event (must be shorter than the window).
 */
struct timeline *timeline_new(long long window_ns, long long hold_ns);
void timeline_free(struct timeline *tl);

/* Add an event (the timeline owns it). 0, or -1 when out of memory (the event is dropped). */
int timeline_push(struct timeline *tl, struct event *ev);

/*
 * The next event that is due at now (older than the window), or NULL. With
 * now NULL, the end of the run: every held repeat is closed, and every
 * event is due. The caller owns the event.
 */
struct event *timeline_pop(struct timeline *tl, const struct timespec *now);

/*
 * The next event no later than until, window or not, or NULL: for letting
 * out at once everything before a moment that must be shown now, by thread
 * tid. Events other threads hold as possible repeats go out as ordinary
 * ones (tid's own may be the start of its repeat); repeats being counted
 * stay open.
 */
struct event *timeline_pop_until(struct timeline *tl, const struct timespec *until, pid_t tid);

#endif
