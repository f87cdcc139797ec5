/*
 * netns: a private network namespace for the run, so that runs never clash
 * (every run has its own port 3333) and capture needs no privileges.
 *
 * As root, only a network namespace is made. Otherwise a user namespace
 * comes first, mapping the caller's uid and gid to 0 inside (as
 * `unshare -Ur` does), which grants the capabilities to bring lo up and
 * capture on it, inside the namespace only. The command must not have
 * them: before it runs, its process moves into a user namespace nested in
 * that one, which maps the caller's own uid and gid back
 * (netns_become_invoker), so that it runs as the user who ran it, with no
 * capability over the network namespace (no port below 1024, no capture).
 *
 * Errors go into the caller's err buffer (the functions return -1).
 */
#ifndef SIGTRACE_NETNS_H
#define SIGTRACE_NETNS_H

#include <stddef.h>

/* Move this process (single-threaded) into a new network namespace with lo up. 0, or -1 with err set. */
int netns_enter(char *err, size_t errlen);

/*
 * In the process that will run the command (forked after netns_enter):
 * become the invoking user again. Nothing to do (0) when the invoker was
 * root or no user namespace was made. 0, or -1 with err set.
 */
int netns_become_invoker(char *err, size_t errlen);

#endif
