/*
 * owners: which traced process owns which TCP endpoint, learned from its
 * socket calls (listen names a port, on every address when bound to the
 * wildcard; accept and connect name an exact address and port), and how much
 * each process read from each connection it held, until it closed it.
 *
 * Owners are learned in timeline order, so a packet is named by what the
 * processes had done before it. A name stays until another process takes
 * the endpoint: a socket outlives its process for a while (the RST a closed
 * client sends still comes from "client"). An IPv4 address as an IPv6
 * socket shows it (::ffff:a.b.c.d) is kept as the IPv4 address on the wire.
 */
#ifndef SIGTRACE_OWNERS_H
#define SIGTRACE_OWNERS_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"

struct owners;

struct owners *owners_new(void);
void owners_free(struct owners *o);

/*
 * Learn from a syscall event (bind, listen, accept, connect that succeeded;
 * then the connection's reads, SO_LINGER, its dups and its close) or an exit.
 */
void owners_learn(struct owners *o, const struct event *ev);

/* A SYN from src to dst: if nobody owns src, the failed connect() to dst that sent it does. */
void owners_see_syn(struct owners *o, const struct endpoint *src, const struct endpoint *dst);

/*
 * The owner of an endpoint e talking to peer (NULL: any): the process that
 * holds that very connection, if one does (of a listener's connections,
 * each has its own: a forking server's children); else e's owner, exact
 * address first, then a wildcard listener. 1 and *pid, comm set, or 0.
 */
int owners_find(const struct owners *o, const struct endpoint *e, const struct endpoint *peer,
                pid_t *pid, char comm[16]);

/*
 * A RST from local to remote at t, for a connection no traced process ever
 * held, once the listening socket on local closed and none listens there
 * any more: it was still in the listener's queue, never accepted, and
 * closing the listener reset it.
 */
bool owners_unaccepted(const struct owners *o, const struct endpoint *local,
                       const struct endpoint *remote, const struct timespec *t);

/*
 * How the socket local-remote, whose FIN (or RST) comes at t, was closed: by
 * the last close of it seen by then; *signo, the signal its process died of.
 */
enum close_how owners_closed_how(const struct owners *o, const struct endpoint *local,
                                 const struct endpoint *remote, const struct timespec *t,
                                 int *signo);

/*
 * A RST from local to remote at t that follows the close() (or exit) of
 * the owner's socket: true, *read (the bytes its process had read) and
 * *linger_zero (it had set SO_LINGER {on, 0}); false if no such close was seen.
 */
bool owners_read_at_close(const struct owners *o, const struct endpoint *local,
                          const struct endpoint *remote, const struct timespec *t, uint64_t *read,
                          bool *linger_zero);

/*
 * The connected sockets pid still holds open, as its calls showed: up to max
 * fds into fds and their peers into remotes. Returns how many.
 */
size_t owners_open(const struct owners *o, pid_t pid, int *fds, struct endpoint *remotes,
                   size_t max);

/* A connection between a and b is over: forget its closed sockets. */
void owners_forget(struct owners *o, const struct endpoint *a, const struct endpoint *b);

#endif
