/*
 * conn: TCP connection tracking, the plain-words note for each segment, and
 * a per-connection summary in Zeek's vocabulary (conn_state and history,
 * exactly as Zeek defines them).
 *
 * The originator is the side that sent the first SYN; where no SYN was seen,
 * the sender of the first segment seen. A SYN-ACK seen before any SYN makes
 * its receiver the originator (the history then starts with Zeek's '^'). Notes say "the client" for the
 * originator and "the server" for the responder, unless names were given
 * with conn_set_names(). Notes are derived only from what the segments show.
 *
 * Memory grows with the number of open connections: a connection is
 * summarised and forgotten when it has ended (RST, or FIN both ways and the
 * last ACK) and CONN_LINGER_NS of capture time have passed, so that late
 * segments (the RST that answers data after a FIN) still find it.
 */
#ifndef SIGTRACE_CONN_H
#define SIGTRACE_CONN_H

#include <stdint.h>
#include <time.h>

#include "decode.h"

#define CONN_LINGER_NS 5000000000LL

struct conn_table;

struct conn_summary {
    char orig[64], resp[64];      /* endpoint strings, decode_endpoint_str() form */
    int family;                   /* the same ends as numbers, for lookups: AF_INET or AF_INET6 */
    uint8_t orig_addr[16], resp_addr[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t orig_port, resp_port;
    char orig_name[32], resp_name[32]; /* as given to conn_set_names(), else "" */
    char conn_state[8];           /* S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH */
    char history[32];             /* Zeek's history letters, e.g. "ShADadFr" */
    uint64_t orig_bytes, resp_bytes; /* payload bytes each way */
    uint64_t orig_pkts, resp_pkts;
    struct timespec first, last;
    char note[512];               /* who closed first and how, and what it means for each side's next write */
};

/* What conn_track() learned about one segment. */
struct conn_segment_info {
    int from_orig;          /* 1: originator to responder */
    char note[320];         /* plain words: what this segment is, and why it happened */
};

struct conn_table *conn_table_new(void);
void conn_table_free(struct conn_table *t);

/*
 * Account one segment seen at ts; fill *info. Returns 0, or -1 when out of
 * memory (the segment is then not tracked, *info still gets a note).
 */
int conn_track(struct conn_table *t, const struct tcp_seg *seg, const struct timespec *ts,
               struct conn_segment_info *info);

/*
 * Name the owner of an endpoint (e.g. "server", "client", "python3"). An
 * all-zero address (INADDR_ANY, in6addr_any) names the port on every
 * address, as a listening socket bound to it; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) also names the IPv4 address. A name set again replaces
 * the old one.
 */
void conn_set_names(struct conn_table *t, int family, const uint8_t *addr, uint16_t port,
                    const char *name);

typedef void (*conn_done_fn)(const struct conn_summary *s, void *ctx);

/* Summarise and forget connections that ended more than CONN_LINGER_NS before now. */
void conn_expire(struct conn_table *t, const struct timespec *now, conn_done_fn done, void *ctx);

/* Summarise and forget all connections, in the order they began. */
void conn_flush(struct conn_table *t, conn_done_fn done, void *ctx);

#endif
