/*
 * Check the timeline: events leave in time order once the window has passed
 * them, ties in arrival order, and a process repeating itself is collapsed
 * into a count.
 */
#include "../../capture/timeline.h"

#include "check.h"

#define MS 1000000LL

static struct timespec at(long long ns)
{
    return (struct timespec){ .tv_sec = 1000 + ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
}

/* A recv() by tid at time ns returning ret. */
static struct event *recv_event(pid_t tid, long long ns, long long ret)
{
    struct event *ev = event_new(EV_SYSCALL);
    ev->t = at(ns);
    ev->pid = ev->tid = tid;
    ev->u.sys.kind = CALL_RECV;
    ev->u.sys.call = ev->u.sys.syscall = "recvfrom";
    ev->u.sys.fd = 4;
    ev->u.sys.len = 4096;
    ev->u.sys.ret = ret;
    return ev;
}

static long long ns_of(const struct event *ev)
{
    return (ev->t.tv_sec - 1000) * 1000000000LL + ev->t.tv_nsec;
}

/* A call's entry by tid at ns, as the tracer tells it. */
static struct event *entry_event(pid_t tid, long long ns, enum call_kind kind)
{
    struct event *ev = recv_event(tid, ns, -1);
    ev->u.sys.kind = kind;
    ev->u.sys.part = PART_ENTRY;
    ev->u.sys.entered = ev->t;
    return ev;
}

/* Its result at ns (stamped at the entry for a call that makes packets, as the tracer does). */
static struct event *result_event(pid_t tid, long long entered, long long ns, enum call_kind kind,
                                  long long ret)
{
    struct event *ev = recv_event(tid, ns, ret);
    ev->u.sys.kind = kind;
    ev->u.sys.entered = at(entered);
    ev->u.sys.returned = at(ns);
    if (kind != CALL_RECV && kind != CALL_ACCEPT)
        ev->t = at(entered);
    return ev;
}

static struct event *packet_event(long long ns)
{
    struct event *ev = event_new(EV_PACKET);
    ev->t = at(ns);
    return ev;
}

static enum call_part part_of(const struct event *ev)
{
    return ev->type == EV_SYSCALL ? ev->u.sys.part : (enum call_part) - 1;
}

/* Calls shown where they happen: whole, or split around what fell inside. */
static void check_calls(void)
{
    struct timeline *tl = timeline_new(100 * MS, 50 * MS);
    struct event *ev;

    /* Nothing inside: one line, at its entry for a connect */
    CHECK(timeline_push(tl, entry_event(5, 10 * MS, CALL_CONNECT)) == 0);
    CHECK(timeline_push(tl, result_event(5, 10 * MS, 11 * MS, CALL_CONNECT, 0)) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_WHOLE && ns_of(ev) == 10 * MS);
    event_free(ev);
    CHECK(timeline_pop(tl, NULL) == NULL);

    /* The SYN-ACK inside: entry, packet, result at its return */
    CHECK(timeline_push(tl, entry_event(15, 20 * MS, CALL_CONNECT)) == 0);
    CHECK(timeline_push(tl, packet_event(21 * MS)) == 0);
    CHECK(timeline_push(tl, result_event(15, 20 * MS, 22 * MS, CALL_CONNECT, 0)) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_UNFINISHED && ns_of(ev) == 20 * MS);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ev->type == EV_PACKET);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_RESUMED && ns_of(ev) == 22 * MS);
    event_free(ev);

    /* The same call again at once, something inside: a repeat, whole, for the detector */
    CHECK(timeline_push(tl, entry_event(15, 30 * MS, CALL_CONNECT)) == 0);
    CHECK(timeline_push(tl, packet_event(31 * MS)) == 0);
    CHECK(timeline_push(tl, result_event(15, 30 * MS, 32 * MS, CALL_CONNECT, 0)) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_WHOLE && ns_of(ev) == 30 * MS);
    event_free(ev);
    event_free(timeline_pop(tl, NULL));

    /* The capture gives the SYN-ACK late, after the connect returned: split when it goes out */
    CHECK(timeline_push(tl, entry_event(16, 40 * MS, CALL_CONNECT)) == 0);
    CHECK(timeline_push(tl, result_event(16, 40 * MS, 42 * MS, CALL_CONNECT, 0)) == 0);
    CHECK(timeline_push(tl, packet_event(41 * MS)) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_UNFINISHED && ns_of(ev) == 40 * MS);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ev->type == EV_PACKET);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_RESUMED && ns_of(ev) == 42 * MS);
    event_free(ev);

    /*
     * A call that blocks past the grace: what comes meanwhile is not held
     * back, and does not outrun the call's entry either.
     */
    CHECK(timeline_push(tl, entry_event(6, 100 * MS, CALL_ACCEPT)) == 0);
    CHECK(timeline_push(tl, packet_event(150 * MS)) == 0);
    struct timespec now = at(300 * MS);
    ev = timeline_pop(tl, &now);
    CHECK(ev && part_of(ev) == PART_UNFINISHED && ns_of(ev) == 100 * MS);
    event_free(ev);
    ev = timeline_pop(tl, &now);
    CHECK(ev && ev->type == EV_PACKET && ns_of(ev) == 150 * MS);
    event_free(ev);
    CHECK(timeline_pop(tl, &now) == NULL);
    CHECK(timeline_push(tl, result_event(6, 100 * MS, 900 * MS, CALL_ACCEPT, 4)) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_RESUMED && ns_of(ev) == 900 * MS);
    event_free(ev);

    /* Still running, nothing else due: the entry waits (it may yet be whole) */
    CHECK(timeline_push(tl, entry_event(7, 1000 * MS, CALL_RECV)) == 0);
    now = at(2000 * MS);
    CHECK(timeline_pop(tl, &now) == NULL);
    /* The end of the run: a call that never returned shows its entry */
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_UNFINISHED && ns_of(ev) == 1000 * MS);
    event_free(ev);
    CHECK(timeline_pop(tl, NULL) == NULL);

    /*
     * A process's exit inside its own call: the entry first, then a closing
     * part at the exit that says the call never returned, then the exit
     */
    CHECK(timeline_push(tl, entry_event(8, 3000 * MS, CALL_RECV)) == 0);
    struct event *exit_ev = event_new(EV_EXIT);
    exit_ev->t = at(3100 * MS);
    exit_ev->pid = exit_ev->tid = 8;
    exit_ev->u.exit.code = -1;
    exit_ev->u.exit.signo = 13;
    CHECK(timeline_push(tl, exit_ev) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_UNFINISHED && ns_of(ev) == 3000 * MS);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_NEVER && ns_of(ev) == 3100 * MS &&
          ev->u.sys.ended.signo == 13 && !ev->u.sys.ended_by_exec);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ev->type == EV_EXIT);
    event_free(ev);
    CHECK(timeline_pop(tl, NULL) == NULL);

    /*
     * The same call on the same fd again (a second accept) that waits past
     * the grace is no loop's turn: its first half goes out where it began,
     * before what came later, and the exit of its process closes it.
     */
    CHECK(timeline_push(tl, entry_event(9, 4000 * MS, CALL_ACCEPT)) == 0);
    CHECK(timeline_push(tl, result_event(9, 4000 * MS, 4010 * MS, CALL_ACCEPT, 4)) == 0);
    now = at(4200 * MS);
    ev = timeline_pop(tl, &now);
    CHECK(ev && part_of(ev) == PART_WHOLE && ns_of(ev) == 4010 * MS);
    event_free(ev);
    CHECK(timeline_push(tl, entry_event(9, 4020 * MS, CALL_ACCEPT)) == 0);
    CHECK(timeline_push(tl, packet_event(4100 * MS)) == 0);
    now = at(4300 * MS);
    ev = timeline_pop(tl, &now);
    CHECK(ev && part_of(ev) == PART_UNFINISHED && ns_of(ev) == 4020 * MS);
    event_free(ev);
    ev = timeline_pop(tl, &now);
    CHECK(ev && ev->type == EV_PACKET);
    event_free(ev);
    struct event *exec_ev = event_new(EV_EXEC);
    exec_ev->t = at(4400 * MS);
    exec_ev->pid = exec_ev->tid = 9;
    CHECK(timeline_push(tl, exec_ev) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && part_of(ev) == PART_NEVER && ns_of(ev) == 4400 * MS && ev->u.sys.ended_by_exec);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ev->type == EV_EXEC);
    event_free(ev);
    CHECK(timeline_pop(tl, NULL) == NULL);

    timeline_free(tl);
}

