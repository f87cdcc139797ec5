/*
 * zeek_int: what zeek.c (the state machine and history) and zeek_gaps.c
 * (content gaps) share. Not for the rest of the tracer.
 */
#ifndef SIGTRACE_ZEEK_INT_H
#define SIGTRACE_ZEEK_INT_H

#include <stdint.h>

#include "zeek.h"

/* Zeek's ScaledHistoryEntry: the letter again at 1, 10, 100, ... occurrences. */
void zeek_hist_scaled(struct zeek_conn *c, const struct zeek_endpoint *e, char code,
                      uint32_t *counter, uint32_t *threshold);

/* TCP_Reassembler::DataSent, without the bytes: e sent len bytes at relative seq. */
void zeek_data_sent(struct zeek_endpoint *e, uint64_t seq, uint32_t len);

/* TCP_Reassembler::AckReceived: the peer acknowledged e's bytes below relative seq (a gap where unseen). */
void zeek_ack_received(struct zeek_conn *c, struct zeek_endpoint *e, uint64_t seq);

#endif
