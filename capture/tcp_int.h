/*
 * tcp_int: the tracker's own types, shared by tcp.c (what segments are and
 * change) and tcp_table.c (where connections are kept, and when they are
 * forgotten). Not for the rest of the tracer.
 */
#ifndef SIGTRACE_TCP_INT_H
#define SIGTRACE_TCP_INT_H

#include "tcp.h"
#include "zeek.h"

struct tcp_side {
    struct endpoint ep;
    uint64_t pkts;
    bool sent_any;      /* snd_max and first_seq are valid */
    bool sent_data;     /* it sent payload */
    uint32_t first_seq; /* where its data starts: after the SYN, or its first segment */
    uint32_t snd_max;   /* one past the highest sequence number sent */
    bool syn_seen;
    uint32_t isn;
    bool fin_seen;    /* a FIN without RST */
    uint32_t fin_seq; /* sequence number of the FIN */
    bool rst_seen;
    enum rst_kind rst_kind; /* what its first RST meant */
    bool ack_valid;
    uint32_t ack_max;       /* highest acknowledgment number it sent */
    uint64_t unanswered_rx; /* payload received since it last sent payload */
    bool window_closed;     /* the last window it advertised was 0 (its buffer was full) */
    bool wrote_after_peer_fin;

    /* Relative numbers, as Wireshark shows them, and the data they carried. */
    bool numbered;            /* base is set */
    uint32_t base;            /* its sequence number 0 */
    uint64_t data_end;        /* bytes of data sent (the highest relative end seen) */
    unsigned long last_data;  /* the serial number of the last segment that carried data, 0: none */
    bool any_fin;             /* any FIN, with RST or not, since its last SYN */
    bool any_rst;             /* any RST since its last SYN */
    bool reset_first;         /* its first RST came before any FIN of its own ... */
    bool rst_before_peer_fin; /* ... and before any FIN of the peer */
    long long rst_unread;     /* what its process left unread then; -1: not seen */
    bool rst_linger_zero;     /* its process had set SO_LINGER {on, 0} */
};

struct tcp_conn {
    struct tcp_conn *hnext;         /* hash chain */
    struct tcp_conn *older, *newer; /* in the order connections began */
    struct tcp_side side[2];        /* side[0] sent the first segment seen */
    struct zeek_conn zeek;
    int first_close; /* index into side[] of the side that closed first, or -1 */
    bool first_close_rst;
    bool detached; /* replaced by a new connection on the same ports */
    struct timespec first, last;
    uint64_t serial;                          /* the order connections began in, for summaries */
    struct tcp_conn *ended_prev, *ended_next; /* on the ended list: by last segment, oldest first */
    bool on_ended_list;
};

struct tcp_table {
    struct tcp_conn **buckets;
    size_t nbuckets;
    size_t count;
    struct tcp_conn *oldest, *newest;
    unsigned long segments; /* segments tracked: their serial numbers */

    /*
     * What lets tcp_expire() skip walking every connection. Ended
     * connections are also listed in the order of their last segment, so
     * those whose linger is over are at the head of that list. Everything
     * else (a connection idle for TCP_IDLE_NS, a detached one, a capture
     * whose timestamps go backwards) sends tcp_expire() through all of them.
     */
    struct tcp_conn *ended_head, *ended_tail;
    uint64_t next_serial;
    int64_t idle_check_ns;      /* no open connection reaches TCP_IDLE_NS before this */
    int64_t latest_ns;          /* the latest segment time seen */
    bool walk_all;              /* a connection was detached since the last walk */
    bool unordered;             /* segment times went backwards: always walk them all */
    struct tcp_conn **expiring; /* scratch: the connections one tcp_expire() forgets */
    size_t expiring_cap;
};

static inline int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* The connection seg belongs to, or NULL. */
struct tcp_conn *table_find(struct tcp_table *t, const struct tcp_seg *seg);
/* A new connection that seg begins (side[0] its sender), at ts; NULL when out of memory. */
struct tcp_conn *table_add(struct tcp_table *t, const struct tcp_seg *seg,
                           const struct timespec *ts);
/* Take c out of the hash: a new connection on the same ports replaces it; it is forgotten later. */
void table_detach(struct tcp_table *t, struct tcp_conn *c);
/* c ended, and its last segment is the latest: it lingers, then is forgotten. */
void table_ended(struct tcp_table *t, struct tcp_conn *c);
/* Is s the side with this address and port? */
bool side_is(const struct tcp_side *s, int family, const uint8_t *addr, uint16_t port);

/* tcp.c: c's summary, for the table to hand over when it forgets c. */
void tcp_summarise(struct tcp_conn *c, struct conn_summary *out);

#endif
