/*
 * timeline: the calls in flight, the reorder heap (a min-heap on time,
 * each event let out after a short grace) and the per-process repeat
 * detector in front of it.
 *
 * The detector keeps, for each thread, copies of the last events it let
 * out ("recent"). A new event that equals the event p places back (for some
 * period p) might be the start of a repeat, so it is held; as long as the
 * held events keep matching the last p events, they stay held; when p of
 * them have matched, the process is repeating, and from then on matching
 * events are only counted. An event that matches nothing lets the held ones
 * out as ordinary events, and so does time: nothing is held longer than
 * hold_ns, so that the grace can still put it in order.
 */
#include "timeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int heap_push(struct timeline *tl, struct event *ev)
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

/* --- the repeat detector ------------------------------------------------------ */

static struct detector *detector_for(struct timeline *tl, pid_t tid, int create)
{
    for (size_t i = 0; i < tl->ndets; i++)
        if (tl->dets[i].tid == tid)
            return &tl->dets[i];
    if (!create)
        return NULL;
    if (tl->ndets == tl->capdets) {
        size_t cap = tl->capdets ? tl->capdets * 2 : 16;
        struct detector *dets = realloc(tl->dets, cap * sizeof(*dets));
        if (!dets)
            return NULL;
        tl->dets = dets;
        tl->capdets = cap;
    }
    struct detector *d = &tl->dets[tl->ndets++];
    memset(d, 0, sizeof(*d));
    d->tid = tid;
    return d;
}

/* The event let out k places back (k = 1: the last one). */
static struct event *recent_back(const struct detector *d, int k)
{
    int i = (d->next - k + RECENT) % RECENT;
    return d->recent[i];
}

/* Let an event out into the heap, and remember it as recent. */
static void let_out(struct timeline *tl, struct detector *d, struct event *ev)
{
    struct event *copy = event_copy(ev);
    if (copy) {
        event_free(d->recent[d->next]);
        d->recent[d->next] = copy;
        d->next = (d->next + 1) % RECENT;
        if (d->nrecent < RECENT)
            d->nrecent++;
    }
    heap_push(tl, ev);
}

static void release_held(struct timeline *tl, struct detector *d)
{
    for (int i = 0; i < d->nheld; i++)
        let_out(tl, d, d->held[i]);
    d->nheld = 0;
}

static void close_repeat(struct timeline *tl, struct detector *d)
{
    if (!d->rep)
        return;
    /*
     * Its line says how often, once the process did something else: if the
     * timeline has let out later events meanwhile (a write to our output
     * that could not wait), the count comes after them, at their time.
     */
    d->rep->t = d->rep->u.rep.last;
    if (ts_cmp(&d->rep->t, &tl->out) < 0)
        d->rep->t = tl->out;
    heap_push(tl, d->rep);
    d->rep = NULL;
}

/*
 * The period the held events are repeating, if any: the smallest p such that
 * the last 2p events let out are the same p events twice over, and the held
 * events equal the first of them. *complete is set when all p have matched:
 * the third time through.
 */
static int held_period(const struct detector *d, int *complete)
{
    for (int p = 1; 2 * p <= d->nrecent && p <= REPEAT_MAX_PERIOD; p++) {
        if (d->nheld > p)
            continue;
        int match = 1;
        for (int k = 1; k <= p && match; k++)
            match = event_same(recent_back(d, k), recent_back(d, k + p));
        for (int j = 0; j < d->nheld && match; j++)
            match = event_same(d->held[j], recent_back(d, p - j));
        if (match) {
            *complete = d->nheld == p;
            return p;
        }
    }
    return 0;
}

static void start_repeat(struct timeline *tl, struct detector *d, int period)
{
    struct event *rep = event_new(EV_REPEAT);
    if (!rep) {
        release_held(tl, d);
        return;
    }
    struct event *first = d->held[0];
    rep->t = first->t;
    rep->pid = first->pid;
    rep->tid = first->tid;
    rep->top = first->top;
    memcpy(rep->proc, first->proc, sizeof(rep->proc));
    rep->u.rep.period = period;
    rep->u.rep.first = first->t;
    rep->u.rep.last = d->held[d->nheld - 1]->t;
    rep->u.rep.cycles = 1;
    rep->u.rep.calls_return = false;
    for (int j = 0; j < period; j++) {
        const struct event *e = recent_back(d, period - j);
        if (e->type == EV_SYSCALL) {
            if (e->u.sys.err == EINTR || is_restart_code(e->u.sys.err)) {
                rep->u.rep.calls_return = false;
                break;
            }
            rep->u.rep.calls_return = true;
        }
    }
    for (int j = 0; j < period; j++) {
        rep->u.rep.pattern[j] = event_copy(recent_back(d, period - j));
        rep->u.rep.count[j] = 1;
        if (!rep->u.rep.pattern[j]) {
            rep->u.rep.period = j;
            event_free(rep);
            release_held(tl, d);
            return;
        }
    }
    struct event *marker = event_copy(rep);
    if (marker) {
        marker->type = EV_REPEAT_START;
        heap_push(tl, marker);
    }
    for (int i = 0; i < d->nheld; i++)
        event_free(d->held[i]);
    d->nheld = 0;
    d->rep = rep;
    d->phase = 0;
}

