/*
 * tcp_table: where the tracker keeps its connections: a hash of their
 * 4-tuples (both directions alike: open addressing, the hashes in the slots),
 * the order they began in, and a heap by the time their next timer runs out
 * (tcp.h: Zeek's timers), so that finding what runs out takes no walk
 * through all, in whatever order the segments' times come. A connection
 * forgotten is kept for the next one: a capture opens and closes them all
 * along.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "tcp_int.h"

#define TABLE_FIRST_SLOTS 128

/* A 64-bit finaliser (MurmurHash3's fmix64): every bit of x moves every bit of the result. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t endpoint_mix(int family, const uint8_t *addr, uint16_t port)
{
    uint64_t k = (uint64_t)port << 32 | (uint64_t)(unsigned)family << 48;
    if (family == AF_INET6) {
        uint64_t hi, lo;
        memcpy(&hi, addr, 8);
        memcpy(&lo, addr + 8, 8);
        k ^= mix64(hi) + lo;
    } else {
        uint32_t a;
        memcpy(&a, addr, 4);
        k ^= a;
    }
    return mix64(k);
}

/*
 * The hash of a 4-tuple, the same both ways: for IPv4, its two ends as
 * numbers, the smaller first, mixed once; else the sum of its ends' own.
 */
static inline size_t tuple_hash(int family, const uint8_t *a1, uint16_t p1, const uint8_t *a2,
                                uint16_t p2)
{
    if (family == AF_INET) {
        uint32_t x, y;
        memcpy(&x, a1, 4);
        memcpy(&y, a2, 4);
        uint64_t e1 = (uint64_t)x << 16 | p1, e2 = (uint64_t)y << 16 | p2;
        if (e1 > e2) {
            uint64_t swap = e1;
            e1 = e2;
            e2 = swap;
        }
        return (size_t)mix64(e1 * 0x9e3779b97f4a7c15ULL ^ e2);
    }
    return (size_t)(endpoint_mix(family, a1, p1) + endpoint_mix(family, a2, p2));
}

bool side_is(const struct tcp_side *s, int family, const uint8_t *addr, uint16_t port)
{
    if (s->ep.family != family || s->ep.port != port)
        return false;
    /* Lengths known here, so the compiler compares in place: this runs for every segment. */
    if (family == AF_INET6)
        return memcmp(s->ep.addr, addr, 16) == 0;
    return memcmp(s->ep.addr, addr, 4) == 0;
}

/* Is c the connection of seg's 4-tuple, either way? */
static inline bool conn_is(const struct tcp_conn *c, const struct tcp_seg *seg)
{
    return (side_is(&c->side[0], seg->family, seg->src, seg->sport) &&
            side_is(&c->side[1], seg->family, seg->dst, seg->dport)) ||
           (side_is(&c->side[1], seg->family, seg->src, seg->sport) &&
            side_is(&c->side[0], seg->family, seg->dst, seg->dport));
}