int main(void)
{
    struct timeline *tl = timeline_new(100 * MS, 50 * MS);
    struct event *ev;

    /* Out of order in, in order out; nothing younger than the window leaves early */
    CHECK(timeline_push(tl, recv_event(1, 30 * MS, 3)) == 0);
    CHECK(timeline_push(tl, recv_event(2, 10 * MS, 1)) == 0);
    CHECK(timeline_push(tl, recv_event(3, 20 * MS, 2)) == 0);
    struct timespec now = at(115 * MS);
    ev = timeline_pop(tl, &now);
    CHECK(ev && ns_of(ev) == 10 * MS);
    event_free(ev);
    CHECK(timeline_pop(tl, &now) == NULL);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ns_of(ev) == 20 * MS);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ns_of(ev) == 30 * MS);
    event_free(ev);
    CHECK(timeline_pop(tl, NULL) == NULL);

    /* Ties keep arrival order */
    CHECK(timeline_push(tl, recv_event(7, 200 * MS, 7)) == 0);
    CHECK(timeline_push(tl, recv_event(8, 200 * MS, 8)) == 0);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ev->tid == 7);
    event_free(ev);
    ev = timeline_pop(tl, NULL);
    CHECK(ev && ev->tid == 8);
    event_free(ev);

    /* pop_until lets out everything up to a moment, window or not */
    CHECK(timeline_push(tl, recv_event(9, 300 * MS, 1)) == 0);
    CHECK(timeline_push(tl, recv_event(10, 400 * MS, 1)) == 0);
    struct timespec until = at(350 * MS);
    ev = timeline_pop_until(tl, &until, 9);
    CHECK(ev && ns_of(ev) == 300 * MS);
    event_free(ev);
    CHECK(timeline_pop_until(tl, &until, 9) == NULL);
    event_free(timeline_pop(tl, NULL));

    /* A busy loop: recv() = 0 a thousand times is the first two, then a count */
    int pushed = 0;
    for (int i = 0; i < 1000; i++)
        pushed += timeline_push(tl, recv_event(42, 1000 * MS + i * 10000LL, 0)) == 0;
    CHECK(pushed == 1000);
    int plain = 0, starts = 0, repeats = 0;
    unsigned long collapsed = 0;
    while ((ev = timeline_pop(tl, NULL)) != NULL) {
        if (ev->type == EV_SYSCALL)
            plain++;
        else if (ev->type == EV_REPEAT_START)
            starts++;
        else if (ev->type == EV_REPEAT) {
            repeats++;
            collapsed = ev->u.rep.count[0];
            CHECK(ev->u.rep.period == 1);
            CHECK(ev->u.rep.calls_return);
        }
        event_free(ev);
    }
    CHECK(plain == 2);
    CHECK(starts == 1);
    CHECK(repeats == 1);
    CHECK(collapsed == 998);

    /* SIGCHLDs close together, or calls a signal cut short, can be no busy loop */
    for (int i = 0; i < 4; i++) {
        struct event *sig = event_new(EV_SIGNAL);
        sig->t = at(5000 * MS + i * 200000LL);
        sig->pid = sig->tid = 43;
        sig->u.sig.signo = 17;
        CHECK(timeline_push(tl, sig) == 0);
        struct event *restarted = recv_event(44, 5000 * MS + i * 200000LL, -1);
        restarted->u.sys.err = 512; /* ERESTARTSYS */
        CHECK(timeline_push(tl, restarted) == 0);
    }
    int judged = 0;
    while ((ev = timeline_pop(tl, NULL)) != NULL) {
        if (ev->type == EV_REPEAT) {
            judged++;
            CHECK(!ev->u.rep.calls_return);
        }
        event_free(ev);
    }
    CHECK(judged == 2);

    timeline_free(tl);
    check_calls();
    return check_done();
}
