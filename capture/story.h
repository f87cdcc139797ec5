/*
 * story: which events the timeline tells, and how it names processes.
 *
 * The story is packets, socket calls and everything that happens to a
 * process that made one (it is "involved"), and of other processes only
 * what kills them: the helpers of a script that never touch a socket (grep,
 * date, sleep), their exec and exit, the SIGCHLD their parent gets, stay
 * out. A process's exec, and the calls it made about SIGPIPE since (a
 * server's signal(SIGPIPE, SIG_IGN) before its socket()), are told when the
 * process becomes involved. Every printer tells the same story; JSON has
 * every event besides.
 */
#ifndef SIGTRACE_STORY_H
#define SIGTRACE_STORY_H

#include <stdbool.h>

#include "event.h"

/* Writes to the output repeated this often a second flood a terminal. */
#define FLOOD_PER_SECOND 100

/* The calls about SIGPIPE a process not yet involved may make that are kept for its introduction. */
#define STORY_HELD 8

/* What is told before an event that makes its process involved, in order; the caller frees it. */
struct story_intro {
    struct event *ev[1 + STORY_HELD]; /* its exec, then its calls about SIGPIPE */
    size_t n;
};

void story_intro_free(struct story_intro *in);

struct story;

/* An empty story, or NULL when out of memory. */
struct story *story_new(void);
void story_free(struct story *st);

/*
 * How the timeline names a process: its name, and "client 2" for a second
 * process named client. The same pid always gets the same label.
 */
const char *story_label(struct story *st, pid_t pid, const char *comm);

/*
 * Is ev part of the story? When it makes its process part of the story,
 * intro gets that process's earlier exec and calls about SIGPIPE, to be told
 * first; else it is left empty.
 */
bool story_tells(struct story *st, const struct event *ev, struct story_intro *intro);

/* Did this process listen or accept (the ladder's right-hand side)? */
bool story_is_server(struct story *st, pid_t pid);

/*
 * Does ev, a repeat, show its process writing to sigtrace's own output faster
 * than a terminal can be read (FLOOD_PER_SECOND)? true the first time for a
 * process, with *per_second (0 at the repeat's start, when its pace is not
 * known yet) and *bytes, what one cycle writes.
 */
bool story_floods(struct story *st, const struct event *ev, double *per_second, long long *bytes);

/* Processes the story could not remember for want of memory (each is told as involved). */
unsigned long story_lost(const struct story *st);

/*
 * Calls about SIGPIPE made before a process became involved that its
 * introduction left out: beyond the last STORY_HELD, or for want of memory.
 */
unsigned long story_untold(const struct story *st);

#endif
