/*
 * repeats: the per-process repeat detector in front of the timeline's heap.
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
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "timeline_int.h"

struct detector *detector_for(struct timeline *tl, pid_t tid, int create)
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
    timeline_heap_push(tl, ev);
}

void detector_release(struct timeline *tl, struct detector *d)
{
    for (int i = 0; i < d->nheld; i++)
        let_out(tl, d, d->held[i]);
    d->nheld = 0;
}

void detector_close(struct timeline *tl, struct detector *d)
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
    timeline_heap_push(tl, d->rep);
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

/* Count a wait (poll ...) of the loop: one more, and whether it waited. */
static void count_wait(struct repeat_facts *r, const struct event *e)
{
    if (e->type != EV_SYSCALL || e->u.sys.kind != CALL_WAIT)
        return;
    r->waits++;
    if (wait_waited(&e->u.sys))
        r->waits_blocked++;
}

static void start_repeat(struct timeline *tl, struct detector *d, int period)
{
    struct event *rep = event_new(EV_REPEAT);
    if (!rep) {
        detector_release(tl, d);
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
    for (int j = 0; j < period; j++)
        count_wait(&rep->u.rep, recent_back(d, period - j));
    for (int j = 0; j < d->nheld; j++)
        count_wait(&rep->u.rep, d->held[j]);
    for (int j = 0; j < period; j++) {
        rep->u.rep.pattern[j] = event_copy(recent_back(d, period - j));
        rep->u.rep.count[j] = 1;
        if (!rep->u.rep.pattern[j]) {
            rep->u.rep.period = j;
            event_free(rep);
            detector_release(tl, d);
            return;
        }
    }
    struct event *marker = event_copy(rep);
    if (marker) {
        marker->type = EV_REPEAT_START;
        timeline_heap_push(tl, marker);
    }
    for (int i = 0; i < d->nheld; i++)
        event_free(d->held[i]);
    d->nheld = 0;
    d->rep = rep;
    d->phase = 0;
}

void detector_push(struct timeline *tl, struct detector *d, struct event *ev)
{
    if (d->rep) {
        struct repeat_facts *r = &d->rep->u.rep;
        if (event_same(ev, r->pattern[d->phase])) {
            r->count[d->phase]++;
            count_wait(r, ev);
            r->last = ev->t;
            d->phase = (d->phase + 1) % r->period;
            if (d->phase == 0)
                r->cycles++;
            event_free(ev);
            return;
        }
        detector_close(tl, d);
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

void detector_end(struct timeline *tl, struct detector *d)
{
    detector_close(tl, d);
    detector_release(tl, d);
}

void detector_forget(struct timeline *tl, struct detector *d)
{
    for (int i = 0; i < RECENT; i++)
        event_free(d->recent[i]);
    size_t i = (size_t)(d - tl->dets);
    tl->dets[i] = tl->dets[--tl->ndets];
}
/*
 * Does the call repeat what its thread did just before (a busy loop's
 * recv() = 0)? Such a call goes to the repeat detector whole: the count
 * says what the loop did, and splitting it around a helper's exit would only
 * break the count.
 */
int detector_repeats(struct timeline *tl, const struct event *ev)
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
 * Is the call in flight one more turn of a loop its thread is in (repeating,
 * or calling the same on the same fd again)? Its first half is not shown
 * while others' events go out: the loop's count says what it did, and its
 * result, whole, goes where it returned.
 */
int detector_looping(struct timeline *tl, const struct event *entry)
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

/* Is the thread of the call in flight entry in a loop being counted? */
int detector_counting(struct timeline *tl, const struct event *entry)
{
    const struct detector *d = detector_for(tl, entry->tid, 0);
    return d && d->rep;
}
