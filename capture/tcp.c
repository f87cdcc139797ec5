/*
 * tcp: the connection tracker (tcp.h says what it keeps and why).
 *
 * Each connection holds its two sides and Zeek's view of it. A segment is
 * first classified from what came before it (classify_segment), then run
 * through Zeek's state machine, then accounted (account_segment), so the
 * facts of a segment describe it against the past, as a reader sees it.
 */
#include "tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "zeek.h"

/* FNV-1a, 64 bits. */
#define FNV64_OFFSET 14695981039346656037ULL
#define FNV64_PRIME 1099511628211ULL
#define TABLE_FIRST_BUCKETS 64

/* One side of a connection: what it sent, as the segments show. */
struct tcp_side {
    struct endpoint ep;
    uint64_t pkts;
    bool sent_any;            /* snd_max and first_seq are valid */
    bool sent_data;           /* it sent payload */
    uint32_t first_seq;       /* where its data starts: after the SYN, or its first segment */
    uint32_t snd_max;         /* one past the highest sequence number sent */
    bool syn_seen;
    uint32_t isn;
    bool fin_seen;            /* a FIN without RST */
    uint32_t fin_seq;         /* sequence number of the FIN */
    bool rst_seen;
    enum rst_kind rst_kind;   /* what its first RST meant */
    bool ack_valid;
    uint32_t ack_max;         /* highest acknowledgment number it sent */
    uint64_t unanswered_rx;   /* payload received since it last sent payload */
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
};

struct tcp_conn {
    struct tcp_conn *hnext;          /* hash chain */
    struct tcp_conn *older, *newer;  /* in the order connections began */
    struct tcp_side side[2];         /* side[0] sent the first segment seen */
    struct zeek_conn zeek;
    int first_close;                 /* index into side[] of the side that closed first, or -1 */
    bool first_close_rst;
    bool detached;                   /* replaced by a new connection on the same ports */
    struct timespec first, last;
    uint64_t serial;                 /* the order connections began in, for summaries */
    struct tcp_conn *ended_prev, *ended_next; /* on the ended list: by last segment, oldest first */
    bool on_ended_list;
};

struct tcp_table {
    struct tcp_conn **buckets;
    size_t nbuckets;
    size_t count;
    struct tcp_conn *oldest, *newest;
    unsigned long segments;          /* segments tracked: their serial numbers */

    /*
     * What lets tcp_expire() skip walking every connection. Ended
     * connections are also listed in the order of their last segment, so
     * those whose linger is over are at the head of that list. Everything
     * else (a connection idle for TCP_IDLE_NS, a detached one, a capture
     * whose timestamps go backwards) sends tcp_expire() through all of them.
     */
    struct tcp_conn *ended_head, *ended_tail;
    uint64_t next_serial;
    int64_t idle_check_ns;           /* no open connection reaches TCP_IDLE_NS before this */
    int64_t latest_ns;               /* the latest segment time seen */
    bool walk_all;                   /* a connection was detached since the last walk */
    bool unordered;                  /* segment times went backwards: always walk them all */
    struct tcp_conn **expiring;      /* scratch: the connections one tcp_expire() forgets */
    size_t expiring_cap;
};

static bool is_orig(const struct tcp_conn *c, const struct tcp_side *s)
{
    return (s - c->side) == zeek_orig(&c->zeek);
}

static struct tcp_side *peer_of(struct tcp_conn *c, struct tcp_side *s)
{
    return s == &c->side[0] ? &c->side[1] : &c->side[0];
}

