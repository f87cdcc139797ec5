/*
 * conn: TCP connection tracking, a note in plain words for each segment, and
 * a summary per connection in Zeek's terms.
 *
 * Two kinds of state live side by side in each connection:
 *
 *  - Zeek's endpoint state machine (INACTIVE, SYN_SENT, ... RESET), its
 *    relative sequence numbers and its history letters, reproduced rule for
 *    rule from Zeek's TCP analyzer, so that conn_state and history come out
 *    as Zeek would write them for the same packets;
 *
 *  - what the notes need: who sent SYN, FIN or RST and when, the highest
 *    sequence number each side sent and acknowledged, whether a side wrote
 *    after its peer's FIN, and how much it received without answering.
 *
 * Notes are derived only from what the segments show. Where the wire cannot
 * tell two causes apart, the note says what is likely and why.
 *
 * Checksums are not verified (as with zeek -C): captures of loopback traffic
 * carry checksums the kernel never filled in, and Zeek without -C would
 * drop those segments.
 */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Connections with no segment for this long are summarised even if open. */
#define CONN_IDLE_NS 300000000000LL
/* Endpoint names remembered at most (the oldest is replaced). */
#define CONN_NAMES_MAX 256
/* Zeek ignores SYN and RST sequence numbers that jump further than this. */
#define TOO_LARGE_SEQ_DELTA 1048576

/* Zeek's endpoint states, in Zeek's order (its script-level values). */
enum ep_state {
    EP_INACTIVE, EP_SYN_SENT, EP_SYN_ACK_SENT, EP_PARTIAL, EP_ESTABLISHED, EP_CLOSED, EP_RESET,
};

/* Zeek's history masks; the responder's are shifted 16 bits left. */
enum {
    HIST_SYN_PKT = 0x1, HIST_FIN_PKT = 0x2, HIST_RST_PKT = 0x4, HIST_FIN_RST_PKT = 0x8,
    HIST_DATA_PKT = 0x10, HIST_ACK_PKT = 0x20, HIST_MULTI_FLAG_PKT = 0x40,
};

/* What a RST meant, as far as the segments before it tell. */
enum rst_kind {
    RST_NONE,
    RST_REFUSED,        /* answers a SYN: nothing listens */
    RST_CANCEL,         /* the originator gives up before the handshake completed */
    RST_AFTER_FIN_DATA, /* answers data the peer sent after our FIN */
    RST_AFTER_FIN,      /* after our FIN, no data from the peer since */
    RST_UNREAD,         /* no FIN, and the peer's last data was never answered */
    RST_ABORT,          /* no FIN, nothing unanswered: unread data or SO_LINGER zero, the wire cannot tell */
    RST_ABORT_NO_DATA,  /* no FIN, and the peer never sent data: nothing to leave unread */
    RST_AFTER_BOTH,     /* both sides had sent FIN */
    RST_AGAIN,          /* a second RST */
    RST_UNKNOWN,        /* the first segment seen: too little to tell why */
};

struct endpoint {
    int family;
    uint8_t addr[16];
    uint16_t port;
    int is_orig;

    /* Zeek's view (TCP_Endpoint). */
    enum ep_state state, prev_state;
    int64_t start_seq;
    uint32_t last_seq, ack_seq, seq_wraps, ack_wraps;
    int fin_cnt;
    int did_close;
    uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
    uint32_t rxmt_cnt, rxmt_thresh, win0_cnt, win0_thresh;

    /* The notes' view. */
    uint64_t pkts;
    int sent_any;             /* snd_max and first_seq are valid */
    int sent_data;            /* it sent payload */
    uint32_t first_seq;       /* where its data starts: after the SYN, or its first segment */
    uint32_t snd_max;         /* one past the highest sequence number sent */
    int syn_seen;
    uint32_t isn;
    int fin_seen;
    uint32_t fin_seq;         /* sequence number of the FIN */
    int rst_seen;
    enum rst_kind rst_kind;   /* what its first RST meant */
    int ack_valid;
    uint32_t ack_max;         /* highest acknowledgment number it sent */
    uint64_t unanswered_rx;   /* payload received since it last sent payload */
    int wrote_after_peer_fin;
};

struct conn {
    struct conn *hnext;          /* hash chain */
    struct conn *older, *newer;  /* in the order connections began */
    int family;
    struct endpoint ep[2];
    int orig_idx;                /* ep[orig_idx] is the originator (flips swap it) */
    uint32_t hist_seen;
    char history[32];
    size_t hist_len;
    int first_close;             /* index into ep[] of the side that closed first, or -1 */
    int first_close_rst;
    int ended;                   /* a RST, or both FINs: it may be forgotten after the linger */
    int detached;                /* replaced by a new connection on the same ports */
    struct timespec first, last;
    uint64_t serial;             /* the order connections began in, for summaries */
    struct conn *ended_prev, *ended_next; /* on the ended list: by last segment, oldest first */
    int on_ended_list;
};

struct name_entry {
    int family;
    uint8_t addr[16];
    uint16_t port;
    char name[32];
};

struct conn_table {
    struct conn **buckets;
    size_t nbuckets;
    size_t count;
    struct conn *oldest, *newest;
    struct name_entry names[CONN_NAMES_MAX];
    size_t nnames, next_name;

    /*
     * What lets conn_expire() skip walking every connection. Ended
     * connections are also listed in the order of their last segment, so
     * those whose linger is over are at the head of that list. Everything
     * else (a connection idle for CONN_IDLE_NS, a detached one, a capture
     * whose timestamps go backwards) sends conn_expire() through all of
     * them, as before.
     */
    struct conn *ended_head, *ended_tail;
    uint64_t next_serial;
    int64_t idle_check_ns;       /* no open connection reaches CONN_IDLE_NS before this */
    int64_t latest_ns;           /* the latest segment time seen */
    int walk_all;                /* a connection was detached since the last walk */
    int unordered;               /* segment times went backwards: always walk them all */
    struct conn **expiring;      /* scratch: the connections one conn_expire() forgets */
    size_t expiring_cap;
};

static struct endpoint *orig_of(struct conn *c) { return &c->ep[c->orig_idx]; }
static struct endpoint *resp_of(struct conn *c) { return &c->ep[!c->orig_idx]; }
static struct endpoint *peer_of(struct conn *c, struct endpoint *e) { return e == &c->ep[0] ? &c->ep[1] : &c->ep[0]; }

