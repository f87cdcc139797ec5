/*
 * Check the story: a process's calls about SIGPIPE made before it touches a
 * socket are told, after its exec, when it does (the last STORY_HELD, the
 * earlier counted); a helper's never are; an exec starts the count afresh.
 */
#include <stdio.h>

#include "../../capture/story.h"

#include "check.h"

static struct event *exec_event(pid_t pid)
{
    struct event *ev = event_new(EV_EXEC);
    ev->pid = ev->tid = pid;
    return ev;
}

/* rt_sigaction by pid, told apart by n (its value). */
static struct event *sigaction_event(pid_t pid, int n)
{
    struct event *ev = event_new(EV_SYSCALL);
    ev->pid = ev->tid = pid;
    ev->u.sys.kind = CALL_SIGNAL;
    ev->u.sys.call = ev->u.sys.syscall = "rt_sigaction";
    ev->u.sys.value = n;
    snprintf(ev->u.sys.args, sizeof ev->u.sys.args, "SIGPIPE, %d", n);
    return ev;
}

static struct event *socket_event(pid_t pid)
{
    struct event *ev = event_new(EV_SYSCALL);
    ev->pid = ev->tid = pid;
    ev->u.sys.kind = CALL_SOCKET;
    ev->u.sys.call = ev->u.sys.syscall = "socket";
    return ev;
}

/* story_tells of ev, which is then freed. */
static bool tells(struct story *st, struct event *ev, struct story_intro *intro)
{
    bool told = story_tells(st, ev, intro);
    event_free(ev);
    return told;
}

int main(void)
{
    struct story *st = story_new();
    struct story_intro intro;

    /* A server: exec, ten sigactions, then socket(). */
    CHECK(!tells(st, exec_event(10), &intro) && intro.n == 0);
    for (int i = 0; i < 10; i++)
        CHECK(!tells(st, sigaction_event(10, i), &intro) && intro.n == 0);
    CHECK(tells(st, socket_event(10), &intro));
    CHECK(intro.n == 1 + STORY_HELD);
    CHECK(intro.n > 0 && intro.ev[0]->type == EV_EXEC);
    for (size_t i = 1; i < intro.n; i++)
        CHECK(intro.ev[i]->u.sys.value == (long long)(10 - STORY_HELD + i - 1));
    CHECK(story_untold(st) == 10 - STORY_HELD);
    story_intro_free(&intro);
    /* Involved now: its calls are told as they come, with no introduction. */
    CHECK(tells(st, sigaction_event(10, 99), &intro) && intro.n == 0);

    /* A helper that never touches a socket: nothing of it is told, or kept past its exit. */
    CHECK(!tells(st, exec_event(20), &intro));
    CHECK(!tells(st, sigaction_event(20, 1), &intro));
    struct event *exit_ev = event_new(EV_EXIT);
    exit_ev->pid = exit_ev->tid = 20;
    CHECK(!tells(st, exit_ev, &intro) && intro.n == 0);

    /* A call before an exec is not part of the new program's introduction. */
    CHECK(!tells(st, sigaction_event(30, 1), &intro));
    CHECK(!tells(st, exec_event(30), &intro));
    CHECK(!tells(st, sigaction_event(30, 2), &intro));
    CHECK(tells(st, socket_event(30), &intro));
    CHECK(intro.n == 2 && intro.ev[0]->type == EV_EXEC && intro.ev[1]->u.sys.value == 2);
    story_intro_free(&intro);
    CHECK(story_untold(st) == 10 - STORY_HELD);

    story_free(st);
    return check_done();
}