static int32_t seq_delta(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

static int64_t ts_ns(const struct timespec *ts) { return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

/* --- the table: both directions of a 4-tuple land in one bucket ----------------- */

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
        h *= FNV64_PRIME;
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
    uint64_t h = FNV64_OFFSET;
    h = fnv1a(h, &family, sizeof family);
    h = fnv1a(h, a1, alen);
    h = fnv1a(h, &p1, sizeof p1);
    h = fnv1a(h, a2, alen);
    h = fnv1a(h, &p2, sizeof p2);
    return (size_t)h;
}

static bool side_is(const struct tcp_side *s, int family, const uint8_t *addr, uint16_t port)
{
    return s->ep.family == family && s->ep.port == port &&
           memcmp(s->ep.addr, addr, family == AF_INET6 ? 16 : 4) == 0;
}

static size_t conn_hash(const struct tcp_conn *c)
{
    return tuple_hash(c->side[0].ep.family, c->side[0].ep.addr, c->side[0].ep.port, c->side[1].ep.addr,
                      c->side[1].ep.port);
}

struct tcp_table *tcp_table_new(void)
{
    struct tcp_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nbuckets = TABLE_FIRST_BUCKETS;
    t->idle_check_ns = INT64_MAX;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

void tcp_table_free(struct tcp_table *t)
{
    if (!t)
        return;
    struct tcp_conn *c = t->oldest;
    while (c) {
        struct tcp_conn *next = c->newer;
        free(c);
        c = next;
    }
    free(t->buckets);
    free(t->expiring);
    free(t);
}

/* Double the buckets when the chains grow long; on failure keep the old ones. */
static void table_grow(struct tcp_table *t)
{
    size_t n = t->nbuckets * 2;
    struct tcp_conn **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct tcp_conn *c = t->buckets[i];
        while (c) {
            struct tcp_conn *next = c->hnext;
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

static struct tcp_conn *table_find(struct tcp_table *t, const struct tcp_seg *seg)
{
    size_t h = tuple_hash(seg->family, seg->src, seg->sport, seg->dst, seg->dport) & (t->nbuckets - 1);
    for (struct tcp_conn *c = t->buckets[h]; c; c = c->hnext) {
        if ((side_is(&c->side[0], seg->family, seg->src, seg->sport) &&
             side_is(&c->side[1], seg->family, seg->dst, seg->dport)) ||
            (side_is(&c->side[1], seg->family, seg->src, seg->sport) &&
             side_is(&c->side[0], seg->family, seg->dst, seg->dport)))
            return c;
    }
    return NULL;
}

/* Take c out of the hash (it stays in the begin-order list). */
static void table_unhash(struct tcp_table *t, struct tcp_conn *c)
{
    struct tcp_conn **pp = &t->buckets[conn_hash(c) & (t->nbuckets - 1)];
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

static void side_init(struct tcp_side *s, int family, const uint8_t *addr, uint16_t port)
{
    memset(s, 0, sizeof *s);
    s->ep.family = family;
    memcpy(s->ep.addr, addr, sizeof s->ep.addr);
    s->ep.port = port;
}

static struct tcp_conn *table_add(struct tcp_table *t, const struct tcp_seg *seg, const struct timespec *ts)
{
    struct tcp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    side_init(&c->side[0], seg->family, seg->src, seg->sport);
    side_init(&c->side[1], seg->family, seg->dst, seg->dport);
    zeek_init(&c->zeek);
    c->first_close = -1;
    c->first = c->last = *ts;
    c->serial = t->next_serial++;
    if (ts_ns(ts) + TCP_IDLE_NS < t->idle_check_ns)
        t->idle_check_ns = ts_ns(ts) + TCP_IDLE_NS;

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

static void ended_unlink(struct tcp_table *t, struct tcp_conn *c)
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
    c->on_ended_list = false;
}

/* C ended, and its last segment is the latest: it goes to the ended list's tail. */
static void ended_touch(struct tcp_table *t, struct tcp_conn *c)
{
    ended_unlink(t, c);
    c->ended_prev = t->ended_tail;
    if (t->ended_tail)
        t->ended_tail->ended_next = c;
    else
        t->ended_head = c;
    t->ended_tail = c;
    c->on_ended_list = true;
}

static void list_remove(struct tcp_table *t, struct tcp_conn *c)
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

/* --- what a segment is ------------------------------------------------------------ */

/*
 * What a RST from s meant, from what s and its peer sent before it.
 * Linux's reasons: a closed socket answers any segment with RST; close()
 * with unread data sends RST instead of FIN (RFC 2525); SO_LINGER {1, 0}
 * makes close() abort with RST; a SYN to a port nobody listens on gets RST.
 */
static enum rst_kind classify_rst(const struct tcp_conn *c, const struct tcp_side *s,
                                  const struct tcp_side *peer)
{
    if (s->rst_seen)
        return RST_AGAIN;
    if (!s->sent_any && !peer->sent_any)
        return RST_UNKNOWN;
    if (!is_orig(c, s) && peer->syn_seen && !s->syn_seen)
        return RST_REFUSED;
    if (is_orig(c, s) && s->syn_seen && !peer->syn_seen && !s->ack_valid)
        return RST_CANCEL;
    if (s->fin_seen && peer->fin_seen)
        return RST_AFTER_BOTH;
    if (s->fin_seen)
        return peer->wrote_after_peer_fin ? RST_AFTER_FIN_DATA : RST_AFTER_FIN;
    if (s->unanswered_rx > 0)
        return RST_UNREAD;
    if (s->syn_seen && peer->syn_seen && !peer->sent_data)
        return RST_ABORT_NO_DATA;
    return RST_ABORT;
}

/* What a segment carrying nothing but (perhaps) an ACK is. */
static enum seg_kind classify_ack(struct tcp_conn *c, struct tcp_side *s, const struct tcp_seg *seg,
                                  struct seg_facts *f)
{
    struct tcp_side *peer = peer_of(c, s);
    if (!(seg->flags & TCPF_ACK))
        return SEG_NO_ACK;
    if (s->sent_any && seg->seq == s->snd_max - 1)
        return SEG_KEEPALIVE;
    if (peer->syn_seen && seg->ack == peer->isn + 1 && !s->ack_valid && is_orig(c, s))
        return SEG_HANDSHAKE_ACK;
    if (seg->window == 0)
        return SEG_ZERO_WINDOW;
    uint32_t prev = s->ack_valid ? s->ack_max : seg->ack;
    if (peer->fin_seen && seg->ack == peer->fin_seq + 1 &&
        (!s->ack_valid || seq_delta(prev, peer->fin_seq) <= 0)) {
        if (!s->fin_seen)
            return SEG_ACK_FIN;
        f->time_wait = c->first_close == (int)(s - c->side);
        return SEG_ACK_FIN_OVER;
    }
    if (!s->ack_valid && peer->sent_any)
        prev = peer->first_seq;
    int32_t fresh = seq_delta(seg->ack, prev);
    if (fresh <= 0)
        return SEG_ACK_NOTHING;
    f->acked = (uint32_t)fresh;
    return SEG_ACK_DATA;
}

/* What a segment from s is, told before it changes anything (s and peer describe the past). */
static enum seg_kind classify_segment(struct tcp_conn *c, struct tcp_side *s, const struct tcp_seg *seg,
                                      struct seg_facts *f)
{
    struct tcp_side *peer = peer_of(c, s);
    uint8_t flags = seg->flags;
    uint32_t len = seg->payload_len;

    if ((flags & TCPF_SYN) && (flags & TCPF_FIN))
        return SEG_SYN_WITH_FIN;
    if ((flags & TCPF_SYN) && (flags & TCPF_RST))
        return SEG_SYN_WITH_RST;
    if ((flags & TCPF_FIN) && (flags & TCPF_RST))
        return SEG_FIN_WITH_RST;
    if (flags & TCPF_SYN) {
        bool again = s->syn_seen && seg->seq == s->isn;
        if (flags & TCPF_ACK)
            return again ? SEG_SYN_ACK_AGAIN : SEG_SYN_ACK;
        return again ? SEG_SYN_AGAIN : SEG_SYN;
    }
    if (flags & TCPF_RST) {
        f->rst = classify_rst(c, s, peer);
        f->sender_port = s->ep.port;
        f->unanswered = s->unanswered_rx;
        return SEG_RST;
    }
    if (flags & TCPF_FIN) {
        if (s->fin_seen && seg->seq + len == s->fin_seq)
            return SEG_FIN_AGAIN;
        return peer->fin_seen ? SEG_FIN_SECOND : SEG_FIN_FIRST;
    }
    if (len > 0) {
        if (peer->rst_seen)
            return SEG_DATA_AFTER_PEER_RST;
        if (s->sent_any && seq_delta(seg->seq + len, s->snd_max) <= 0)
            return SEG_DATA_AGAIN;
        if (s->fin_seen)
            return SEG_DATA_AFTER_OWN_FIN;
        if (peer->fin_seen)
            return SEG_DATA_AFTER_PEER_FIN;
        return SEG_DATA;
    }
    return classify_ack(c, s, seg, f);
}

/* --- what a segment changes --------------------------------------------------------- */

/* The relative numbers of seg from s, numbering a side the first time it is seen, as Wireshark does. */
static void number_segment(struct tcp_side *s, struct tcp_side *peer, const struct tcp_seg *seg,
                           struct seg_facts *f)
{
    bool syn = seg->flags & TCPF_SYN;
    if (!s->numbered || syn) {
        /* A new start (its SYN): what the side carried before is forgotten. */
        if (s->numbered) {
            s->data_end = 0;
            s->last_data = 0;
            s->any_fin = s->any_rst = s->reset_first = s->rst_before_peer_fin = false;
        }
        /* Without its SYN, a side's first segment counts as 1. */
        s->base = syn ? seg->seq : seg->seq - 1;
        s->numbered = true;
    }
    f->rel_seq = seg->seq - s->base;
    if (!peer->numbered && (seg->flags & TCPF_ACK)) {
        /* The other side, not seen yet: this ack is where its data goes on, as 1. */
        peer->base = seg->ack - 1;
        peer->numbered = true;
    }
    f->rel_ack = (seg->flags & TCPF_ACK) ? seg->ack - peer->base : 0;
}

/* The data a side carried, and why a first RST came: the facts the RST's causes need. */
static void account_data(struct tcp_table *t, struct tcp_side *s, struct tcp_side *peer, bool was_numbered,
                         const struct tcp_seg *seg, struct seg_facts *f)
{
    t->segments++;
    if (seg->payload_len) {
        uint64_t end = (uint64_t)(uint32_t)(f->rel_seq - 1 + seg->payload_len);
        if (end > s->data_end)
            s->data_end = end;
        s->last_data = t->segments;
    }
    if ((seg->flags & TCPF_RST) && !s->any_rst && !s->any_fin && was_numbered && peer->numbered) {
        s->reset_first = true;
        s->rst_before_peer_fin = !peer->any_fin;
        s->rst_unread = -1;
        f->reset_first = true;
        f->cause.first = s->rst_before_peer_fin;
        f->cause.peer_answered = s->last_data > peer->last_data;
        f->cause.unread = -1;
        f->peer_data = peer->data_end;
    }
    if (seg->flags & TCPF_RST)
        s->any_rst = true;
    if (seg->flags & TCPF_FIN)
        s->any_fin = true;
}

/* What the segment from s changes in both sides' view, after it was classified. */
static void account_segment(struct tcp_conn *c, struct tcp_side *s, const struct tcp_seg *seg,
                            enum rst_kind rst)
{
    struct tcp_side *peer = peer_of(c, s);
    uint8_t flags = seg->flags;
    uint32_t len = flags & TCPF_RST ? 0 : seg->payload_len;
    uint32_t end = seg->seq + len + !!(flags & TCPF_SYN) + !!(flags & TCPF_FIN);

    if (flags & TCPF_SYN) {
        s->syn_seen = true;
        s->isn = seg->seq;
    }
    if (len > 0)
        s->sent_data = true;
    uint32_t fresh = len;
    if (s->sent_any && len > 0) {
        int32_t beyond = seq_delta(seg->seq + len, s->snd_max);
        fresh = beyond <= 0 ? 0 : (uint32_t)beyond < len ? (uint32_t)beyond : len;
    }
    if (fresh > 0) {
        s->unanswered_rx = 0;
        peer->unanswered_rx += fresh;
        if (peer->fin_seen)
            s->wrote_after_peer_fin = true;
    }
    if (!(flags & TCPF_RST) && !s->sent_any)
        s->first_seq = seg->seq + !!(flags & TCPF_SYN);
    if (!(flags & TCPF_RST) && (!s->sent_any || seq_delta(end, s->snd_max) > 0)) {
        s->snd_max = end;
        s->sent_any = true;
    }
    if ((flags & TCPF_FIN) && !(flags & TCPF_RST) && !s->fin_seen) {
        s->fin_seen = true;
        s->fin_seq = seg->seq + len;
        if (c->first_close < 0) {
            c->first_close = (int)(s - c->side);
            c->first_close_rst = false;
        }
    }
    if (flags & TCPF_RST) {
        if (!s->rst_seen) {
            s->rst_seen = true;
            s->rst_kind = rst;
        }
        if (c->first_close < 0) {
            c->first_close = (int)(s - c->side);
            c->first_close_rst = true;
        }
    }
    if ((flags & TCPF_ACK) && !(flags & TCPF_RST) && (!s->ack_valid || seq_delta(seg->ack, s->ack_max) > 0)) {
        s->ack_max = seg->ack;
        s->ack_valid = true;
    }
}

/* The connection seg belongs to, a new one where it begins one; NULL when out of memory. */
static struct tcp_conn *conn_for(struct tcp_table *t, const struct tcp_seg *seg, const struct timespec *ts)
{
    struct tcp_conn *c = table_find(t, seg);
    if (c && zeek_is_reuse(&c->zeek, seg)) {
        table_unhash(t, c);
        c->detached = true;
        t->walk_all = true;
        c = NULL;
    }
    if (c)
        return c;
    c = table_add(t, seg, ts);
    /*
     * A SYN-ACK first means its receiver sent the SYN: make the receiver
     * the originator, and say so in the history as Zeek does when it flips
     * a connection (Zeek does it only for well-known server ports).
     */
    if (c && (seg->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
        zeek_flip_roles(&c->zeek);
    return c;
}

int tcp_track(struct tcp_table *t, const struct tcp_seg *seg, const struct timespec *ts,
              struct seg_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    facts->from_orig = true;
    struct tcp_conn *c = conn_for(t, seg, ts);
    if (!c) {
        facts->kind = SEG_UNTRACKED;
        facts->rel_seq = seg->seq;
        facts->rel_ack = seg->ack;
        return -1;
    }
    int at = side_is(&c->side[0], seg->family, seg->src, seg->sport) ? 0 : 1;
    struct tcp_side *s = &c->side[at], *peer = &c->side[!at];
    bool was_numbered = s->numbered;

    facts->kind = classify_segment(c, s, seg, facts);
    number_segment(s, peer, seg, facts);
    account_data(t, s, peer, was_numbered, seg, facts);
    zeek_process(&c->zeek, at, seg);
    account_segment(c, s, seg, facts->rst);
    s->pkts++;
    c->last = *ts;
    if (ts_ns(ts) < t->latest_ns)
        t->unordered = true; /* the ended list is no longer in time order */
    else
        t->latest_ns = ts_ns(ts);
    if (c->zeek.ended)
        ended_touch(t, c);
    facts->from_orig = is_orig(c, s);
    return 0;
}

void tcp_set_unread(struct tcp_table *t, const struct tcp_seg *seg, long long unread)
{
    struct tcp_conn *c = table_find(t, seg);
    if (!c)
        return;
    struct tcp_side *s = side_is(&c->side[0], seg->family, seg->src, seg->sport) ? &c->side[0] : &c->side[1];
    if (s->reset_first)
        s->rst_unread = unread;
}

/* --- summaries ----------------------------------------------------------------------- */

static void side_summary(const struct tcp_side *s, const struct tcp_side *peer, struct conn_side *out)
{
    out->syn_seen = s->syn_seen;
    out->sent_any = s->sent_any;
    out->fin_seen = s->fin_seen;
    out->rst_seen = s->rst_seen;
    out->wrote_after_peer_fin = s->wrote_after_peer_fin;
    out->rst_kind = s->rst_kind;
    out->reset_first = s->reset_first && s->rst_before_peer_fin;
    out->cause.first = true;
    out->cause.unread = s->rst_unread;
    out->cause.peer_answered = !peer->numbered || s->last_data > peer->last_data;
}

static void summarise(struct tcp_conn *c, struct conn_summary *out)
{
    int o = zeek_orig(&c->zeek);
    const struct tcp_side *orig = &c->side[o], *resp = &c->side[!o];

    memset(out, 0, sizeof *out);
    out->orig_ep = orig->ep;
    out->resp_ep = resp->ep;
    endpoint_str(&orig->ep, out->orig, sizeof out->orig);
    endpoint_str(&resp->ep, out->resp, sizeof out->resp);
    snprintf(out->conn_state, sizeof out->conn_state, "%s", zeek_conn_state(&c->zeek));
    snprintf(out->history, sizeof out->history, "%s", c->zeek.history);
    out->orig_bytes = zeek_size(&c->zeek, o);
    out->resp_bytes = zeek_size(&c->zeek, !o);
    out->orig_pkts = orig->pkts;
    out->resp_pkts = resp->pkts;
    out->first = c->first;
    out->last = c->last;
    side_summary(orig, resp, &out->orig_side);
    side_summary(resp, orig, &out->resp_side);
    out->first_close = c->first_close < 0 ? -1 : c->first_close == o ? 0 : 1;
    out->first_close_rst = c->first_close_rst;
}

static void forget(struct tcp_table *t, struct tcp_conn *c, tcp_done_fn done, void *ctx)
{
    struct conn_summary s;
    summarise(c, &s);
    if (!c->detached)
        table_unhash(t, c);
    list_remove(t, c);
    free(c);
    if (done)
        done(&s, ctx);
}

static int by_serial(const void *a, const void *b)
{
    uint64_t x = (*(struct tcp_conn *const *)a)->serial, y = (*(struct tcp_conn *const *)b)->serial;
    return x < y ? -1 : x > y;
}

/*
 * The ended connections whose linger is over, from the head of the ended
 * list, forgotten in the order they began, as the walk through all would.
 * false if the scratch space could not grow (nothing was forgotten).
 */
static bool expire_ended(struct tcp_table *t, int64_t now_ns, tcp_done_fn done, void *ctx)
{
    size_t n = 0;
    for (struct tcp_conn *c = t->ended_head; c && now_ns - ts_ns(&c->last) >= TCP_LINGER_NS;
         c = c->ended_next) {
        if (n == t->expiring_cap) {
            size_t cap = t->expiring_cap ? t->expiring_cap * 2 : 64;
            struct tcp_conn **grown = realloc(t->expiring, cap * sizeof *grown);
            if (!grown)
                return false;
            t->expiring = grown;
            t->expiring_cap = cap;
        }
        t->expiring[n++] = c;
    }
    if (n > 1)
        qsort(t->expiring, n, sizeof *t->expiring, by_serial);
    for (size_t i = 0; i < n; i++)
        forget(t, t->expiring[i], done, ctx);
    return true;
}

void tcp_expire(struct tcp_table *t, const struct timespec *now, tcp_done_fn done, void *ctx)
{
    int64_t now_ns = ts_ns(now);
    if (!t->walk_all && !t->unordered && now_ns < t->idle_check_ns && expire_ended(t, now_ns, done, ctx))
        return;

    int64_t idle_check_ns = INT64_MAX;
    struct tcp_conn *c = t->oldest;
    while (c) {
        struct tcp_conn *next = c->newer;
        int64_t idle = now_ns - ts_ns(&c->last);
        if (c->detached || (c->zeek.ended && idle >= TCP_LINGER_NS) || idle >= TCP_IDLE_NS)
            forget(t, c, done, ctx);
        else if (ts_ns(&c->last) + TCP_IDLE_NS < idle_check_ns)
            idle_check_ns = ts_ns(&c->last) + TCP_IDLE_NS;
        c = next;
    }
    t->idle_check_ns = idle_check_ns;
    t->walk_all = false;
}

void tcp_flush(struct tcp_table *t, tcp_done_fn done, void *ctx)
{
    while (t->oldest)
        forget(t, t->oldest, done, ctx);
}
