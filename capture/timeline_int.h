/*
 * timeline_int: the timeline's own types, shared by timeline.c (the order:
 * the heap, the calls in flight, what goes out when) and repeats.c (the
 * repeat detector in front of the heap). Not for the rest of the tracer.
 */
#ifndef SIGTRACE_TIMELINE_INT_H
#define SIGTRACE_TIMELINE_INT_H

#include "timeline.h"

/* A cycle collapses from its third time through: twice must be seen, in full. */
#define RECENT (2 * REPEAT_MAX_PERIOD)

struct detector {
    pid_t tid;
    struct event *recent[RECENT]; /* ring: the last events let out */
    int nrecent, next;
    struct event *held[REPEAT_MAX_PERIOD];
    int nheld;
    struct event *rep; /* the repeat being counted, or NULL */
    int phase;         /* where in the cycle the next event should fall */
};
struct slot;     /* timeline.c: an event in the heap */
struct inflight; /* timeline.c: a call in flight */

struct timeline {
    long long grace_ns, hold_ns;
    struct slot *heap;
    size_t nheap, capheap;
    unsigned long seq;
    struct detector *dets;
    size_t ndets, capdets;
    struct inflight *calls;
    size_t ncalls, capcalls;
    struct timespec out; /* the time of the last event let out */
};

/* timeline.c: an event into the heap; -1 when out of memory (the event is freed). */
int timeline_heap_push(struct timeline *tl, struct event *ev);

/* repeats.c: thread tid's detector, made if new when create is set; NULL if none. */
struct detector *detector_for(struct timeline *tl, pid_t tid, int create);

/* repeats.c: a thread's event, through its detector: counted, held, or let out into the heap. */
void detector_push(struct timeline *tl, struct detector *d, struct event *ev);

/* repeats.c: the held events go out as they are. */
void detector_release(struct timeline *tl, struct detector *d);

/* repeats.c: the repeat being counted goes out (EV_REPEAT), saying how often. */
void detector_close(struct timeline *tl, struct detector *d);

/* repeats.c: the thread changed program or ended: what it held or counted goes out. */
void detector_end(struct timeline *tl, struct detector *d);

/* repeats.c: the thread is gone: its detector too. */
void detector_forget(struct timeline *tl, struct detector *d);

/* repeats.c: does the call ev repeat what its thread did just before? */
int detector_repeats(struct timeline *tl, const struct event *ev);

/* repeats.c: is the call in flight entry one more turn of a loop its thread is in? */
int detector_looping(struct timeline *tl, const struct event *entry);

/* repeats.c: is the thread of the call in flight entry in a repeat being counted? */
int detector_counting(struct timeline *tl, const struct event *entry);

#endif
