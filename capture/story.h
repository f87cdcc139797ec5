/*
 * story: which events the timeline tells, and how it names processes.
 *
 * The story is packets, socket calls and everything that happens to a
 * process that made one (it is "involved"), and of other processes only
 * what kills them: the helpers of a script that never touch a socket (grep,
 * date, sleep), their exec and exit, the SIGCHLD their parent gets, stay
 * out. A process's exec is told when the process becomes involved. Every
 * printer tells the same story; JSON has every event besides.
 */
#ifndef SIGTRACE_STORY_H
#define SIGTRACE_STORY_H

#include <stdbool.h>

#include "event.h"

/* Writes to the output repeated this often a second flood a terminal. */
#define FLOOD_PER_SECOND 100

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
 * *intro gets that process's earlier exec, to be told first (the caller
 * frees it), else NULL.
 */
bool story_tells(struct story *st, const struct event *ev, struct event **intro);

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

#endif
