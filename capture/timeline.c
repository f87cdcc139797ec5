/*
 * timeline: the calls in flight, the reorder heap (a min-heap on time,
 * each event let out after a short grace) and the per-process repeat
 * detector in front of it (repeats.c).
 */
#include "timeline.h"

#include <stdlib.h>

#include "timeline_int.h"

struct slot {
    struct event *ev;
    unsigned long seq; /* arrival order, for ties */
};

/* A followed call that entered and has not been let out: its entry, and whether it was split. */
struct inflight {
    struct event *entry; /* PART_ENTRY, at its entry's time */
    int split;           /* SPLIT: its first half went out; PASSED: later events did instead */
};

enum { SPLIT = 1, PASSED = 2 };

struct timeline *timeline_new(long long grace_ns, long long hold_ns)
{
    struct timeline *tl = calloc(1, sizeof(*tl));
    if (tl) {
        tl->grace_ns = grace_ns;
        tl->hold_ns = hold_ns;
    }
    return tl;
}

/* --- the heap -------------------------------------------------------------- */

static int slot_before(const struct slot *a, const struct slot *b)
{
    int c = ts_cmp(&a->ev->t, &b->ev->t);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

int timeline_heap_push(struct timeline *tl, struct event *ev)
{
    if (tl->nheap == tl->capheap) {
        size_t cap = tl->capheap ? tl->capheap * 2 : 256;
        struct slot *heap = realloc(tl->heap, cap * sizeof(*heap));
        if (!heap) {
            event_free(ev);
            return -1;
        }
        tl->heap = heap;
        tl->capheap = cap;
    }
    size_t i = tl->nheap++;
    tl->heap[i] = (struct slot){ ev, tl->seq++ };
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!slot_before(&tl->heap[i], &tl->heap[parent]))
            break;
        struct slot tmp = tl->heap[i];
        tl->heap[i] = tl->heap[parent];
        tl->heap[parent] = tmp;
        i = parent;
    }
    return 0;
}

static struct event *heap_pop(struct timeline *tl)
{
    struct event *top = tl->heap[0].ev;
    tl->heap[0] = tl->heap[--tl->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < tl->nheap && slot_before(&tl->heap[l], &tl->heap[m]))
            m = l;
        if (r < tl->nheap && slot_before(&tl->heap[r], &tl->heap[m]))
            m = r;
        if (m == i)
            break;
        struct slot tmp = tl->heap[i];
        tl->heap[i] = tl->heap[m];
        tl->heap[m] = tmp;
        i = m;
    }
    return top;
}
static long long ns_between(const struct timespec *later, const struct timespec *earlier)
{
    return (long long)(later->tv_sec - earlier->tv_sec) * 1000000000LL +
           (later->tv_nsec - earlier->tv_nsec);
}

/* --- calls in flight ------------------------------------------------------------ */

/* Calls one thread may have in flight: one, and one a handler makes in each of 3 nested handlers. */
#define NESTED_CALLS_MAX 4

/*
 * The call of tid's that entered last: a signal handler's call comes in
 * above the one its signal cut short, and returns first.
 */
static struct inflight *inflight_for(struct timeline *tl, pid_t tid)
{
    struct inflight *last = NULL;
    for (size_t i = 0; i < tl->ncalls; i++)
        if (tl->calls[i].entry->tid == tid &&
            (!last || ts_cmp(&tl->calls[i].entry->t, &last->entry->t) >= 0))
            last = &tl->calls[i];
    return last;
}

/* tid's call that entered first, and how many it has in flight. */
static struct inflight *inflight_oldest(struct timeline *tl, pid_t tid, size_t *n)
{
    struct inflight *first = NULL;
    *n = 0;
    for (size_t i = 0; i < tl->ncalls; i++)
        if (tl->calls[i].entry->tid == tid) {
            ++*n;
            if (!first || ts_cmp(&tl->calls[i].entry->t, &first->entry->t) < 0)
                first = &tl->calls[i];
        }
    return first;
}

