/*
 * tcp_table: where the tracker keeps its connections: a hash of their
 * 4-tuples (both directions in one bucket), the order they began in, and
 * the ended ones in the order of their last segment, so that forgetting
 * them takes no walk through all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcp_int.h"

#define TABLE_FIRST_BUCKETS 64

static int endpoint_cmp(int family, const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
    int r = memcmp(a1, a2, family == AF_INET6 ? 16 : 4);
    if (r)
        return r;
    return (int)p1 - (int)p2;
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

bool side_is(const struct tcp_side *s, int family, const uint8_t *addr, uint16_t port)
{
    return s->ep.family == family && s->ep.port == port &&
           memcmp(s->ep.addr, addr, family == AF_INET6 ? 16 : 4) == 0;
}

static size_t conn_hash(const struct tcp_conn *c)
{
    return tuple_hash(c->side[0].ep.family, c->side[0].ep.addr, c->side[0].ep.port,
                      c->side[1].ep.addr, c->side[1].ep.port);
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

struct tcp_conn *table_find(struct tcp_table *t, const struct tcp_seg *seg)
{
    size_t h =
        tuple_hash(seg->family, seg->src, seg->sport, seg->dst, seg->dport) & (t->nbuckets - 1);
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

struct tcp_conn *table_add(struct tcp_table *t, const struct tcp_seg *seg,
                           const struct timespec *ts)
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

static void forget(struct tcp_table *t, struct tcp_conn *c, tcp_done_fn done, void *ctx)
{
    struct conn_summary s;
    tcp_summarise(c, &s);
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
    if (!t->walk_all && !t->unordered && now_ns < t->idle_check_ns &&
        expire_ended(t, now_ns, done, ctx))
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

void table_detach(struct tcp_table *t, struct tcp_conn *c)
{
    table_unhash(t, c);
    c->detached = true;
    t->walk_all = true;
}

void table_ended(struct tcp_table *t, struct tcp_conn *c) { ended_touch(t, c); }