struct tcp_table *tcp_table_new(void)
{
    struct tcp_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nslots = TABLE_FIRST_SLOTS;
    t->slots = calloc(t->nslots, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    return t;
}

/*
 * Connections are made in slabs, mapped whole: the first small (a capture
 * of a few connections keeps its memory small), the next ones 2 MB each
 * and aligned to it, offered to the kernel for huge pages. A capture keeps
 * thousands of connections at once (each closed one waits
 * tcp_close_delay), and each 4 KB page of them costs a fault when first
 * written: a huge page is one fault for 2,400 connections, where the
 * kernel has one to give (else nothing changes). A connection is never
 * given back, only kept for the next (spare): the slabs go at the end.
 */
struct conn_slab {
    struct conn_slab *next;
    size_t bytes; /* mapped */
};
#define SLAB_FIRST_CONNS 64
#define SLAB_BYTES ((size_t)2 << 20)
/* Where a slab's connections begin: past its header, on a cache line. */
#define SLAB_HEAD 64
_Static_assert(sizeof(struct conn_slab) <= SLAB_HEAD, "a slab's header before its connections");

/* A new slab on the list, its connections zero; false when out of memory. */
static bool conn_slab_new(struct tcp_table *t)
{
    bool first = !t->slabs;
    size_t bytes = first ? SLAB_HEAD + SLAB_FIRST_CONNS * sizeof(struct tcp_conn) : SLAB_BYTES;
    /* Aligned to 2 MB: twice as much mapped, the rest around it given back. */
    size_t map = first ? bytes : 2 * SLAB_BYTES;
    uint8_t *p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    if (!first) {
        size_t lead = (SLAB_BYTES - (uintptr_t)p % SLAB_BYTES) % SLAB_BYTES;
        if (lead)
            munmap(p, lead);
        munmap(p + lead + bytes, map - lead - bytes);
        p += lead;
#ifdef MADV_HUGEPAGE
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    }
    struct conn_slab *slab = (struct conn_slab *)p;
    slab->next = t->slabs;
    slab->bytes = bytes;
    t->slabs = slab;
    t->slab_used = 0;
    t->slab_cap = (bytes - SLAB_HEAD) / sizeof(struct tcp_conn);
    return true;
}

/* A connection never used, all zero; NULL when out of memory. */
static struct tcp_conn *conn_alloc(struct tcp_table *t)
{
    if ((!t->slabs || t->slab_used == t->slab_cap) && !conn_slab_new(t))
        return NULL;
    return (struct tcp_conn *)((uint8_t *)t->slabs + SLAB_HEAD) + t->slab_used++;
}

void tcp_table_free(struct tcp_table *t)
{
    if (!t)
        return;
    while (t->slabs) {
        struct conn_slab *next = t->slabs->next;
        munmap(t->slabs, t->slabs->bytes);
        t->slabs = next;
    }
    free(t->slots);
    free(t->heap);
    free(t->heap_at);
    free(t);
}

/* Where c goes in slots (mask: their number less one): the first empty slot from its hash on. */
static void slot_put(struct tcp_slot *slots, size_t mask, struct tcp_conn *c)
{
    size_t i = c->hash & mask;
    while (slots[i].c)
        i = (i + 1) & mask;
    slots[i].hash = c->hash;
    slots[i].c = c;
}

/* Double the slots; false (the old ones kept) when out of memory. */
static bool table_grow(struct tcp_table *t)
{
    size_t n = t->nslots * 2;
    struct tcp_slot *b = calloc(n, sizeof *b);
    if (!b)
        return false;
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i].c)
            slot_put(b, n - 1, t->slots[i].c);
    free(t->slots);
    t->slots = b;
    t->nslots = n;
    return true;
}

size_t table_hash(const struct tcp_seg *seg)
{
    return tuple_hash(seg->family, seg->src, seg->sport, seg->dst, seg->dport);
}

struct tcp_conn *table_find(struct tcp_table *t, const struct tcp_seg *seg, size_t hash)
{
    /* Segments of one connection often come in a row. */
    if (t->last && t->last->hash == hash && conn_is(t->last, seg))
        return t->last;
    size_t mask = t->nslots - 1;
    for (size_t i = hash & mask; t->slots[i].c; i = (i + 1) & mask) {
        if (t->slots[i].hash == hash && conn_is(t->slots[i].c, seg))
            return t->last = t->slots[i].c;
    }
    return NULL;
}

void table_prefetch(const struct tcp_table *t, size_t hash, int step)
{
    size_t mask = t->nslots - 1, i = hash & mask;
    if (step == 0) {
        __builtin_prefetch(&t->slots[i]);
        return;
    }
    /* The first connection with that hash: almost always the one (a probe stops at a gap). */
    for (size_t n = 0; t->slots[i].c && n < 8; i = (i + 1) & mask, n++) {
        if (t->slots[i].hash != hash)
            continue;
        /* The lines a segment uses (written, most of them), each asked for once, without a loop. */
        const char *c = (const char *)t->slots[i].c;
#define LINE(n) __builtin_prefetch(c + 64 * (n), 1)
        LINE(0), LINE(1), LINE(2), LINE(3), LINE(4), LINE(5);
        LINE(6), LINE(7), LINE(8), LINE(9), LINE(10), LINE(11);
#undef LINE
        _Static_assert(offsetof(struct tcp_conn, older) <= 12 * 64, "its busy part in 12 lines");
        return;
    }
}