static void inflight_drop(struct timeline *tl, struct inflight *c)
{
    event_free(c->entry);
    *c = tl->calls[--tl->ncalls];
}

int timeline_enter(struct timeline *tl, struct event *entry)
{
    /*
     * A thread has more than one call in flight only while signal handlers
     * run (each can make calls while the one its signal cut short waits).
     * Beyond that, the oldest is a call whose return never came (a handler
     * jumped out of it): it goes.
     */
    size_t n;
    struct inflight *oldest = inflight_oldest(tl, entry->tid, &n);
    if (n > NESTED_CALLS_MAX) {
        event_free(oldest->entry);
        *oldest = (struct inflight){ entry, 0 };
        return 0;
    }
    if (tl->ncalls == tl->capcalls) {
        size_t cap = tl->capcalls ? tl->capcalls * 2 : 16;
        struct inflight *calls = realloc(tl->calls, cap * sizeof(*calls));
        if (!calls) {
            event_free(entry);
            return -1;
        }
        tl->calls = calls;
        tl->capcalls = cap;
    }
    tl->calls[tl->ncalls++] = (struct inflight){ entry, 0 };
    return 0;
}

/* Between: later than a, earlier than b. */
static int between(const struct timespec *t, const struct timespec *a, const struct timespec *b)
{
    return ts_cmp(t, a) > 0 && ts_cmp(t, b) < 0;
}

/* Does an event the timeline holds fall between a call's entry and its return? */
static int something_between(const struct timeline *tl, const struct timespec *a,
                             const struct timespec *b)
{
    for (size_t i = 0; i < tl->nheap; i++)
        if (between(&tl->heap[i].ev->t, a, b))
            return 1;
    for (size_t i = 0; i < tl->ndets; i++)
        for (int j = 0; j < tl->dets[i].nheld; j++)
            if (between(&tl->dets[i].held[j]->t, a, b))
                return 1;
    return 0;
}

/* The first half of a split call: its entry, shown where it happened. */
static struct event *first_half(const struct event *ev)
{
    struct event *u = event_copy(ev);
    if (u) {
        u->t = ev->u.sys.entered;
        u->u.sys.part = PART_UNFINISHED;
        u->note[0] = '\0';
    }
    return u;
}
/*
 * A call returned: whole if nothing the timeline holds happened while it
 * ran, else its first half goes in at its entry and the result becomes the
 * second half, at its return.
 */
static void returned(struct timeline *tl, struct event *ev)
{
    struct inflight *c = inflight_for(tl, ev->tid);
    if (!c)
        return;
    struct syscall_facts *f = &ev->u.sys;
    int split = c->split == SPLIT;
    /* Split now, its first half at its entry: unless later events went out meanwhile. */
    f->settled = detector_repeats(tl, ev) || ts_cmp(&f->entered, &tl->out) < 0;
    if (!split && !f->settled && something_between(tl, &f->entered, &f->returned)) {
        struct event *u = first_half(ev);
        if (u)
            timeline_heap_push(tl, u);
        split = 1;
    }
    /*
     * Whole, a call is placed at its entry when it makes packets; a loop's
     * turn whose entry later events have passed goes where it returned.
     */
    if (split || ts_cmp(&ev->t, &tl->out) < 0)
        ev->t = f->returned;
    if (split)
        f->part = PART_RESUMED;
    inflight_drop(tl, c);
}

int timeline_push(struct timeline *tl, struct event *ev)
{
    if (ev->type == EV_SYSCALL) {
        if (ev->u.sys.part == PART_ENTRY)
            return timeline_enter(tl, ev);
        returned(tl, ev);
    }
    if (ev->type != EV_SYSCALL && ev->type != EV_SIGNAL && ev->type != EV_OUTPUT &&
        ev->type != EV_EXEC && ev->type != EV_EXIT)
        return timeline_heap_push(tl, ev);
    struct detector *d = detector_for(tl, ev->tid, 1);
    if (!d)
        return timeline_heap_push(tl, ev);
    if (ev->type == EV_EXEC || ev->type == EV_EXIT) {
        /* A new program, or the end: what came before is over. */
        detector_end(tl, d);
        enum event_type type = ev->type;
        int rc = timeline_heap_push(tl, ev);
        if (type == EV_EXIT)
            detector_forget(tl, d);
        else
            for (int i = 0; i < RECENT; i++) {
                event_free(d->recent[i]);
                d->recent[i] = NULL;
                d->nrecent = d->next = 0;
            }
        return rc;
    }
    detector_push(tl, d, ev);
    return 0;
}