static int32_t seq_delta(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

static int64_t ts_ns(const struct timespec *ts) { return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

/* ---- hashing: both directions of a 4-tuple land in one bucket ---- */

static int endpoint_cmp(int family, const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
    int r = memcmp(a1, a2, family == AF_INET6 ? 16 : 4);
    if (r)
        return r;
    return (int)p1 - (int)p2;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t tuple_hash(int family, const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
    size_t alen = family == AF_INET6 ? 16 : 4;
    if (endpoint_cmp(family, a1, p1, a2, p2) > 0) {
        const uint8_t *ta = a1;
        uint16_t tp = p1;
        a1 = a2, p1 = p2, a2 = ta, p2 = tp;
    }
    uint64_t h = 14695981039346656037ULL;
    h = fnv1a(h, &family, sizeof family);
    h = fnv1a(h, a1, alen);
    h = fnv1a(h, &p1, sizeof p1);
    h = fnv1a(h, a2, alen);
    h = fnv1a(h, &p2, sizeof p2);
    return (size_t)h;
}

static int endpoint_is(const struct endpoint *e, int family, const uint8_t *addr, uint16_t port)
{
    return e->family == family && e->port == port &&
           memcmp(e->addr, addr, family == AF_INET6 ? 16 : 4) == 0;
}

static size_t conn_hash(const struct conn *c)
{
    return tuple_hash(c->family, c->ep[0].addr, c->ep[0].port, c->ep[1].addr, c->ep[1].port);
}

struct conn_table *conn_table_new(void)
{
    struct conn_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nbuckets = 64;
    t->idle_check_ns = INT64_MAX;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

void conn_table_free(struct conn_table *t)
{
    if (!t)
        return;
    struct conn *c = t->oldest;
    while (c) {
        struct conn *next = c->newer;
        free(c);
        c = next;
    }
    free(t->buckets);
    free(t->expiring);
    free(t);
}

/* Double the buckets when the chains grow long; on failure keep the old ones. */
static void table_grow(struct conn_table *t)
{
    size_t n = t->nbuckets * 2;
    struct conn **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct conn *c = t->buckets[i];
        while (c) {
            struct conn *next = c->hnext;
            size_t h = conn_hash(c) & (n - 1);
            c->hnext = b[h];
            b[h] = c;
            c = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

static struct conn *table_find(struct conn_table *t, const struct tcp_seg *seg)
{
    size_t h = tuple_hash(seg->family, seg->src, seg->sport, seg->dst, seg->dport) & (t->nbuckets - 1);
    for (struct conn *c = t->buckets[h]; c; c = c->hnext) {
        if (c->family != seg->family)
            continue;
        if ((endpoint_is(&c->ep[0], seg->family, seg->src, seg->sport) &&
             endpoint_is(&c->ep[1], seg->family, seg->dst, seg->dport)) ||
            (endpoint_is(&c->ep[1], seg->family, seg->src, seg->sport) &&
             endpoint_is(&c->ep[0], seg->family, seg->dst, seg->dport)))
            return c;
    }
    return NULL;
}

/* Take c out of the hash (it stays in the begin-order list). */
static void table_unhash(struct conn_table *t, struct conn *c)
{
    struct conn **pp = &t->buckets[conn_hash(c) & (t->nbuckets - 1)];
    while (*pp) {
        if (*pp == c) {
            *pp = c->hnext;
            c->hnext = NULL;
            t->count--;
            return;
        }
        pp = &(*pp)->hnext;
    }
}

static void endpoint_init(struct endpoint *e, int family, const uint8_t *addr, uint16_t port)
{
    memset(e, 0, sizeof *e);
    e->family = family;
    memcpy(e->addr, addr, 16);
    e->port = port;
    e->state = e->prev_state = EP_INACTIVE;
    e->rxmt_thresh = e->win0_thresh = 1;
}

static struct conn *table_add(struct conn_table *t, const struct tcp_seg *seg, const struct timespec *ts)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->family = seg->family;
    endpoint_init(&c->ep[0], seg->family, seg->src, seg->sport);
    endpoint_init(&c->ep[1], seg->family, seg->dst, seg->dport);
    c->orig_idx = 0;
    c->ep[0].is_orig = 1;
    c->first_close = -1;
    c->first = c->last = *ts;
    c->serial = t->next_serial++;
    if (ts_ns(ts) + CONN_IDLE_NS < t->idle_check_ns)
        t->idle_check_ns = ts_ns(ts) + CONN_IDLE_NS;

    if (t->count >= t->nbuckets)
        table_grow(t);
    size_t h = conn_hash(c) & (t->nbuckets - 1);
    c->hnext = t->buckets[h];
    t->buckets[h] = c;
    t->count++;

    c->older = t->newest;
    if (t->newest)
        t->newest->newer = c;
    else
        t->oldest = c;
    t->newest = c;
    return c;
}

static void ended_unlink(struct conn_table *t, struct conn *c)
{
    if (!c->on_ended_list)
        return;
    if (c->ended_prev)
        c->ended_prev->ended_next = c->ended_next;
    else
        t->ended_head = c->ended_next;
    if (c->ended_next)
        c->ended_next->ended_prev = c->ended_prev;
    else
        t->ended_tail = c->ended_prev;
    c->ended_prev = c->ended_next = NULL;
    c->on_ended_list = 0;
}

/* C ended, and its last segment is the latest: it goes to the ended list's tail. */
static void ended_touch(struct conn_table *t, struct conn *c)
{
    ended_unlink(t, c);
    c->ended_prev = t->ended_tail;
    if (t->ended_tail)
        t->ended_tail->ended_next = c;
    else
        t->ended_head = c;
    t->ended_tail = c;
    c->on_ended_list = 1;
}

static void list_remove(struct conn_table *t, struct conn *c)
{
    ended_unlink(t, c);
    if (c->older)
        c->older->newer = c->newer;
    else
        t->oldest = c->newer;
    if (c->newer)
        c->newer->older = c->older;
    else
        t->newest = c->older;
}

/* ---- names ---- */

static int addr_is_any(int family, const uint8_t *addr)
{
    static const uint8_t zero[16];
    return memcmp(addr, zero, family == AF_INET6 ? 16 : 4) == 0;
}

/* An IPv4 address as an IPv6 socket sees it: ::ffff:a.b.c.d. */
static int addr_is_v4mapped(const uint8_t *a)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(a, prefix, 12) == 0;
}

static int name_matches(const struct name_entry *n, int family, const uint8_t *addr, uint16_t port)
{
    if (n->port != port)
        return 0;
    if (addr_is_any(n->family, n->addr))
        return 1;
    if (n->family == family)
        return memcmp(n->addr, addr, family == AF_INET6 ? 16 : 4) == 0;
    if (n->family == AF_INET6 && family == AF_INET)
        return addr_is_v4mapped(n->addr) && memcmp(n->addr + 12, addr, 4) == 0;
    return 0;
}

void conn_set_names(struct conn_table *t, int family, const uint8_t *addr, uint16_t port,
                    const char *name)
{
    struct name_entry *slot = NULL;
    size_t alen = family == AF_INET6 ? 16 : 4;

    for (size_t i = 0; i < t->nnames; i++) {
        struct name_entry *n = &t->names[i];
        if (n->family == family && n->port == port && memcmp(n->addr, addr, alen) == 0) {
            slot = n;
            break;
        }
    }
    if (!slot) {
        if (t->nnames < CONN_NAMES_MAX) {
            slot = &t->names[t->nnames++];
        } else {
            slot = &t->names[t->next_name];
            t->next_name = (t->next_name + 1) % CONN_NAMES_MAX;
        }
        memset(slot, 0, sizeof *slot);
        slot->family = family;
        memcpy(slot->addr, addr, alen);
        slot->port = port;
    }
    snprintf(slot->name, sizeof slot->name, "%s", name ? name : "");
}

/* The name given for this endpoint, exact addresses before wildcards; NULL if none. */
static const char *endpoint_name(const struct conn_table *t, const struct endpoint *e)
{
    const char *wild = NULL;
    for (size_t i = 0; i < t->nnames; i++) {
        const struct name_entry *n = &t->names[i];
        if (!n->name[0] || !name_matches(n, e->family, e->addr, e->port))
            continue;
        if (!addr_is_any(n->family, n->addr))
            return n->name;
        wild = n->name;
    }
    return wild;
}

/* ---- Zeek's history letters ---- */

static void hist_add(struct conn *c, char code)
{
    if (c->hist_len + 1 < sizeof c->history) {
        c->history[c->hist_len++] = code;
        c->history[c->hist_len] = '\0';
    }
}

static char hist_code(const struct endpoint *e, char code)
{
    return e->is_orig ? code : (char)(code - 'A' + 'a');
}

/* Zeek's CheckHistory: add the letter the first time; 1 if it was already seen. */
static int hist_check(struct conn *c, const struct endpoint *e, uint32_t mask, char code)
{
    if (!e->is_orig)
        mask <<= 16;
    if (c->hist_seen & mask)
        return 1;
    c->hist_seen |= mask;
    hist_add(c, hist_code(e, code));
    return 0;
}

/* Zeek's ScaledHistoryEntry: the letter again at 1, 10, 100, ... occurrences. */
static void hist_scaled(struct conn *c, const struct endpoint *e, char code, uint32_t *counter,
                        uint32_t *threshold)
{
    if (++*counter == *threshold) {
        hist_add(c, hist_code(e, code));
        uint32_t next = *threshold * 10;
        if (next <= *threshold)
            *counter = 0;
        else
            *threshold = next;
    }
}

static void update_history(struct conn *c, struct endpoint *e, uint8_t flags, uint64_t rel_seq,
                           uint32_t len)
{
    int syn = !!(flags & TCPF_SYN), fin = !!(flags & TCPF_FIN), rst = !!(flags & TCPF_RST);
    int bits = syn + fin + rst;

    if (bits > 1) {
        if (fin && rst)
            hist_check(c, e, HIST_FIN_RST_PKT, 'I');
        else
            hist_check(c, e, HIST_MULTI_FLAG_PKT, 'Q');
    } else if (syn) {
        char code = flags & TCPF_ACK ? 'H' : 'S';
        if (hist_check(c, e, HIST_SYN_PKT, code) && rel_seq != e->hist_last_syn)
            hist_add(c, hist_code(e, code));
        e->hist_last_syn = rel_seq;
    } else if (fin) {
        /* A FIN's sequence number is the one after its data. */
        if (hist_check(c, e, HIST_FIN_PKT, 'F') && rel_seq + len != e->hist_last_fin)
            hist_add(c, hist_code(e, 'F'));
        e->hist_last_fin = rel_seq + len;
    } else if (rst) {
        if (hist_check(c, e, HIST_RST_PKT, 'R') && rel_seq != e->hist_last_rst)
            hist_add(c, hist_code(e, 'R'));
        e->hist_last_rst = rel_seq;
    } else if (len) {
        hist_check(c, e, HIST_DATA_PKT, 'D');
    } else if (flags & TCPF_ACK) {
        hist_check(c, e, HIST_ACK_PKT, 'A');
    }
}

/* ---- Zeek's sequence bookkeeping ---- */

static void update_last(struct endpoint *e, uint32_t seq)
{
    if (seq < e->last_seq)
        e->seq_wraps++;
    e->last_seq = seq;
}

static void update_ack(struct endpoint *e, uint32_t seq)
{
    if (seq < e->ack_seq)
        e->ack_wraps++;
    e->ack_seq = seq;
}

static void init_seqs(struct endpoint *e, int64_t start, uint32_t ack, uint32_t last)
{
    e->start_seq = start;
    e->ack_seq = ack;
    e->last_seq = last;
}

static void init_endpoint(struct endpoint *e, uint8_t flags, uint32_t seq, uint32_t last)
{
    switch (e->state) {
    case EP_INACTIVE:
        if (flags & TCPF_SYN) {
            init_seqs(e, seq, seq, last);
        } else {
            /* A partial connection: number as though a SYN came before. */
            init_seqs(e, (uint32_t)(seq - 1), (uint32_t)(seq - 1), seq);
        }
        break;
    case EP_SYN_SENT:
    case EP_SYN_ACK_SENT:
        if ((flags & TCPF_SYN) && seq != (uint32_t)e->start_seq)
            init_seqs(e, seq, seq, last);
        break;
    case EP_ESTABLISHED:
    case EP_PARTIAL:
        if (flags & TCPF_SYN)
            init_seqs(e, seq, seq, last);
        break;
    case EP_RESET:
        if ((flags & TCPF_SYN) && e->prev_state == EP_INACTIVE)
            init_seqs(e, seq, seq, last);
        break;
    default:
        break;
    }
}

static uint64_t relative_seq(const struct endpoint *e, uint32_t cur, uint32_t last, uint32_t wraps,
                             int *underflow)
{
    int32_t delta = seq_delta(cur, last);
    if (delta < 0) {
        if (wraps && cur > last)
            wraps--;
    } else if (delta > 0) {
        if (cur < last)
            wraps++;
    }
    if (wraps == 0) {
        delta = seq_delta(cur, (uint32_t)e->start_seq);
        if (underflow && delta < 0)
            *underflow = 1;
        return (uint64_t)(int64_t)delta;
    }
    return ((uint64_t)wraps << 32) + cur - (uint64_t)e->start_seq;
}

static int no_data_acked(const struct endpoint *e)
{
    uint64_t ack = ((uint64_t)e->ack_wraps << 32) + e->ack_seq;
    uint64_t start = (uint64_t)e->start_seq;
    return ack == start || ack == start + 1;
}

/* Zeek's TCP_Endpoint::Size(): bytes sent, from sequence numbers. */
static uint64_t endpoint_size(const struct endpoint *e, const struct endpoint *peer)
{
    if (e->prev_state == EP_SYN_SENT && e->state == EP_RESET && peer->state == EP_INACTIVE &&
        !no_data_acked(e))
        return 0;
    uint64_t last = ((uint64_t)e->seq_wraps << 32) + e->last_seq;
    uint64_t ack = ((uint64_t)e->ack_wraps << 32) + e->ack_seq;
    uint64_t size = (last > ack ? last : ack) - (uint64_t)e->start_seq;
    if (size != 0)
        size--; /* the SYN */
    if (e->fin_cnt > 0 && size != 0)
        size--; /* the FIN */
    return size;
}

static int32_t update_last_seq(struct conn *c, struct endpoint *e, uint32_t last, uint8_t flags,
                               uint32_t len)
{
    int32_t delta = seq_delta(last, e->last_seq);

    if ((flags & (TCPF_SYN | TCPF_RST)) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
        ; /* not trusted */
    else if ((flags & TCPF_FIN) && (int64_t)e->last_seq == e->start_seq + 1)
        update_last(e, last);
    else if (e->state == EP_RESET)
        ; /* nothing after a RST is trusted */
    else if (delta > 0)
        update_last(e, last);
    else if (len > 0)
        hist_scaled(c, e, 'T', &e->rxmt_cnt, &e->rxmt_thresh);
    return delta;
}

static void set_state(struct endpoint *e, enum ep_state s)
{
    if (s != e->state) {
        e->prev_state = e->state;
        e->state = s;
    }
}

/* Zeek's mid-connection role reversal: the history shows '^'. */
static void flip_roles(struct conn *c)
{
    c->orig_idx = !c->orig_idx;
    c->ep[0].is_orig = !c->ep[0].is_orig;
    c->ep[1].is_orig = !c->ep[1].is_orig;
    hist_add(c, '^');
}

/* Zeek's UpdateStateMachine and its helpers; *do_close as Zeek's do_close. */
static void update_state(struct conn *c, struct endpoint *e, struct endpoint *peer, uint32_t seq,
                         uint32_t len, uint8_t flags, int *do_close)
{
    int syn = flags & TCPF_SYN, fin = flags & TCPF_FIN, rst = flags & TCPF_RST, ack = flags & TCPF_ACK;
    struct endpoint *o = orig_of(c);

    *do_close = 0;
    switch (e->state) {
    case EP_INACTIVE:
        if (syn) {
            if (e->is_orig) {
                set_state(e, ack ? EP_SYN_ACK_SENT : EP_SYN_SENT);
            } else {
                if (!ack && peer->state == EP_SYN_ACK_SENT && seq == (uint32_t)e->start_seq) {
                    /* SYN and SYN-ACK seen in reverse order: swap the roles. */
                    flip_roles(c);
                    set_state(peer, EP_ESTABLISHED);
                }
                if (peer->state == EP_SYN_SENT)
                    set_state(peer, EP_ESTABLISHED);
                set_state(e, EP_ESTABLISHED);
            }
        }
        if (fin) {
            set_state(e, EP_CLOSED);
            *do_close = 1;
        }
        if (rst) {
            set_state(e, EP_RESET);
            *do_close = 1;
        }
        if (e->state == EP_INACTIVE) {
            if (!e->is_orig && len == 0 && o->state == EP_SYN_SENT)
                ; /* an ACK of the SYN before the SYN-ACK: not yet a partial connection */
            else if (ack && peer->state == EP_ESTABLISHED)
                set_state(e, EP_ESTABLISHED); /* the SYN was missed */
            else
                set_state(e, EP_PARTIAL);
        }
        break;

    case EP_SYN_SENT:
    case EP_SYN_ACK_SENT:
        if (fin) {
            set_state(e, EP_CLOSED);
            *do_close = 1;
        }
        if (rst) {
            set_state(e, EP_RESET);
            *do_close = 1;
        }
        break;

    case EP_ESTABLISHED:
    case EP_PARTIAL:
        if (syn && e->state == EP_PARTIAL && peer->state == EP_INACTIVE && !ack)
            set_state(e, EP_SYN_SENT);
        if (fin && !rst) {
            set_state(e, EP_CLOSED);
            /* A FIN, then a RST, then the peer's FIN: a normal close after all. */
            if (peer->state == EP_RESET && peer->prev_state == EP_CLOSED)
                set_state(peer, EP_CLOSED);
            *do_close = 1;
        }
        if (rst) {
            set_state(e, EP_RESET);
            *do_close = 1;
        }
        break;

    case EP_CLOSED:
        if (rst && peer->state != EP_CLOSED) {
            set_state(e, EP_RESET);
            if (!e->did_close)
                *do_close = 1;
        }
        break;

    case EP_RESET:
        break;
    }
}

/* Zeek's conn_state(), from main.zeek. */
static const char *zeek_conn_state(struct conn *c)
{
    struct endpoint *o = orig_of(c), *r = resp_of(c);
    enum ep_state os = o->state, rs = r->state;
    int o_inactive = os == EP_INACTIVE || os == EP_PARTIAL;
    int r_inactive = rs == EP_INACTIVE || rs == EP_PARTIAL;

    if (rs == EP_RESET) {
        if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT ||
            (os == EP_RESET && endpoint_size(o, r) == 0 && endpoint_size(r, o) == 0))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == EP_RESET) {
        if (r_inactive) {
            /* history matches /^?S[^HAFGIQ]*R.*\/ */
            const char *h = c->history;
            if (*h == '^')
                h++;
            if (*h++ == 'S') {
                while (*h && *h != 'R' && !strchr("HAFGIQ", *h))
                    h++;
                if (*h == 'R')
                    return "RSTOS0";
            }
            return "OTH";
        }
        return "RSTO";
    }
    if (rs == EP_CLOSED && os == EP_CLOSED)
        return "SF";
    if (os == EP_CLOSED)
        return r_inactive ? "SH" : "S2";
    if (rs == EP_CLOSED)
        return o_inactive ? "SHR" : "S3";
    if (os == EP_SYN_SENT && rs == EP_INACTIVE)
        return "S0";
    if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
        return "S1";
    return "OTH";
}

/* Zeek's TCPSessionAdapter::Process, less what only reassembly needs. */
static void zeek_process(struct conn *c, struct endpoint *e, const struct tcp_seg *seg)
{
    struct endpoint *peer = peer_of(c, e);
    uint8_t flags = seg->flags;
    uint32_t len = seg->payload_len;
    uint32_t seg_len = len + !!(flags & TCPF_SYN) + !!(flags & TCPF_FIN);
    if (flags & TCPF_RST)
        seg_len -= len; /* a RST's data is not part of the stream */
    uint32_t past = seg->seq + seg_len;

    init_endpoint(e, flags, seg->seq, past);
    uint64_t rel_seq = relative_seq(e, seg->seq, e->last_seq, e->seq_wraps, NULL);
    update_history(c, e, flags, rel_seq, len);

    /* A zero window matters unless it comes with or after a RST, or after the peer's FIN. */
    if (seg->window == 0 && !(flags & TCPF_RST) && peer->state != EP_CLOSED && e->state != EP_RESET)
        hist_scaled(c, e, 'W', &e->win0_cnt, &e->win0_thresh);

    if (flags & TCPF_FIN)
        e->fin_cnt++;

    if (flags & TCPF_ACK) {
        if (peer->state == EP_INACTIVE) {
            init_seqs(peer, (uint32_t)(seg->ack - 1), seg->ack - 1, seg->ack - 1);
        } else {
            int underflow = 0;
            relative_seq(peer, seg->ack, peer->ack_seq, peer->ack_wraps, &underflow);
            if (!underflow && !(flags & TCPF_RST)) {
                int32_t d = seq_delta(seg->ack, peer->ack_seq);
                if (!(seg->ack == 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0)
                    update_ack(peer, seg->ack);
            }
        }
    }

    update_last_seq(c, e, past, flags, len);

    int do_close;
    update_state(c, e, peer, seg->seq, len, flags, &do_close);
    if (do_close && !e->did_close)
        e->did_close = 1;

    if (e->state == EP_RESET || peer->state == EP_RESET || (e->did_close && peer->did_close) ||
        (e->did_close && peer->state == EP_INACTIVE))
        c->ended = 1;
}

/* ---- notes ---- */

struct text {
    char *buf;
    size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    t->len += (size_t)n;
    if (t->len >= t->cap)
        t->len = t->cap - 1;
}

/* "the client" / "the server", or the name the tracer gave the endpoint. */
static void label(const struct conn_table *t, const struct endpoint *e, char *buf, size_t len)
{
    const char *name = endpoint_name(t, e);
    if (name)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s", e->is_orig ? "the client" : "the server");
}

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

/*
 * Classify a RST from e, from what e and its peer sent before it.
 * Linux's reasons: a closed socket answers any segment with RST; close()
 * with unread data sends RST instead of FIN (RFC 2525); SO_LINGER {1, 0}
 * makes close() abort with RST; a SYN to a port nobody listens on gets RST.
 */
static enum rst_kind classify_rst(const struct endpoint *e, const struct endpoint *peer)
{
    if (e->rst_seen)
        return RST_AGAIN;
    if (!e->sent_any && !peer->sent_any)
        return RST_UNKNOWN;
    if (!e->is_orig && peer->syn_seen && !e->syn_seen)
        return RST_REFUSED;
    if (e->is_orig && e->syn_seen && !peer->syn_seen && !e->ack_valid)
        return RST_CANCEL;
    if (e->fin_seen && peer->fin_seen)
        return RST_AFTER_BOTH;
    if (e->fin_seen)
        return peer->wrote_after_peer_fin ? RST_AFTER_FIN_DATA : RST_AFTER_FIN;
    if (e->unanswered_rx > 0)
        return RST_UNREAD;
    if (e->syn_seen && peer->syn_seen && !peer->sent_data)
        return RST_ABORT_NO_DATA;
    return RST_ABORT;
}

static void note_rst(struct text *n, enum rst_kind kind, const struct endpoint *e, const char *x,
                     const char *y)
{
    switch (kind) {
    case RST_REFUSED:
        text_add(n, "connection refused: nothing listens on port %u, so %s's kernel answers the SYN "
                    "with RST; connect() on %s fails with ECONNREFUSED", (unsigned)e->port, x, y);
        break;
    case RST_CANCEL:
        text_add(n, "%s gives up connecting (RST before the handshake completed)", x);
        break;
    case RST_AFTER_FIN_DATA:
        text_add(n, "%s's socket is fully closed, so its kernel answers %s's data with RST: "
                    "%s's next write fails with EPIPE and raises SIGPIPE (Linux gives EPIPE, not "
                    "ECONNRESET, because %s's FIN had already arrived)", x, y, y, x);
        break;
    case RST_AFTER_FIN:
        text_add(n, "%s resets after its FIN: its socket is fully closed; %s's next write fails "
                    "with EPIPE and raises SIGPIPE", x, y);
        break;
    case RST_UNREAD:
        text_add(n, "closed with unread data: RST instead of FIN, as when %s closes its socket with "
                    "%s's last %llu byte%s unread (SO_LINGER zero looks the same); %s's next write "
                    "fails with ECONNRESET, the one after with EPIPE",
                 x, y, (unsigned long long)e->unanswered_rx, plural(e->unanswered_rx), y);
        break;
    case RST_ABORT:
        /*
         * Its peer's data was all answered, but not necessarily read: the
         * kernel acknowledges data before the program reads it. The tracer,
         * which sees the reads, says which it was where it can.
         */
        text_add(n, "%s closed with RST and no FIN; the wire cannot say why: either with data it had "
                    "not read (its kernel acknowledges data before the program reads it, so the ACKs "
                    "do not tell), or with SO_LINGER set to zero; %s's next recv() or send() fails "
                    "with ECONNRESET, sends after that with EPIPE", x, y);
        break;
    case RST_ABORT_NO_DATA:
        text_add(n, "%s resets the connection: RST without FIN, before %s sent it any data, so nothing "
                    "was left unread: most likely an abortive close (SO_LINGER set to zero); %s's next "
                    "recv() or send() fails with ECONNRESET, sends after that with EPIPE", x, y, y);
        break;
    case RST_AFTER_BOTH:
        text_add(n, "%s resets after both sides closed: a late segment found no socket; "
                    "nothing is left to fail", x);
        break;
    case RST_AGAIN:
        text_add(n, "another RST from %s: %s is still sending to a connection %s no longer has",
                 x, y, x);
        break;
    case RST_UNKNOWN:
        text_add(n, "%s resets a connection whose earlier segments the capture does not show: "
                    "why cannot be told from here", x);
        break;
    case RST_NONE:
        break;
    }
}

/*
 * The note for one segment from e, written before the segment updates the
 * notes' view (so e and peer describe what came before it).
 */
static void note_segment(const struct conn_table *t, struct conn *c, struct endpoint *e,
                         const struct tcp_seg *seg, struct text *n, enum rst_kind *rst)
{
    struct endpoint *peer = peer_of(c, e);
    char x[24], y[24];
    uint8_t f = seg->flags;
    uint32_t len = seg->payload_len;

    label(t, e, x, sizeof x);
    label(t, peer, y, sizeof y);
    *rst = RST_NONE;

    if ((f & TCPF_SYN) && (f & (TCPF_FIN | TCPF_RST))) {
        text_add(n, "%s sends SYN together with %s: no normal TCP does this", x,
                 f & TCPF_FIN ? "FIN" : "RST");
        return;
    }
    if ((f & TCPF_FIN) && (f & TCPF_RST)) {
        text_add(n, "%s sends FIN and RST together: no normal TCP does this", x);
        return;
    }

    if (f & TCPF_SYN) {
        int again = e->syn_seen && seg->seq == e->isn;
        if (!(f & TCPF_ACK))
            text_add(n, again ? "%s asks to connect again: no answer to its SYN yet (retransmission)"
                              : "%s asks to connect (SYN to port %u)", x, (unsigned)seg->dport);
        else if (again)
            text_add(n, "%s repeats its SYN-ACK (retransmission)", x);
        else
            text_add(n, "%s's kernel agrees to connect (SYN-ACK) on behalf of the listening "
                        "socket: no accept() is needed for this", x);
        return;
    }

    if (f & TCPF_RST) {
        *rst = classify_rst(e, peer);
        note_rst(n, *rst, e, x, y);
        return;
    }

    int retrans = len > 0 && e->sent_any && seq_delta(seg->seq + len, e->snd_max) <= 0;

    if (f & TCPF_FIN) {
        if (e->fin_seen && seg->seq + len == e->fin_seq) {
            text_add(n, "%s repeats its FIN (retransmission: not acknowledged in time)", x);
        } else if (peer->fin_seen) {
            if (len)
                text_add(n, "%s sends %u byte%s and closes its end too", x, len, plural(len));
            else
                text_add(n, "%s closes its end too", x);
            text_add(n, ": both directions are closed, an orderly end");
        } else {
            if (len)
                text_add(n, "%s sends %u byte%s and closes its end", x, len, plural(len));
            else
                text_add(n, "%s closed its end", x);
            text_add(n, " (close(), or shutdown() for writing): it will send no more data");
        }
        return;
    }

    if (len > 0) {
        if (peer->rst_seen)
            text_add(n, "%s sends %u byte%s after %s's RST: that connection no longer exists, "
                        "%s's kernel will answer with RST", x, len, plural(len), y, y);
        else if (retrans)
            text_add(n, "%s sends %u byte%s again (retransmission: not acknowledged in time)",
                     x, len, plural(len));
        else if (e->fin_seen)
            text_add(n, "%s sends %u byte%s after its own FIN: no normal TCP does this", x, len, plural(len));
        else if (peer->fin_seen)
            text_add(n, "%s sends %u byte%s, writing to a peer that may be gone: %s's FIN says it "
                        "will send no more, not that it can still receive", x, len, plural(len), y);
        else
            text_add(n, "%s sends %u byte%s", x, len, plural(len));
        return;
    }

    /* A segment with no data, SYN, FIN or RST: an acknowledgment, a probe or a window update. */
    if (!(f & TCPF_ACK)) {
        text_add(n, "%s sends a segment with no data and no ACK: no normal TCP does this", x);
        return;
    }
    if (e->sent_any && seg->seq == e->snd_max - 1) {
        text_add(n, "%s checks that %s is still there (keep-alive probe)", x, y);
        return;
    }
    if (peer->syn_seen && seg->ack == peer->isn + 1 && !e->ack_valid && e->is_orig) {
        text_add(n, "%s's kernel acknowledges the SYN-ACK: the connection is established (connect() "
                    "returns; the connection waits for accept() on %s)", x, y);
        return;
    }
    if (seg->window == 0) {
        text_add(n, "%s's receive buffer is full (zero window): %s must wait", x, y);
        return;
    }
    uint32_t prev = e->ack_valid ? e->ack_max : seg->ack;
    if (peer->fin_seen && seg->ack == peer->fin_seq + 1 && (!e->ack_valid || seq_delta(prev, peer->fin_seq) <= 0)) {
        if (e->fin_seen)
            text_add(n, "%s's kernel acknowledges %s's FIN: the connection is over%s", x, y,
                     c->first_close == (int)(e - c->ep) ? " (this side waits in TIME-WAIT for a while)" : "");
        else
            text_add(n, "%s's kernel acknowledges %s's FIN: recv() on %s will return 0 (end of file) once "
                        "the data before it is read", x, y, x);
        return;
    }
    if (!e->ack_valid && peer->sent_any)
        prev = peer->first_seq;
    int32_t fresh = seq_delta(seg->ack, prev);
    if (fresh > 0)
        text_add(n, "%s's kernel acknowledges %ld byte%s from %s: they are in its receive buffer, "
                    "whether or not the program has read them yet", x, (long)fresh, plural((uint64_t)fresh), y);
    else
        text_add(n, "%s's kernel acknowledges nothing new (a duplicate ACK or a window update)", x);
}

/* After the note: what this segment changes in the notes' view. */
static void note_account(struct conn *c, struct endpoint *e, const struct tcp_seg *seg, enum rst_kind rst)
{
    struct endpoint *peer = peer_of(c, e);
    uint8_t f = seg->flags;
    uint32_t len = f & TCPF_RST ? 0 : seg->payload_len;
    uint32_t end = seg->seq + len + !!(f & TCPF_SYN) + !!(f & TCPF_FIN);

    if (f & TCPF_SYN) {
        e->syn_seen = 1;
        e->isn = seg->seq;
    }
    if (len > 0)
        e->sent_data = 1;
    uint32_t fresh = len;
    if (e->sent_any && len > 0) {
        int32_t beyond = seq_delta(seg->seq + len, e->snd_max);
        fresh = beyond <= 0 ? 0 : (uint32_t)beyond < len ? (uint32_t)beyond : len;
    }
    if (fresh > 0) {
        e->unanswered_rx = 0;
        peer->unanswered_rx += fresh;
        if (peer->fin_seen)
            e->wrote_after_peer_fin = 1;
    }
    if (!(f & TCPF_RST) && !e->sent_any)
        e->first_seq = seg->seq + !!(f & TCPF_SYN);
    if (!(f & TCPF_RST) && (!e->sent_any || seq_delta(end, e->snd_max) > 0)) {
        e->snd_max = end;
        e->sent_any = 1;
    }
    if ((f & TCPF_FIN) && !(f & TCPF_RST) && !e->fin_seen) {
        e->fin_seen = 1;
        e->fin_seq = seg->seq + len;
        if (c->first_close < 0) {
            c->first_close = (int)(e - c->ep);
            c->first_close_rst = 0;
        }
    }
    if (f & TCPF_RST) {
        if (!e->rst_seen) {
            e->rst_seen = 1;
            e->rst_kind = rst;
        }
        if (c->first_close < 0) {
            c->first_close = (int)(e - c->ep);
            c->first_close_rst = 1;
        }
    }
    if ((f & TCPF_ACK) && !(f & TCPF_RST) && (!e->ack_valid || seq_delta(seg->ack, e->ack_max) > 0)) {
        e->ack_max = seg->ack;
        e->ack_valid = 1;
    }
}

/* A plain note for a segment we could not track. */
static void note_untracked(const struct tcp_seg *seg, struct text *n)
{
    char fl[48];
    text_add(n, "%s segment with %u byte%s (not tracked: out of memory)",
             decode_flags_str(seg->flags, fl, sizeof fl), seg->payload_len, plural(seg->payload_len));
}

/*
 * Zeek's IsReuse: a SYN on ports that already have a connection starts a new
 * one if the old one has closed, or if its sequence number differs.
 */
static int is_reuse(struct conn *c, const struct tcp_seg *seg)
{
    if (!(seg->flags & TCPF_SYN))
        return 0;
    struct endpoint *o = orig_of(c), *r = resp_of(c);
    struct endpoint *conn_orig = o;
    if (seg->flags & TCPF_ACK) {
        if (o->state != EP_INACTIVE)
            return 0;
        conn_orig = r;
    }
    if (!(o->did_close || r->did_close)) {
        if (seg->seq == (uint32_t)conn_orig->start_seq)
            return 0;
        if (!(seg->flags & TCPF_ACK) && conn_orig->state == EP_SYN_ACK_SENT &&
            r->state == EP_INACTIVE && seg->seq == (uint32_t)r->start_seq)
            return 0;
    }
    return 1;
}

int conn_track(struct conn_table *t, const struct tcp_seg *seg, const struct timespec *ts,
               struct conn_segment_info *info)
{
    struct text n = { info->note, 0, sizeof info->note };
    info->note[0] = '\0';
    info->from_orig = 1;

    struct conn *c = table_find(t, seg);
    if (c && is_reuse(c, seg)) {
        table_unhash(t, c);
        c->detached = 1;
        t->walk_all = 1;
        c = NULL;
    }
    if (!c) {
        c = table_add(t, seg, ts);
        if (!c) {
            note_untracked(seg, &n);
            return -1;
        }
        /*
         * A SYN-ACK first means its receiver sent the SYN: make the receiver
         * the originator, and say so in the history as Zeek does when it
         * flips a connection (Zeek does it only for well-known server ports).
         */
        if ((seg->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
            flip_roles(c);
    }

    struct endpoint *e = endpoint_is(&c->ep[0], seg->family, seg->src, seg->sport) ? &c->ep[0] : &c->ep[1];
    enum rst_kind rst;

    note_segment(t, c, e, seg, &n, &rst);
    zeek_process(c, e, seg);
    note_account(c, e, seg, rst);
    e->pkts++;
    c->last = *ts;
    if (ts_ns(ts) < t->latest_ns)
        t->unordered = 1; /* the ended list is no longer in time order */
    else
        t->latest_ns = ts_ns(ts);
    if (c->ended)
        ended_touch(t, c);
    info->from_orig = e->is_orig;
    return 0;
}

/* ---- summaries ---- */

static void summary_note(const struct conn_table *t, struct conn *c, struct text *n)
{
    struct endpoint *o = orig_of(c), *r = resp_of(c);
    char on[24], rn[24];
    label(t, o, on, sizeof on);
    label(t, r, rn, sizeof rn);

    if (r->rst_kind == RST_REFUSED) {
        text_add(n, "connection refused: nothing listened on port %u, so %s's connect() failed "
                    "with ECONNREFUSED", (unsigned)r->port, on);
        return;
    }
    if (c->first_close < 0) {
        if (o->syn_seen && !r->sent_any)
            text_add(n, "%s's SYN got no answer during the capture", on);
        else
            text_add(n, "neither side closed during the capture: the connection is still open");
        return;
    }

    struct endpoint *f = &c->ep[c->first_close], *g = peer_of(c, f);
    char fn[24], gn[24];
    label(t, f, fn, sizeof fn);
    label(t, g, gn, sizeof gn);

    if (!c->first_close_rst) {
        text_add(n, "%s closed first, with FIN: it sends no more", fn);
        if (g->fin_seen) {
            if (g->wrote_after_peer_fin)
                text_add(n, "; %s wrote after that FIN, then closed too (FIN)", gn);
            else
                text_add(n, "; %s then closed too (FIN)", gn);
            if (f->rst_seen || g->rst_seen)
                text_add(n, ", and a late RST found a socket already gone");
            else
                text_add(n, ": an orderly close, and no write failed");
        } else if (f->rst_kind == RST_AFTER_FIN_DATA) {
            text_add(n, "; %s wrote after that FIN and %s's RST answered: %s's socket was fully "
                        "closed, so %s's next write fails with EPIPE and raises SIGPIPE (Linux "
                        "reports EPIPE, not ECONNRESET, on a socket that already had the peer's FIN)",
                     gn, fn, fn, gn);
        } else if (f->rst_seen) {
            text_add(n, "; then %s reset the connection: %s's next write fails with EPIPE and "
                        "raises SIGPIPE", fn, gn);
        } else if (g->rst_seen) {
            text_add(n, "; %s answered with RST instead of closing", gn);
        } else {
            text_add(n, "; %s never closed its end during the capture: its recv() returns 0, and "
                        "it can still write%s", gn,
                     g->wrote_after_peer_fin ? " (it did), though a fully closed peer answers with RST" : "");
        }
        return;
    }

    switch (f->rst_kind) {
    case RST_UNREAD:
        text_add(n, "%s closed first, with RST instead of FIN: it closed with unread data (or "
                    "aborted with SO_LINGER zero, which looks the same)", fn);
        break;
    case RST_ABORT:
        text_add(n, "%s closed first, with RST and no FIN; the wire cannot say why: either with data "
                    "it had not read (its kernel acknowledges data before the program reads it, so the "
                    "ACKs do not tell), or with SO_LINGER set to zero", fn);
        break;
    case RST_ABORT_NO_DATA:
        text_add(n, "%s closed first, with RST and no FIN, before %s sent it any data: most likely an "
                    "abortive close (SO_LINGER set to zero)", fn, gn);
        break;
    case RST_CANCEL:
        text_add(n, "%s gave up before the handshake completed (RST)", fn);
        return;
    case RST_UNKNOWN:
        text_add(n, "%s reset a connection whose start the capture does not show", fn);
        return;
    default:
        text_add(n, "%s closed first, with RST", fn);
        break;
    }
    if (g->fin_seen)
        text_add(n, "; %s had already closed its end", gn);
    else
        text_add(n, "; %s's next recv() or send() fails with ECONNRESET, sends after that with EPIPE "
                    "and SIGPIPE (%s had no FIN, so Linux reports ECONNRESET first)", gn, gn);
}

static void summarise(const struct conn_table *t, struct conn *c, struct conn_summary *s)
{
    struct endpoint *o = orig_of(c), *r = resp_of(c);
    const char *name;

    memset(s, 0, sizeof *s);
    decode_endpoint_str(o->family, o->addr, o->port, s->orig, sizeof s->orig);
    decode_endpoint_str(r->family, r->addr, r->port, s->resp, sizeof s->resp);
    s->family = o->family;
    memcpy(s->orig_addr, o->addr, sizeof s->orig_addr);
    memcpy(s->resp_addr, r->addr, sizeof s->resp_addr);
    s->orig_port = o->port;
    s->resp_port = r->port;
    if ((name = endpoint_name(t, o)))
        snprintf(s->orig_name, sizeof s->orig_name, "%s", name);
    if ((name = endpoint_name(t, r)))
        snprintf(s->resp_name, sizeof s->resp_name, "%s", name);
    snprintf(s->conn_state, sizeof s->conn_state, "%s", zeek_conn_state(c));
    snprintf(s->history, sizeof s->history, "%s", c->history);
    s->orig_bytes = endpoint_size(o, r);
    s->resp_bytes = endpoint_size(r, o);
    s->orig_pkts = o->pkts;
    s->resp_pkts = r->pkts;
    s->first = c->first;
    s->last = c->last;
    struct text n = { s->note, 0, sizeof s->note };
    summary_note(t, c, &n);
}

static void forget(struct conn_table *t, struct conn *c, conn_done_fn done, void *ctx)
{
    struct conn_summary s;
    summarise(t, c, &s);
    if (!c->detached)
        table_unhash(t, c);
    list_remove(t, c);
    free(c);
    if (done)
        done(&s, ctx);
}

static int by_serial(const void *a, const void *b)
{
    uint64_t x = (*(struct conn *const *)a)->serial, y = (*(struct conn *const *)b)->serial;
    return x < y ? -1 : x > y;
}

/*
 * The ended connections whose linger is over, from the head of the ended
 * list, forgotten in the order they began, as the walk through all would.
 * 0 if the scratch space could not grow (nothing was forgotten).
 */
static int expire_ended(struct conn_table *t, int64_t now_ns, conn_done_fn done, void *ctx)
{
    size_t n = 0;
    for (struct conn *c = t->ended_head; c && now_ns - ts_ns(&c->last) >= CONN_LINGER_NS; c = c->ended_next) {
        if (n == t->expiring_cap) {
            size_t cap = t->expiring_cap ? t->expiring_cap * 2 : 64;
            struct conn **grown = realloc(t->expiring, cap * sizeof *grown);
            if (!grown)
                return 0;
            t->expiring = grown;
            t->expiring_cap = cap;
        }
        t->expiring[n++] = c;
    }
    if (n > 1)
        qsort(t->expiring, n, sizeof *t->expiring, by_serial);
    for (size_t i = 0; i < n; i++)
        forget(t, t->expiring[i], done, ctx);
    return 1;
}

void conn_expire(struct conn_table *t, const struct timespec *now, conn_done_fn done, void *ctx)
{
    int64_t now_ns = ts_ns(now);
    if (!t->walk_all && !t->unordered && now_ns < t->idle_check_ns && expire_ended(t, now_ns, done, ctx))
        return;

    int64_t idle_check_ns = INT64_MAX;
    struct conn *c = t->oldest;
    while (c) {
        struct conn *next = c->newer;
        int64_t idle = now_ns - ts_ns(&c->last);
        if (c->detached || (c->ended && idle >= CONN_LINGER_NS) || idle >= CONN_IDLE_NS)
            forget(t, c, done, ctx);
        else if (ts_ns(&c->last) + CONN_IDLE_NS < idle_check_ns)
            idle_check_ns = ts_ns(&c->last) + CONN_IDLE_NS;
        c = next;
    }
    t->idle_check_ns = idle_check_ns;
    t->walk_all = 0;
}

void conn_flush(struct conn_table *t, conn_done_fn done, void *ctx)
{
    while (t->oldest)
        forget(t, t->oldest, done, ctx);
}