/*
 * Take c out of the slots (it stays in the begin-order list). The slots
 * after it that probed past it move back, so that no probe stops short.
 */
static void table_unhash(struct tcp_table *t, struct tcp_conn *c)
{
    size_t mask = t->nslots - 1, i = c->hash & mask;
    while (t->slots[i].c != c) {
        if (!t->slots[i].c)
            return;
        i = (i + 1) & mask;
    }
    if (t->last == c)
        t->last = NULL;
    t->count--;
    for (size_t j = (i + 1) & mask; t->slots[j].c; j = (j + 1) & mask) {
        size_t home = t->slots[j].hash & mask;
        /* Stays if its home lies cyclically in (i, j]: a probe for it never passes i. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].c = NULL;
    t->slots[i].hash = 0;
}

/* --- the heap of timers ------------------------------------------------------------ */

static void heap_set(struct tcp_table *t, size_t at, struct heap_slot slot)
{
    t->heap[at] = slot;
    t->heap_at[slot.id] = (uint32_t)at;
}

static struct heap_slot slot_of(struct tcp_conn *c)
{
    return (struct heap_slot){ c->due_ns, c->serial, c, c->id };
}

/*
 * Does a's timer run out before b's? Of two at the same time, the one that
 * began first goes first: the order does not depend on the heap's history.
 */
static bool sooner(const struct heap_slot *a, const struct heap_slot *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->serial < b->serial);
}

static void sift_up(struct tcp_table *t, size_t at)
{
    struct heap_slot c = t->heap[at];
    while (at > 0) {
        size_t up = (at - 1) / 2;
        if (!sooner(&c, &t->heap[up]))
            break;
        heap_set(t, at, t->heap[up]);
        at = up;
    }
    heap_set(t, at, c);
}

static void sift_down(struct tcp_table *t, size_t at)
{
    struct heap_slot c = t->heap[at];
    for (;;) {
        size_t low = 2 * at + 1;
        if (low >= t->heap_len)
            break;
        if (low + 1 < t->heap_len && sooner(&t->heap[low + 1], &t->heap[low]))
            low++;
        if (!sooner(&t->heap[low], &c))
            break;
        heap_set(t, at, t->heap[low]);
        at = low;
    }
    heap_set(t, at, c);
}

/* c's due_ns changed: back in its place. */
static void heap_fix(struct tcp_table *t, struct tcp_conn *c)
{
    t->heap[t->heap_at[c->id]].due_ns = c->due_ns;
    sift_up(t, t->heap_at[c->id]);
    sift_down(t, t->heap_at[c->id]);
}

static bool heap_push(struct tcp_table *t, struct tcp_conn *c)
{
    if (t->heap_len == t->heap_cap) {
        size_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
        struct heap_slot *grown = realloc(t->heap, cap * sizeof *grown);
        if (!grown)
            return false;
        t->heap = grown;
        t->heap_cap = cap;
    }
    heap_set(t, t->heap_len++, slot_of(c));
    sift_up(t, t->heap_at[c->id]);
    return true;
}

static void heap_remove(struct tcp_table *t, struct tcp_conn *c)
{
    size_t at = t->heap_at[c->id];
    struct heap_slot last = t->heap[--t->heap_len];
    if (last.c == c)
        return;
    heap_set(t, at, last);
    sift_up(t, at);
    sift_down(t, t->heap_at[last.id]);
}

static void list_remove(struct tcp_table *t, struct tcp_conn *c)
{
    if (c->older)
        c->older->newer = c->newer;
    else
        t->oldest = c->newer;
    if (c->newer)
        c->newer->older = c->older;
    else
        t->newest = c->older;
}

static void forget(struct tcp_table *t, struct tcp_conn *c, tcp_done_fn done, void *ctx)
{
    struct conn_summary s;
    tcp_summarise(c, &s);
    if (!c->detached)
        table_unhash(t, c);
    heap_remove(t, c);
    list_remove(t, c);
    c->newer = t->spare;
    t->spare = c;
    if (done)
        done(&s, ctx);
}

static struct tcp_conn *heap_top(struct tcp_table *t);

static void side_init(struct tcp_side *s, int family, const uint8_t *addr, uint16_t port)
{
    memset(s, 0, sizeof *s);
    s->ep.family = family;
    memcpy(s->ep.addr, addr, sizeof s->ep.addr);
    s->ep.port = port;
}

struct tcp_conn *table_add(struct tcp_table *t, const struct tcp_seg *seg,
                           const struct timespec *ts)
{
    /* Full: the connection whose timer runs out first goes now. */
    if (t->heap_len >= TCP_CONN_MAX) {
        t->early++;
        forget(t, heap_top(t), t->done, t->done_ctx);
    }
    /* Past half full, the slots double; out of memory, they fill further, never to the last. */
    if (t->count + 1 > t->nslots / 2 && !table_grow(t) && t->count + 1 >= t->nslots)
        return NULL;
    struct tcp_conn *c = t->spare;
    if (c) {
        t->spare = c->newer;
        uint32_t id = c->id;
        memset(c, 0, sizeof *c);
        c->id = id;
    } else {
        if (t->nids == t->ids_cap) {
            size_t cap = t->ids_cap ? t->ids_cap * 2 : 256;
            uint32_t *grown = realloc(t->heap_at, cap * sizeof *grown);
            if (!grown)
                return NULL;
            t->heap_at = grown;
            t->ids_cap = cap;
        }
        if (!(c = conn_alloc(t)))
            return NULL;
        c->id = t->nids++;
    }
    side_init(&c->side[0], seg->family, seg->src, seg->sport);
    side_init(&c->side[1], seg->family, seg->dst, seg->dport);
    c->hash = tuple_hash(seg->family, seg->src, seg->sport, seg->dst, seg->dport);
    if (seg->tunnels > 0 && seg->tunnel &&
        (seg->outer_family == AF_INET || seg->outer_family == AF_INET6)) {
        c->tunnel = seg->tunnel;
        c->tunnel_family = seg->outer_family;
        memcpy(c->tunnel_src, seg->outer_src, sizeof c->tunnel_src);
        memcpy(c->tunnel_dst, seg->outer_dst, sizeof c->tunnel_dst);
    }
    zeek_init(&c->zeek);
    c->first_close = -1;
    c->first = c->last = *ts;
    c->serial = t->next_serial++;
    c->attempt_ns = c->delete_ns = c->expire_ns = INT64_MAX;
    c->due_ns = ts_ns(ts) + ZEEK_TCP_INACTIVITY_TIMEOUT_NS;
    if (!heap_push(t, c)) {
        c->newer = t->spare;
        t->spare = c;
        return NULL;
    }
    slot_put(t->slots, t->nslots - 1, c);
    t->count++;

    c->older = t->newest;
    if (t->newest)
        t->newest->newer = c;
    else
        t->oldest = c;
    t->newest = c;
    return c;
}

/* The first of c's timers to run out: Zeek's, and the inactivity timeout after its last segment. */
static int64_t first_due(const struct tcp_conn *c)
{
    int64_t due = ts_ns(&c->last) + ZEEK_TCP_INACTIVITY_TIMEOUT_NS;
    if (c->attempt_ns < due)
        due = c->attempt_ns;
    if (c->delete_ns < due)
        due = c->delete_ns;
    if (c->expire_ns < due)
        due = c->expire_ns;
    return due;
}

void table_timers(struct tcp_table *t, struct tcp_conn *c, int64_t now_ns)
{
    if (c->detached)
        return;
    /* TCPSessionAdapter: the originator's SYN sets AttemptTimer, once. */
    if (!c->attempt_armed && zeek_attempt_unanswered(&c->zeek)) {
        c->attempt_armed = true;
        c->attempt_ns = now_ns + ZEEK_TCP_ATTEMPT_DELAY_NS;
    }
    /* ConnectionClosed: a complete close cancels the others and sets ConnDeleteTimer. */
    if (c->zeek.close_done) {
        c->attempt_ns = c->expire_ns = INT64_MAX;
        c->delete_ns = now_ns + ZEEK_TCP_CLOSE_DELAY_NS;
    } else if (c->zeek.close_half) {
        c->expire_ns = now_ns + ZEEK_TCP_SESSION_TIMER_NS;
    }
    /*
     * A key that grows stays where it is (most segments only push the
     * inactivity timeout back): a key in the heap is never later than the
     * connection's first timer, and table_expire() sets it right when it
     * comes to the top. Only one that comes sooner moves now.
     */
    int64_t due = first_due(c);
    if (due < c->due_ns) {
        c->due_ns = t->heap[t->heap_at[c->id]].due_ns = due;
        sift_up(t, t->heap_at[c->id]);
    }
}

/*
 * The connection on top of the heap with its key set right: keys left behind
 * (table_timers) are moved down until the one on top is its first timer, so
 * that it is the connection whose timer runs out first. NULL when empty.
 */
static struct tcp_conn *heap_top(struct tcp_table *t)
{
    while (t->heap_len) {
        struct tcp_conn *c = t->heap[0].c;
        if (c->detached)
            return c;
        int64_t due = first_due(c);
        if (due == c->due_ns)
            return c;
        c->due_ns = t->heap[0].due_ns = due;
        sift_down(t, 0);
    }
    return NULL;
}

/*
 * The timer on top has run out: does it end c? AttemptTimer ends only a
 * connection still unanswered; the delete timer, the inactivity timeout
 * (Connection::InactivityTimer: none since its last segment) and a
 * replacement always do.
 */
static bool timer_ends(struct tcp_conn *c, int64_t now_ns)
{
    if (c->detached || c->delete_ns <= now_ns ||
        ts_ns(&c->last) + ZEEK_TCP_INACTIVITY_TIMEOUT_NS <= now_ns)
        return true;
    if (c->attempt_ns <= now_ns) {
        if (zeek_attempt_unanswered(&c->zeek))
            return true;
        c->attempt_ns = INT64_MAX;
    }
    if (c->expire_ns <= now_ns) {
        /* ExpireTimer: over after tcp_connection_linger of silence, else again later. */
        if (ts_ns(&c->last) + ZEEK_TCP_CONNECTION_LINGER_NS < c->expire_ns &&
            zeek_expire_over(&c->zeek))
            return true;
        c->expire_ns += ZEEK_TCP_SESSION_TIMER_NS;
    }
    return false;
}

void table_expire(struct tcp_table *t, int64_t now_ns, tcp_done_fn done, void *ctx)
{
    /* A key is never later than its timer: past a key later than now, nothing runs out. */
    bool moved = false;
    while (t->heap_len && t->heap[0].due_ns <= now_ns) {
        struct tcp_conn *c = heap_top(t);
        if (c->due_ns > now_ns)
            break;
        moved = true;
        if (timer_ends(c, now_ns)) {
            forget(t, c, done, ctx);
        } else {
            c->due_ns = first_due(c);
            heap_fix(t, c);
        }
    }
    /*
     * The connection now on top is the next one read whole (its timers,
     * then its summary), and most have been idle for seconds, long out of
     * the cache: asked for now, it comes while the segments before its
     * time are tracked.
     */
    if (moved && t->heap_len) {
        const char *c = (const char *)t->heap[0].c;
        for (size_t at = 0; at < sizeof(struct tcp_conn); at += 64)
            __builtin_prefetch(c + at);
    }
}

void tcp_expire(struct tcp_table *t, const struct timespec *now, tcp_done_fn done, void *ctx)
{
    table_expire(t, ts_ns(now), done, ctx);
}

void tcp_on_done(struct tcp_table *t, tcp_done_fn done, void *ctx)
{
    t->done = done;
    t->done_ctx = ctx;
}

unsigned long tcp_early(const struct tcp_table *t) { return t->early; }

void tcp_flush(struct tcp_table *t, tcp_done_fn done, void *ctx)
{
    while (t->oldest)
        forget(t, t->oldest, done, ctx);
}

void table_detach(struct tcp_table *t, struct tcp_conn *c)
{
    table_unhash(t, c);
    c->detached = true;
    c->due_ns = INT64_MIN;
    heap_fix(t, c);
}