/*
 * The event at the head of the heap is to go out: first, the first half of
 * any call that entered before it and is still running (or whose result
 * waits), which therefore it falls inside. NULL when there is none.
 */
static struct event *unfinished_before(struct timeline *tl, const struct timespec *t,
                                       const struct event *next, const struct timespec *asof)
{
    struct inflight *first = NULL;
    for (size_t i = 0; i < tl->ncalls; i++) {
        struct inflight *c = &tl->calls[i];
        if (c->split || (t && ts_cmp(&c->entry->t, t) >= 0))
            continue;
        /*
         * A loop's turn shows its first half only when its process ends in
         * it or a signal comes to its thread in it, and only if that does
         * not send the time back. A call that has run longer than the grace
         * by asof is no quick turn of a loop but a wait (a second accept):
         * it is split like any other, so that if its process dies in it,
         * its first half is where it began. A loop already being counted
         * stays one.
         */
        bool cut_by_next = next && next->pid == c->entry->pid &&
                           (next->type == EV_EXIT || next->type == EV_EXEC ||
                            (next->type == EV_SIGNAL && next->tid == c->entry->tid));
        if (detector_looping(tl, c->entry) &&
            (!asof || ns_between(asof, &c->entry->t) < tl->grace_ns ||
             detector_counting(tl, c->entry)) &&
            (!cut_by_next || ts_cmp(&c->entry->t, &tl->out) < 0)) {
            c->split = PASSED; /* later events go out: it can only be whole, where it returns */
            continue;
        }
        if (!first || ts_cmp(&c->entry->t, &first->entry->t) < 0)
            first = c;
    }
    if (!first)
        return NULL;
    first->split = SPLIT;
    return first_half(first->entry);
}

/*
 * A whole call placed at its entry (it makes packets) leaves the heap once
 * the grace has passed: a packet the capture gave late may since have come
 * that fell inside it. Then it is split after all: its first half goes out
 * now, its result goes back in at its return.
 */
static struct event *split_late(struct timeline *tl, struct event *ev)
{
    if (ev->type != EV_SYSCALL || ev->u.sys.part != PART_WHOLE || ev->u.sys.settled)
        return ev;
    struct syscall_facts *f = &ev->u.sys;
    if (!f->returned.tv_sec || ts_cmp(&ev->t, &f->entered) != 0 ||
        !something_between(tl, &f->entered, &f->returned))
        return ev;
    struct event *u = first_half(ev);
    if (!u)
        return ev;
    f->part = PART_RESUMED;
    ev->t = f->returned;
    /* Out of memory: the result is lost, the first half says the call began. */
    timeline_heap_push(tl, ev);
    return u;
}

/* An event leaves the timeline: later ones must not come before it. */
static struct event *let_go(struct timeline *tl, struct event *ev)
{
    if (ev && ts_cmp(&ev->t, &tl->out) > 0)
        tl->out = ev->t;
    return ev;
}

/* The closing part of a call its process's end cut short, at the end's time. */
static struct event *never_returned(const struct event *entry, const struct event *end)
{
    struct event *u = event_copy(entry);
    if (u) {
        u->t = end->t;
        u->u.sys.part = PART_NEVER;
        u->note[0] = '\0';
        if (end->type == EV_EXIT)
            u->u.sys.ended = end->u.exit;
        else
            u->u.sys.ended_by_exec = true;
    }
    return u;
}

/*
 * The head of the heap goes out. A process that ended or changed program
 * ended the calls its threads were in: before the end goes out, each such
 * call is shown: its first half, where it began (unless later events went
 * out meanwhile), and a closing part that says it never returned.
 */
