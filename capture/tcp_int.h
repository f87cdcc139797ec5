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
    /* Wider fields first, then the flags together: a connection is many pages, each a fault. */
    struct endpoint ep;
    uint64_t pkts;
    uint64_t ip_bytes; /* the IP lengths of its packets (Zeek's orig_ip_bytes, resp_ip_bytes) */
    uint64_t unanswered_rx; /* payload received since it last sent payload */
    uint32_t first_seq;     /* where its data starts: after the SYN, or its first segment */
    uint32_t snd_max;       /* one past the highest sequence number sent */
    uint32_t isn;
    uint32_t fin_seq;       /* sequence number of the FIN */
    uint32_t ack_max;       /* highest acknowledgment number it sent */
    enum rst_kind rst_kind; /* what its first RST meant */
    bool sent_any;          /* snd_max and first_seq are valid */
    bool sent_data;         /* it sent payload */
    bool syn_seen;
    bool fin_seen; /* a FIN without RST */
    bool rst_seen;
    bool ack_valid;
    bool window_closed; /* the last window it advertised was 0 (its buffer was full) */
    bool wrote_after_peer_fin;

    /* Relative numbers, as Wireshark shows them, and the data they carried. */
    bool numbered;            /* base is set */
    bool any_fin;             /* any FIN, with RST or not, since its last SYN */
    bool any_rst;             /* any RST since its last SYN */
    bool reset_first;         /* its first RST came before any FIN of its own ... */
    bool rst_before_peer_fin; /* ... and before any FIN of the peer */
    bool rst_linger_zero;     /* its process had set SO_LINGER {on, 0} */
    bool
        rst_never_accepted; /* its RST came as its listener closed: the connection was never accepted */
    uint32_t base;          /* its sequence number 0 */
    uint64_t data_end;      /* bytes of data sent (the highest relative end seen) */
    unsigned long last_data; /* the serial number of the last segment that carried data, 0: none */
    long long rst_unread;    /* what its process left unread then; -1: not seen */
};

struct tcp_conn {
    /* What a segment reads or writes, first: ... */
    size_t hash;             /* of its 4-tuple, both directions alike */
    struct tcp_side side[2]; /* side[0] sent the first segment seen */
    struct zeek_conn zeek;
    int first_close; /* index into side[] of the side that closed first, or -1 */
    bool first_close_rst;
    bool detached;      /* replaced by a new connection on the same ports: out of the hash */
    bool attempt_armed; /* attempt_ns was set once: Zeek arms it once */
    uint32_t id;        /* its index in the table's heap_at[] (kept while it is a spare) */
    struct timespec last;

    /* Zeek's timers (tcp.h): when each runs out, INT64_MAX when not set. */
    int64_t attempt_ns; /* tcp_attempt_delay after the originator's SYN */
    int64_t delete_ns;  /* tcp_close_delay after its close completed */
    int64_t expire_ns;  /* ExpireTimer: tcp_session_timer after one side closed, and again */
    int64_t due_ns;     /* the first of them and the inactivity timeout: its place in the heap */

    /* ... then what only its start and its end need (table_prefetch asks for the part above). */
    struct tcp_conn *older, *newer; /* in the order connections began */
    /* The outermost tunnel its first segment came through (decode.h), or none, and its ends. */
    const char *tunnel;
    int tunnel_family;
    uint8_t tunnel_src[16], tunnel_dst[16]; /* in words only for its summary (inet_ntop) */
    struct timespec first;
    uint64_t serial; /* the order connections began in, for summaries */
};

struct tcp_table {
    /*
     * The connections by 4-tuple: open addressing, linear probing, at most
     * half full. Each slot holds its connection's hash, so that a probe past
     * another connection reads the slots alone, never that connection (most
     * are closed ones waiting for their timer, long out of the cache).
     */
    struct tcp_slot {
        size_t hash;
        struct tcp_conn *c; /* NULL: empty */
    } * slots;
    size_t nslots;         /* a power of two */
    size_t count;          /* connections in the slots */
    struct tcp_conn *last; /* the connection the last lookup found, or NULL */
    /*
     * Connections forgotten, kept for the next ones (linked by newer): a
     * capture opens and closes connections all along, and this spares
     * malloc and free one each.
     */
    struct tcp_conn *spare;
    /*
     * Where new connections come from: slabs of them (conn_slab_new), the
     * last one used up to slab_used of its slab_cap.
     */
    struct conn_slab *slabs;
    size_t slab_used, slab_cap;
    struct tcp_conn *oldest, *newest;
    unsigned long segments; /* segments tracked: their serial numbers */
    uint64_t next_serial;

    /*
     * Every connection, in a binary min-heap by due_ns: the next timer to run
     * out on top. Each slot holds its connection's key, so that sifting reads
     * the heap alone.
     */
    struct heap_slot {
        int64_t due_ns;
        uint64_t serial;
        struct tcp_conn *c;
        uint32_t id; /* c's */
    } * heap;
    size_t heap_len, heap_cap;
    /*
     * Where each connection is in the heap, by its id: a sift moves many, and
     * writing their places here, not into each (most long out of the cache),
     * keeps it in the heap and in this array alone.
     */
    uint32_t *heap_at;
    uint32_t nids; /* ids given: connections made, in use or spare */
    size_t ids_cap;
    unsigned long early; /* summarised early: TCP_CONN_MAX were open */
    tcp_done_fn done;    /* tcp_on_done() */
    void *done_ctx;
};

static inline int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* The hash of seg's 4-tuple, the same both ways: what table_find() looks for. */
size_t table_hash(const struct tcp_seg *seg);
/* The connection seg belongs to (hash: table_hash(seg)), or NULL. */
struct tcp_conn *table_find(struct tcp_table *t, const struct tcp_seg *seg, size_t hash);
/*
 * Where a lookup of hash will go, asked of the memory ahead of time: its
 * slot (step 0), or, once the slot is near, the connection in it (step 1).
 * Only a hint: nothing changes.
 */
void table_prefetch(const struct tcp_table *t, size_t hash, int step);
/* A new connection that seg begins (side[0] its sender), at ts; NULL when out of memory. */
struct tcp_conn *table_add(struct tcp_table *t, const struct tcp_seg *seg,
                           const struct timespec *ts);
/* A new connection on the same ports replaces c: its timers run out now. */
void table_detach(struct tcp_table *t, struct tcp_conn *c);
/* c's timers after a segment at now_ns (c->zeek says whether it closed a side). */
void table_timers(struct tcp_table *t, struct tcp_conn *c, int64_t now_ns);
/* Summarise and forget what runs out by now_ns, through done (none: nothing). */
void table_expire(struct tcp_table *t, int64_t now_ns, tcp_done_fn done, void *ctx);
/* Is s the side with this address and port? */
bool side_is(const struct tcp_side *s, int family, const uint8_t *addr, uint16_t port);

/* tcp.c: c's summary, for the table to hand over when it forgets c. */
void tcp_summarise(struct tcp_conn *c, struct conn_summary *out);

#endif