static void detect(struct timeline *tl, struct detector *d, struct event *ev)
{
    if (d->rep) {
        struct repeat_facts *r = &d->rep->u.rep;
        if (event_same(ev, r->pattern[d->phase])) {
            r->count[d->phase]++;
            r->last = ev->t;
            d->phase = (d->phase + 1) % r->period;
            if (d->phase == 0)
                r->cycles++;
            event_free(ev);
            return;
        }
        close_repeat(tl, d);
    }
    d->held[d->nheld++] = ev;
    while (d->nheld > 0) {
        int complete = 0;
        int p = held_period(d, &complete);
        if (p && complete) {
            start_repeat(tl, d, p);
            return;
        }
        if (p)
            return; /* keep holding: it may yet be a repeat */
        /* The oldest held event starts no repeat: let it out, try the rest. */
        struct event *oldest = d->held[0];
        memmove(d->held, d->held + 1, (size_t)(d->nheld - 1) * sizeof(d->held[0]));
        d->nheld--;
        let_out(tl, d, oldest);
    }
}

static void detector_end(struct timeline *tl, struct detector *d)
{
    close_repeat(tl, d);
    release_held(tl, d);
}

static void detector_forget(struct timeline *tl, struct detector *d)
{
    for (int i = 0; i < RECENT; i++)
        event_free(d->recent[i]);
    size_t i = (size_t)(d - tl->dets);
    tl->dets[i] = tl->dets[--tl->ndets];
}

/* --- calls in flight ------------------------------------------------------------ */

static struct inflight *inflight_for(struct timeline *tl, pid_t tid)
{
    for (size_t i = 0; i < tl->ncalls; i++)
        if (tl->calls[i].entry->tid == tid)
            return &tl->calls[i];
    return NULL;
}

static void inflight_drop(struct timeline *tl, struct inflight *c)
{
    event_free(c->entry);
    *c = tl->calls[--tl->ncalls];
}

