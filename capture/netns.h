/*
 * netns: a private network namespace for the run, so that runs never clash
 * (every run has its own port 3333) and capture needs no privileges.
 *
 * As root, only a network namespace is made. Otherwise a user namespace
 * comes first, mapping the caller's uid and gid to 0 inside (as
 * `unshare -Ur` does), which grants the capabilities to bring lo up and
 * capture on it, inside the namespace only.
 */
#ifndef SIGTRACE_NETNS_H
#define SIGTRACE_NETNS_H

#include <stddef.h>

/* Move this process (single-threaded) into a new network namespace with lo up. 0, or -1 with err set. */
int netns_enter(char *err, size_t errlen);

#endif
