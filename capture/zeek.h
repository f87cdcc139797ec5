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

/* TCP_Endpoint: one side's state and sequence space. */
struct zeek_endpoint {
    bool is_orig;
    enum zeek_state state, prev_state;
    int64_t start_seq;
    uint32_t last_seq, ack_seq, seq_wraps, ack_wraps;
    int fin_cnt;
    bool did_close;
    uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
    uint32_t rxmt_cnt, rxmt_thresh, win0_cnt, win0_thresh;
};

#define ZEEK_HISTORY_MAX 32

struct zeek_conn {
    struct zeek_endpoint ep[2];
    uint32_t hist_seen;
    char history[ZEEK_HISTORY_MAX];
    size_t hist_len;
    bool ended;      /* a RST, or both sides closed: what Zeek would time out soon */
    bool close_done; /* the last segment completed the close: tcp_close_delay starts */
    bool close_half; /* the last segment closed one side only: ExpireTimer starts */
};

/* A connection whose first segment came from ep[0], the originator. */
void zeek_init(struct zeek_conn *z);

/* TCPSessionAdapter::FlipRoles: swap originator and responder; '^' in the history. */
void zeek_flip_roles(struct zeek_conn *z);

/* TCPSessionAdapter::Process, less what only reassembly needs: a segment from ep[side]. */
void zeek_process(struct zeek_conn *z, int side, const struct tcp_seg *seg);

/* TCPSessionAdapter::IsReuse: does this SYN on the same ports begin a new connection? */
bool zeek_is_reuse(const struct zeek_conn *z, const struct tcp_seg *seg);

/* conn_state() of main.zeek: "S0", "SF", "RSTO" ... */
const char *zeek_conn_state(const struct zeek_conn *z);

/* TCP_Endpoint::Size(): the bytes ep[side] sent, from its sequence numbers. */
uint64_t zeek_size(const struct zeek_conn *z, int side);

/* Which of ep[] is the originator. */
int zeek_orig(const struct zeek_conn *z);

/* TCPSessionAdapter::ExpireTimer's test, after tcp_connection_linger of silence: is it over? */
bool zeek_expire_over(const struct zeek_conn *z);

/* TCPSessionAdapter::AttemptTimer's test: still no answer to the originator's SYN. */
bool zeek_attempt_unanswered(const struct zeek_conn *z);

#endif