static struct event *take_head(struct timeline *tl)
{
    const struct event *head = tl->heap[0].ev;
    if (head->type == EV_EXIT || head->type == EV_EXEC)
        for (size_t i = 0; i < tl->ncalls; i++) {
            struct inflight *c = &tl->calls[i];
            if (c->entry->pid != head->pid || ts_cmp(&c->entry->t, &head->t) >= 0)
                continue;
            struct event *u;
            /*
             * Its first half goes where it began, unless later events went
             * out meanwhile: then the closing part stands alone (its "..."
             * says the call began earlier), rather than a first half told
             * after what happened while it ran.
             */
            if (c->split != SPLIT) {
                c->split = SPLIT;
                if (ts_cmp(&c->entry->t, &tl->out) >= 0 && (u = first_half(c->entry)))
                    return u;
            }
            u = never_returned(c->entry, head);
            inflight_drop(tl, c);
            if (u)
                return u;
            i--; /* out of memory: the call is left unsaid */
        }
    return heap_pop(tl);
}

struct event *timeline_pop(struct timeline *tl, const struct timespec *now)
{
    for (size_t i = 0; i < tl->ndets; i++) {
        struct detector *d = &tl->dets[i];
        if (!now) {
            detector_end(tl, d);
            continue;
        }
        /* Held too long: it was not a repeat after all, or not a quick one. */
        if (d->nheld > 0 && ns_between(now, &d->held[0]->t) > tl->hold_ns)
            detector_release(tl, d);
        /* A process that stopped repeating and went quiet: say how often it repeated. */
        if (d->rep && ns_between(now, &d->rep->u.rep.last) > tl->hold_ns)
            detector_close(tl, d);
    }
    if (tl->nheap == 0) {
        /* The end of the run: the calls that never returned, as they began. */
        if (!now) {
            struct event *u = unfinished_before(tl, NULL, NULL, NULL);
            /* What is left is shown, or is a loop's turn the end cut short. */
            for (size_t i = 0; i < tl->ncalls; i++)
                if (tl->calls[i].split || detector_looping(tl, tl->calls[i].entry))
                    inflight_drop(tl, &tl->calls[i--]);
            return let_go(tl, u);
        }
        return NULL;
    }
    if (now && ns_between(now, &tl->heap[0].ev->t) < tl->grace_ns)
        return NULL;
    struct event *u = unfinished_before(tl, &tl->heap[0].ev->t, tl->heap[0].ev, now);
    return let_go(tl, u ? u : split_late(tl, take_head(tl)));
}

struct event *timeline_pop_until(struct timeline *tl, const struct timespec *until, pid_t tid)
{
    /* What other threads hold as possible repeats goes out as it is: it came first. */
    for (size_t i = 0; i < tl->ndets; i++)
        if (tl->dets[i].tid != tid && tl->dets[i].nheld > 0 &&
            ts_cmp(&tl->dets[i].held[0]->t, until) <= 0)
            detector_release(tl, &tl->dets[i]);
    if (tl->nheap == 0 || ts_cmp(&tl->heap[0].ev->t, until) > 0)
        return NULL;
    struct event *u = unfinished_before(tl, &tl->heap[0].ev->t, tl->heap[0].ev, until);
    return let_go(tl, u ? u : split_late(tl, take_head(tl)));
}

void timeline_free(struct timeline *tl)
{
    if (!tl)
        return;
    for (size_t i = 0; i < tl->ndets; i++) {
        struct detector *d = &tl->dets[i];
        for (int j = 0; j < RECENT; j++)
            event_free(d->recent[j]);
        for (int j = 0; j < d->nheld; j++)
            event_free(d->held[j]);
        event_free(d->rep);
    }
    for (size_t i = 0; i < tl->nheap; i++)
        event_free(tl->heap[i].ev);
    for (size_t i = 0; i < tl->ncalls; i++)
        event_free(tl->calls[i].entry);
    free(tl->calls);
    free(tl->dets);
    free(tl->heap);
    free(tl);
}