int timeline_enter(struct timeline *tl, struct event *entry)
{
    struct inflight *c = inflight_for(tl, entry->tid);
    if (c) { /* a call whose return never came (the process went on elsewhere) */
        event_free(c->entry);
        *c = (struct inflight){ entry, 0 };
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
 * Does the call repeat what its thread did just before (a busy loop's
 * recv() = 0)? Such a call goes to the repeat detector whole: the count
 * says what the loop did, and splitting it around a helper's exit would only
 * break the count.
 */
static int repeats_recent(struct timeline *tl, const struct event *ev)
{
    struct detector *d = detector_for(tl, ev->tid, 0);
    if (!d)
        return 0;
    if (d->rep && event_same_call(ev, d->rep->u.rep.pattern[d->phase]))
        return 1;
    for (int k = 1; k <= d->nrecent; k++)
        if (event_same_call(ev, recent_back(d, k)))
            return 1;
    for (int j = 0; j < d->nheld; j++)
        if (event_same_call(ev, d->held[j]))
            return 1;
    return 0;
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
    f->settled = repeats_recent(tl, ev) || ts_cmp(&f->entered, &tl->out) < 0;
    if (!split && !f->settled && something_between(tl, &f->entered, &f->returned)) {
        struct event *u = first_half(ev);
        if (u)
            heap_push(tl, u);
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
        return heap_push(tl, ev);
    struct detector *d = detector_for(tl, ev->tid, 1);
    if (!d)
        return heap_push(tl, ev);
    if (ev->type == EV_EXEC || ev->type == EV_EXIT) {
        /* A new program, or the end: what came before is over. */
        detector_end(tl, d);
        enum event_type type = ev->type;
        int rc = heap_push(tl, ev);
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
    detect(tl, d, ev);
    return 0;
}

static long long ns_between(const struct timespec *later, const struct timespec *earlier)
{
    return (long long)(later->tv_sec - earlier->tv_sec) * 1000000000LL +
           (later->tv_nsec - earlier->tv_nsec);
}

/*
 * The event at the head of the heap is to go out: first, the first half of
 * any call that entered before it and is still running (or whose result
 * waits), which therefore it falls inside. NULL when there is none.
 */
/*
 * Is the call in flight one more turn of a loop its thread is in (repeating,
 * or calling the same on the same fd again)? Its first half is not shown
 * while others' events go out: the loop's count says what it did, and its
 * result, whole, goes where it returned.
 */
static int looping(struct timeline *tl, const struct event *entry)
{
    struct detector *d = detector_for(tl, entry->tid, 0);
    if (!d)
        return 0;
    if (d->rep)
        return 1;
    for (int k = 1; k <= d->nrecent; k++) {
        const struct event *e = recent_back(d, k);
        if (e->type == EV_SYSCALL && e->u.sys.kind == entry->u.sys.kind &&
            e->u.sys.fd == entry->u.sys.fd && e->u.sys.syscall == entry->u.sys.syscall)
            return 1;
    }
    return 0;
}

static struct event *unfinished_before(struct timeline *tl, const struct timespec *t,
                                       const struct event *next)
{
    struct inflight *first = NULL;
    for (size_t i = 0; i < tl->ncalls; i++) {
        struct inflight *c = &tl->calls[i];
        if (c->split || (t && ts_cmp(&c->entry->t, t) >= 0))
            continue;
        /*
         * A loop's turn shows its first half only when its process ends in
         * it, and only if that does not send the time back.
         */
        if (looping(tl, c->entry) &&
            (!next || (next->type != EV_EXIT && next->type != EV_EXEC) ||
             next->pid != c->entry->pid || ts_cmp(&c->entry->t, &tl->out) < 0)) {
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
    heap_push(tl, ev); /* out of memory: the result is lost, the first half says the call began */
    return u;
}

/* An event leaves the timeline: later ones must not come before it. */
static struct event *let_go(struct timeline *tl, struct event *ev)
{
    if (ev && ts_cmp(&ev->t, &tl->out) > 0)
        tl->out = ev->t;
    return ev;
}

/* The head of the heap goes out: the calls of a process that ended or changed program are over. */
static struct event *take_head(struct timeline *tl)
{
    struct event *ev = heap_pop(tl);
    if (ev->type == EV_EXIT || ev->type == EV_EXEC)
        for (size_t i = 0; i < tl->ncalls; i++)
            if (tl->calls[i].entry->pid == ev->pid && ts_cmp(&tl->calls[i].entry->t, &ev->t) < 0)
                inflight_drop(tl, &tl->calls[i--]);
    return ev;
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
            release_held(tl, d);
        /* A process that stopped repeating and went quiet: say how often it repeated. */
        if (d->rep && ns_between(now, &d->rep->u.rep.last) > tl->hold_ns)
            close_repeat(tl, d);
    }
    if (tl->nheap == 0) {
        /* The end of the run: the calls that never returned, as they began. */
        if (!now) {
            struct event *u = unfinished_before(tl, NULL, NULL);
            /* What is left is shown, or is a loop's turn the end cut short. */
            for (size_t i = 0; i < tl->ncalls; i++)
                if (tl->calls[i].split || looping(tl, tl->calls[i].entry))
                    inflight_drop(tl, &tl->calls[i--]);
            return let_go(tl, u);
        }
        return NULL;
    }
    if (now && ns_between(now, &tl->heap[0].ev->t) < tl->grace_ns)
        return NULL;
    struct event *u = unfinished_before(tl, &tl->heap[0].ev->t, tl->heap[0].ev);
    return let_go(tl, u ? u : split_late(tl, take_head(tl)));
}

struct event *timeline_pop_until(struct timeline *tl, const struct timespec *until, pid_t tid)
{
    /* What other threads hold as possible repeats goes out as it is: it came first. */
    for (size_t i = 0; i < tl->ndets; i++)
        if (tl->dets[i].tid != tid && tl->dets[i].nheld > 0 &&
            ts_cmp(&tl->dets[i].held[0]->t, until) <= 0)
            release_held(tl, &tl->dets[i]);
    if (tl->nheap == 0 || ts_cmp(&tl->heap[0].ev->t, until) > 0)
        return NULL;
    struct event *u = unfinished_before(tl, &tl->heap[0].ev->t, tl->heap[0].ev);
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
