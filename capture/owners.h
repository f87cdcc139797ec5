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

/* Names learned are passed on to conns (may be NULL) for its notes: an event's label, else its comm. */
struct owners *owners_new(struct conn_table *conns);
void owners_free(struct owners *o);

/*
 * Learn from a syscall event (bind, listen, accept, connect that succeeded;
 * then the connection's reads and its close) or an exit.
 */
void owners_learn(struct owners *o, const struct event *ev);

/* The owner of an endpoint (exact address first, then a wildcard listener): 1 and *pid, comm set, or 0. */
int owners_find(const struct owners *o, const struct endpoint *e, pid_t *pid, char comm[16]);

/* Fill a packet event's rel_seq and rel_ack. */
void owners_sequence(struct owners *o, struct event *ev);

/*
 * Why a side reset a connection before sending FIN. The wire alone cannot
 * tell unread data (the kernel acknowledges data before the program reads
 * it) from SO_LINGER zero; the processes can: a RST that follows the owner's
 * close() comes with what the owner read, against what arrived on the wire.
 */
struct rst_cause {
    int first;        /* the RST came before any FIN of either side */
    int peer_answered;/* the resetting side had sent data after the last its peer sent (or it sent none) */
    long long unread; /* bytes its process left unread at close(), just before; -1: not seen */
};

/* For a packet after owners_sequence: 1 and *c if it is its sender's first RST, before any FIN of its own. */
int owners_rst_cause(const struct owners *o, const struct event *ev, struct rst_cause *c);

/* For a summary: 1, *by_orig (the originator reset) and *c if the connection ended with a RST before any FIN. */
int owners_rst_first(const struct owners *o, const struct conn_summary *s, int *by_orig, struct rst_cause *c);

/* A connection is over: forget its sequence bases and its closed sockets. */
void owners_forget(struct owners *o, const struct conn_summary *s);

#endif
