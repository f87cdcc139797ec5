/*
 * zeek: Zeek's view of one TCP connection, rule for rule from its TCP
 * analyzer (src/analyzer/protocol/tcp/TCP_Endpoint.cc, TCPSessionAdapter) and
 * base/protocols/conn/main.zeek, so that conn_state and history come out as
 * Zeek writes them for the same segments. Each function names the one it
 * mirrors. Facts only: no words, no allocation.
 *
 * A connection's two ends are ep[0] (the sender of its first segment) and
 * ep[1]; is_orig says which is Zeek's originator, and moves when Zeek flips
 * the roles (the history then shows '^').
 *
 * Checksums are not verified (as with zeek -C): captures of loopback traffic
 * carry checksums the kernel never filled in, and Zeek without -C would drop
 * those segments.
 */
#ifndef SIGTRACE_ZEEK_H
#define SIGTRACE_ZEEK_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

/* Zeek's endpoint states, in Zeek's order (its script-level values). */
enum zeek_state {
    ZEEK_INACTIVE,
    ZEEK_SYN_SENT,
    ZEEK_SYN_ACK_SENT,
    ZEEK_PARTIAL,
    ZEEK_ESTABLISHED,
    ZEEK_CLOSED,
    ZEEK_RESET,
};

/*
 * Ranges of data seen beyond a hole, kept per side. With more holes open
 * at once than this (each waits for an ACK to pass it), a new range joins
 * its neighbour and the bytes between are taken as seen: missed_bytes then
 * counts too few, never too many.
 */
#define ZEEK_ABOVE_MAX 4

/* TCP_Endpoint: one side's state and sequence space. */
struct zeek_endpoint {
    /* What every segment reads or writes first, together (a packet touches fewer lines). */
    bool is_orig;
    bool first_seen; /* SetFirstPacketSeen: a segment came from it */
    bool did_close;
    enum zeek_state state, prev_state;
    int fin_cnt;
    uint32_t last_seq, ack_seq, seq_wraps, ack_wraps;
    int64_t start_seq;
    uint64_t fin_seq; /* FIN_seq: relative, one past the FIN */

    /*
     * TCP_Reassembler's view of the bytes it sent, in relative numbers (1:
     * its first byte of data): everything below reassem_seq was seen or
     * given up as a gap, nothing below trim_seq matters any more, and
     * above[] holds the ranges seen beyond a hole, lowest first. Only where
     * the bytes are is kept, never the bytes.
     */
    uint64_t reassem_seq, trim_seq;
    size_t n_above;

    /* What only some segments need: a SYN, FIN or RST again, a retransmission, a gap. */
    uint64_t missed; /* its bytes counted in missed_bytes */
    uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
    uint32_t rxmt_cnt, rxmt_thresh, win0_cnt, win0_thresh, gap_cnt, gap_thresh;
    struct zeek_range {
        uint64_t seq, upper;
    } above[ZEEK_ABOVE_MAX];
};

#define ZEEK_HISTORY_MAX 32

struct zeek_conn {
    struct zeek_endpoint ep[2];
    uint32_t hist_seen;
    bool ended;            /* a RST, or both sides closed: what Zeek would time out soon */
    bool close_done;       /* the last segment completed the close: tcp_close_delay starts */
    bool close_half;       /* the last segment closed one side only: ExpireTimer starts */
    bool is_partial;       /* TCPSessionAdapter's is_partial: its start was not seen */
    uint64_t missed_bytes; /* conn.log's missed_bytes: the content gaps' lengths */
    uint64_t seg_missed;   /* of them, those the last segment revealed */
    size_t hist_len;
    char history[ZEEK_HISTORY_MAX];
};

/* A connection whose first segment came from ep[0], the originator. */
void zeek_init(struct zeek_conn *z);

/* TCPSessionAdapter::FlipRoles: swap originator and responder; '^' in the history. */
void zeek_flip_roles(struct zeek_conn *z);

/*
 * TCPSessionAdapter::Process: a segment from ep[side]. Of reassembly only
 * what finds content gaps is kept (TCP_Reassembler's DataSent, AckReceived,
 * Undelivered and Gap), as with Zeek's defaults, where every TCP connection
 * is reassembled and report_gaps_for_partial is F.
 */
void zeek_process(struct zeek_conn *z, int side, const struct tcp_seg *seg);

/* TCPSessionAdapter::IsReuse: does this SYN on the same ports begin a new connection? */
bool zeek_is_reuse(const struct zeek_conn *z, const struct tcp_seg *seg);

/* conn_state() of main.zeek: "S0", "SF", "RSTO" ... */
const char *zeek_conn_state(const struct zeek_conn *z);

/* TCP_Endpoint::Size(): the bytes ep[side] sent, from its sequence numbers. */
uint64_t zeek_size(const struct zeek_conn *z, int side);

/* conn.log's missed_bytes: bytes acknowledged (or seen past) that the capture never showed. */
uint64_t zeek_missed(const struct zeek_conn *z);
/* Of them, those ep[side] sent. */
uint64_t zeek_missed_by(const struct zeek_conn *z, int side);

/* Which of ep[] is the originator. */
int zeek_orig(const struct zeek_conn *z);

/* TCPSessionAdapter::ExpireTimer's test, after tcp_connection_linger of silence: is it over? */
bool zeek_expire_over(const struct zeek_conn *z);

/* TCPSessionAdapter::AttemptTimer's test: still no answer to the originator's SYN. */
bool zeek_attempt_unanswered(const struct zeek_conn *z);

#endif
