/*
 * owners: which traced process owns which TCP endpoint, learned from its
 * socket calls (listen names a port, on every address when bound to the
 * wildcard; accept and connect name an exact address and port), and each
 * packet's sequence numbers relative to the start of its direction, as
 * Wireshark shows them.
 *
 * Owners are learned in timeline order, so a packet is named by what the
 * processes had done before it. A name stays until another process takes
 * the endpoint: a socket outlives its process for a while (the RST a closed
 * client sends still comes from "client").
 */
#ifndef SIGTRACE_OWNERS_H
#define SIGTRACE_OWNERS_H

#include "conn.h"
#include "event.h"

struct owners;

/* Names learned are passed on to conns (may be NULL) for its notes. */
struct owners *owners_new(struct conn_table *conns);
void owners_free(struct owners *o);

/* Learn from a syscall event (bind, listen, accept, connect that succeeded). */
void owners_learn(struct owners *o, const struct event *ev);

/* The owner of an endpoint (exact address first, then a wildcard listener): 1 and *pid, comm set, or 0. */
int owners_find(const struct owners *o, const struct endpoint *e, pid_t *pid, char comm[16]);

/* Fill a packet event's rel_seq and rel_ack. */
void owners_sequence(struct owners *o, struct event *ev);

/* A connection is over: forget its sequence bases. */
void owners_forget(struct owners *o, const struct conn_summary *s);

#endif
