/*
 * tcp: the one TCP connection tracker. For every segment it finds the
 * connection (both directions of a 4-tuple), keeps per side what the
 * segments showed (sequence space, SYN, FIN and RST seen, bytes sent and
 * acknowledged, relative sequence numbers as Wireshark shows them), runs
 * Zeek's state machine (zeek.h) for conn_state, history and content gaps
 * (missed_bytes: bytes acknowledged that the capture never showed), and says what
 * the segment is, as facts: notes.c turns them into words.
 *
 * The originator is Zeek's: the side that sent the first SYN; where the
 * first segment seen is no SYN (a capture begun mid-connection) or a
 * SYN-ACK, its sender, unless its port looks like a server's (below 1024)
 * and the other's does not: then its receiver (the history starts with '^').
 *
 * A connection is summarised and forgotten when one of Zeek's timers for
 * it runs out, each checked against every segment's own time, before that
 * segment is tracked (so whether a later segment on the same ports begins a
 * new connection depends on the times alone, never on other traffic):
 *   - tcp_attempt_delay after the originator's SYN, if no answer came;
 *   - tcp_close_delay after the segment that completed its close (a RST, or
 *     the second side's FIN, or a FIN to a side never heard from), however
 *     many segments follow;
 *   - tcp_session_timer after one side closed, and again every
 *     tcp_session_timer: once tcp_connection_linger passed with no segment,
 *     if both closed, or one reset, or one was never heard from;
 *   - tcp_inactivity_timeout after its last segment.
 * Zeek's partial-close timer is not kept: Zeek sets it only when
 * connection_partial_close has a handler, which by default it has not.
 * A SYN that reuses the ports of an open connection (zeek_is_reuse) ends
 * the old one at once.
 *
 * Memory grows with the connections open at once, up to TCP_CONN_MAX: past
 * it, the connection whose timer runs out first is summarised early, and
 * tcp_early() counts them. Out of memory, a segment is not tracked, and says so.
 */
#ifndef SIGTRACE_TCP_H
#define SIGTRACE_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "decode.h"
#include "event.h"

/* Zeek's timers (base/init-bare.zeek), in nanoseconds. */
#define ZEEK_TCP_ATTEMPT_DELAY_NS 5000000000LL        /* tcp_attempt_delay: 5 secs */
#define ZEEK_TCP_CLOSE_DELAY_NS 5000000000LL          /* tcp_close_delay: 5 secs */
#define ZEEK_TCP_INACTIVITY_TIMEOUT_NS 300000000000LL /* tcp_inactivity_timeout: 5 min */
#define ZEEK_TCP_SESSION_TIMER_NS 6000000000LL        /* tcp_session_timer: 6 secs */
#define ZEEK_TCP_CONNECTION_LINGER_NS 5000000000LL    /* tcp_connection_linger: 5 secs */

/*
 * Connections kept at once, at most (each some 900 bytes: about 230 MB).
 * A capture whose times run backwards never lets a timer run out; this bound
 * is what keeps its memory.
 */
#define TCP_CONN_MAX 262144

/* What a segment is, from what both sides sent before it. */
enum seg_kind {
    SEG_UNTRACKED,    /* out of memory: not tracked */
    SEG_SYN_WITH_FIN, /* no normal TCP sends these three */
    SEG_SYN_WITH_RST,
    SEG_FIN_WITH_RST,
    SEG_SYN,       /* asks to connect */
    SEG_SYN_AGAIN, /* its SYN again: no answer yet */
    SEG_SYN_ACK,   /* the listener's kernel agrees */
    SEG_SYN_ACK_AGAIN,
    SEG_RST,                 /* facts.rst says what it meant */
    SEG_FIN_AGAIN,           /* its FIN again: not acknowledged in time */
    SEG_FIN_SECOND,          /* closes its end after the peer did: an orderly end */
    SEG_FIN_FIRST,           /* closes its end first */
    SEG_DATA_AFTER_PEER_RST, /* data to a side that has reset */
    SEG_DATA_AGAIN,          /* a retransmission */
    SEG_DATA_AFTER_OWN_FIN,
    SEG_DATA_AFTER_PEER_FIN, /* writing to a peer that may be gone */
    SEG_DATA,
    SEG_NO_ACK,        /* no data, no SYN, FIN, RST or ACK */
    SEG_KEEPALIVE,     /* one byte below what it sent: a keep-alive probe */
    SEG_WINDOW_PROBE,  /* the same while the peer's window is 0: a zero-window probe */
    SEG_HANDSHAKE_ACK, /* the originator acknowledges the SYN-ACK */
    SEG_ZERO_WINDOW,   /* its receive buffer is full */
    SEG_ACK_FIN_OVER,  /* acknowledges the peer's FIN after its own: the connection is over */
    SEG_ACK_FIN,       /* acknowledges the peer's FIN: end of file for its reader */
    SEG_ACK_DATA,      /* acknowledges facts.acked new bytes */
    SEG_ACK_NOTHING,   /* a duplicate ACK or a window update */
};

/* What tcp_track() learned of one segment. */
struct seg_facts {
    enum seg_kind kind;
    enum rst_kind rst; /* SEG_RST: what it meant */
    bool from_orig;    /* sent by the originator */
    uint32_t rel_seq,
        rel_ack;          /* relative to each side's first sequence number (ack: 0 without ACK) */
    uint16_t sender_port; /* RST_REFUSED: the port nothing listens on */
    uint64_t unanswered;  /* RST_UNREAD: the peer's bytes the sender never answered */
    uint32_t acked;       /* SEG_ACK_DATA: bytes newly acknowledged */
    bool time_wait;       /* SEG_ACK_FIN_OVER: the sender closed first, so it waits in TIME-WAIT */
    bool reset_first;     /* its sender's first RST, before any FIN of its own, on a connection
                                 both sides spoke on: cause says more */
    struct rst_cause cause; /* for reset_first (unread -1: tcp_set_cause() may tell) */
    uint64_t peer_data;     /* bytes of data the receiver sent (the highest relative end) */
    uint64_t missed; /* its ACK showed this many of the receiver's bytes were never captured */
    uint32_t
        hole; /* data that starts this many bytes past the highest its sender was seen to send */
    enum close_how closed_by; /* a FIN: how its sender's process closed the socket, if seen */
    bool never_accepted;      /* a RST: its listener closed with the connection in its queue */
    bool peer_closed;         /* a RST: the receiver's process had closed its socket already */
    int closed_signo;         /* CLOSED_BY_EXIT: the signal its process died of, or 0 */
};

struct tcp_table;

/* An empty table, or NULL when out of memory. */
struct tcp_table *tcp_table_new(void);
void tcp_table_free(struct tcp_table *t);

/* Account one segment seen at ts and fill *facts. 0, or -1 when out of memory (SEG_UNTRACKED). */
int tcp_track(struct tcp_table *t, const struct tcp_seg *seg, const struct timespec *ts,
              struct seg_facts *facts);

/*
 * tcp_track() for n segments in a row, their facts unused (a summary):
 * the same, faster. Returns how many were not tracked (out of memory).
 */
size_t tcp_track_many(struct tcp_table *t, const struct tcp_seg *segs, const struct timespec *ts,
                      size_t n);

/*
 * The sender of seg (just tracked, its facts reset_first) left this many
 * bytes unread when it closed, as its process's reads say: kept for the
 * connection's summary.
 */
void tcp_set_cause(struct tcp_table *t, const struct tcp_seg *seg, const struct rst_cause *cause);

typedef void (*tcp_done_fn)(const struct conn_summary *s, void *ctx);

/*
 * Where tcp_track() hands the connections whose timers run out before a
 * segment's time (or that the segment replaces): without it, only
 * tcp_expire() and tcp_flush() summarise them.
 */
void tcp_on_done(struct tcp_table *t, tcp_done_fn done, void *ctx);

/* Summarise and forget the connections whose timers ran out by now, the first to run out first. */
void tcp_expire(struct tcp_table *t, const struct timespec *now, tcp_done_fn done, void *ctx);

/* Connections summarised before their time because TCP_CONN_MAX were open. */
unsigned long tcp_early(const struct tcp_table *t);

/* Summarise and forget all connections, in the order they began. */
void tcp_flush(struct tcp_table *t, tcp_done_fn done, void *ctx);

#endif
