/*
 * owners: endpoint owners and relative sequence numbers.
 */
#include "owners.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct owner {
    struct endpoint ep;
    pid_t pid;
    char comm[16];
    size_t hnext;        /* the next owner in its hash bucket, NONE at the end */
};

#define NONE ((size_t)-1)

/* One direction of a connection: where its sequence numbers start, and what it carried. */
struct flow {
    struct endpoint src, dst;
    uint32_t base;
    uint64_t data_end;   /* bytes of data sent this way (the highest relative end seen) */
    unsigned long last_data; /* the number of the last packet that carried data this way, 0: none */
    int fin;             /* src sent FIN */
    int reset;           /* src sent RST */
    int abortive;        /* src's first RST came before any FIN of its own */
    struct timespec abortive_t; /* when */
    int rst_first;       /* and before any FIN of the other side too */
    long long rst_unread;/* bytes src's process left unread when it closed just before; -1 unknown */
    size_t hnext;        /* the next flow in its hash bucket, NONE at the end */
};

/*
 * A connected socket of a traced process, while the process holds it: how
 * much it read. A close() (or the process's exit) marks it closed; the RST
 * that close() sends instead of FIN finds it there.
 */
struct sock_use {
    pid_t pid;
    int fd;
    struct endpoint local, remote;
    uint64_t read;
    int open;
    struct timespec closed_from, closed_until; /* the close() call's entry and return */
};

/*
 * A connect() that failed before /proc could show its local port (refused):
 * the SYN it sent, next to the same address, names that port.
 */
struct connecting {
    pid_t pid;
    char comm[16];
    char label[40];
    struct endpoint to;
};
#define CONNECTING_MAX 8

struct owners {
    struct conn_table *conns;
    struct connecting connecting[CONNECTING_MAX];
    size_t nconnecting;
    /*
     * Owners in the order they were learned, found through a hash of their
     * endpoint: every packet asks for both of its ends, and every connection
     * a traced client makes adds its own port. Wildcard listeners are also
     * listed apart, for the ports nobody owns exactly.
     */
    struct owner *owners;
    size_t nowners, capowners;
    size_t *owner_buckets;   /* a power of two of them, capowners */
    size_t *wild;            /* indexes of the wildcard owners, in the order learned */
    size_t nwild, capwild;
    /*
     * Flows in an array, found through a hash of their ends: a capture
     * keeps thousands open at once (a connection lingers after its end),
     * and every packet looks up both directions of its own.
     */
    struct flow *flows;
    size_t nflows, capflows;
    size_t *buckets;         /* index of each bucket's first flow, NONE if empty */
    size_t nbuckets;         /* a power of two, at least capflows */
    struct sock_use *uses;
    size_t nuses, capuses;
    unsigned long packets;   /* packets seen: numbers them */
};

struct owners *owners_new(struct conn_table *conns)
{
    struct owners *o = calloc(1, sizeof(*o));
    if (o)
        o->conns = conns;
    return o;
}

void owners_free(struct owners *o)
{
    if (!o)
        return;
    free(o->owners);
    free(o->owner_buckets);
    free(o->wild);
    free(o->flows);
    free(o->buckets);
    free(o->uses);
    free(o);
}

/* FNV-1a over what endpoint_equal compares. */
static uint64_t hash_endpoint(uint64_t h, const struct endpoint *e)
{
    uint8_t key[19];
    size_t n = e->family == AF_INET ? 4 : e->family == AF_INET6 ? 16 : 0;
    memcpy(key, e->addr, n);
    key[n++] = (uint8_t)e->family;
    key[n++] = (uint8_t)(e->port >> 8);
    key[n++] = (uint8_t)e->port;
    for (size_t k = 0; k < n; k++)
        h = (h ^ key[k]) * 1099511628211ULL;
    return h;
}

static size_t hash_bucket(uint64_t h, size_t nbuckets) { return (size_t)(h ^ (h >> 32)) & (nbuckets - 1); }

#define FNV_OFFSET 1469598103934665603ULL

static size_t owner_hash(const struct owners *o, const struct endpoint *e)
{
    return hash_bucket(hash_endpoint(FNV_OFFSET, e), o->capowners);
}

static struct owner *owner_exact(const struct owners *o, const struct endpoint *e)
{
    if (!o->capowners)
        return NULL;
    for (size_t i = o->owner_buckets[owner_hash(o, e)]; i != NONE; i = o->owners[i].hnext)
        if (endpoint_equal(&o->owners[i].ep, e))
            return &o->owners[i];
    return NULL;
}

/* A new owner of e at the end of the array, or NULL when out of memory. */
static struct owner *owner_add(struct owners *o, const struct endpoint *e)
{
    if (endpoint_is_any(e) && o->nwild == o->capwild) {
        size_t cap = o->capwild ? o->capwild * 2 : 8;
        size_t *wild = realloc(o->wild, cap * sizeof(*wild));
        if (!wild)
            return NULL;
        o->wild = wild;
        o->capwild = cap;
    }
    if (o->nowners == o->capowners) {
        size_t cap = o->capowners ? o->capowners * 2 : 32;
        size_t *buckets = malloc(cap * sizeof(*buckets));
        if (!buckets)
            return NULL;
        struct owner *owners = realloc(o->owners, cap * sizeof(*owners));
        if (!owners) {
            free(buckets);
            return NULL;
        }
        free(o->owner_buckets);
        o->owners = owners;
        o->owner_buckets = buckets;
        o->capowners = cap;
        for (size_t i = 0; i < cap; i++)
            buckets[i] = NONE;
        for (size_t i = 0; i < o->nowners; i++) {
            size_t *head = &buckets[owner_hash(o, &owners[i].ep)];
            owners[i].hnext = *head;
            *head = i;
        }
    }
    size_t i = o->nowners++;
    struct owner *w = &o->owners[i];
    w->ep = *e;
    size_t *head = &o->owner_buckets[owner_hash(o, e)];
    w->hnext = *head;
    *head = i;
    if (endpoint_is_any(e))
        o->wild[o->nwild++] = i;
    return w;
}

/* name: how the notes call the owner (the timeline's label, "client 2"), else comm. */
static void set_owner(struct owners *o, const struct endpoint *e, pid_t pid, const char comm[16], const char *name)
{
    if (!e->family || !e->port)
        return;
    struct owner *slot = owner_exact(o, e);
    if (!slot && !(slot = owner_add(o, e)))
        return;
    slot->pid = pid;
    memcpy(slot->comm, comm, sizeof(slot->comm));
    if (o->conns)
        conn_set_names(o->conns, e->family, e->addr, e->port, name && *name ? name : comm);
}

/* The socket pid holds as fd, if it is a connection we know; NULL if not. */
static struct sock_use *use_find(struct owners *o, pid_t pid, int fd)
{
    for (size_t i = 0; i < o->nuses; i++)
        if (o->uses[i].open && o->uses[i].pid == pid && o->uses[i].fd == fd)
            return &o->uses[i];
    return NULL;
}

/* A process now holds a connection as fd: a closed use of the same ends makes room. */
static void use_start(struct owners *o, const struct event *ev, int fd)
{
    const struct syscall_facts *f = &ev->u.sys;
    if (!f->local.family || !f->remote.family)
        return;
    struct sock_use *u = use_find(o, ev->pid, fd);
    for (size_t i = 0; i < o->nuses && !u; i++)
        if (endpoint_equal(&o->uses[i].local, &f->local) && endpoint_equal(&o->uses[i].remote, &f->remote))
            u = &o->uses[i];
    if (!u) {
        if (o->nuses == o->capuses) {
            size_t cap = o->capuses ? o->capuses * 2 : 32;
            struct sock_use *uses = realloc(o->uses, cap * sizeof(*uses));
            if (!uses)
                return;
            o->uses = uses;
            o->capuses = cap;
        }
        u = &o->uses[o->nuses++];
    }
    memset(u, 0, sizeof(*u));
    u->pid = ev->pid;
    u->fd = fd;
    u->local = f->local;
    u->remote = f->remote;
    u->open = 1;
}

static void use_close(struct sock_use *u, const struct timespec *from, double duration)
{
    u->open = 0;
    u->closed_from = *from;
    u->closed_until = *from;
    long long ns = (long long)(duration * 1e9);
    u->closed_until.tv_sec += ns / 1000000000LL;
    u->closed_until.tv_nsec += ns % 1000000000LL;
    if (u->closed_until.tv_nsec >= 1000000000L) {
        u->closed_until.tv_sec++;
        u->closed_until.tv_nsec -= 1000000000L;
    }
}

static void connecting_add(struct owners *o, const struct event *ev)
{
    if (o->nconnecting == CONNECTING_MAX) /* the oldest goes */
        memmove(&o->connecting[0], &o->connecting[1], --o->nconnecting * sizeof(o->connecting[0]));
    struct connecting *c = &o->connecting[o->nconnecting++];
    c->pid = ev->pid;
    memcpy(c->comm, ev->proc, sizeof(c->comm));
    memcpy(c->label, ev->label, sizeof(c->label));
    c->to = ev->u.sys.addr;
}

/* A SYN from a port nobody owns, to where a failed connect() went: that connect's port. */
static void connecting_match(struct owners *o, const struct endpoint *src, const struct endpoint *dst)
{
    pid_t pid;
    char comm[16];
    if (owners_find(o, src, &pid, comm))
        return;
    for (size_t i = 0; i < o->nconnecting; i++) {
        if (!endpoint_equal(&o->connecting[i].to, dst))
            continue;
        set_owner(o, src, o->connecting[i].pid, o->connecting[i].comm, o->connecting[i].label);
        memmove(&o->connecting[i], &o->connecting[i + 1], (--o->nconnecting - i) * sizeof(o->connecting[0]));
        return;
    }
}

void owners_learn(struct owners *o, const struct event *ev)
{
    if (ev->type == EV_EXIT) {
        /* The kernel closes what the process still held. */
        for (size_t i = 0; i < o->nuses; i++)
            if (o->uses[i].open && o->uses[i].pid == ev->pid)
                use_close(&o->uses[i], &ev->t, 0);
        return;
    }
    if (ev->type != EV_SYSCALL)
        return;
    const struct syscall_facts *f = &ev->u.sys;
    struct sock_use *u;
    switch (f->kind) {
    case CALL_LISTEN:
        if (!f->err)
            set_owner(o, &f->local, ev->pid, ev->proc, ev->label);
        break;
    case CALL_BIND:
        /* A wildcard bind names nothing yet: listen will. */
        if (!f->err && !endpoint_is_any(&f->local))
            set_owner(o, &f->local, ev->pid, ev->proc, ev->label);
        break;
    case CALL_ACCEPT:
        if (!f->err) {
            set_owner(o, &f->local, ev->pid, ev->proc, ev->label);
            use_start(o, ev, (int)f->ret);
        }
        break;
    case CALL_CONNECT:
        if (!f->err || f->local.family)
            set_owner(o, &f->local, ev->pid, ev->proc, ev->label);
        else if (f->addr.family)
            connecting_add(o, ev);
        if (!f->err)
            use_start(o, ev, f->fd);
        break;
    case CALL_RECV:
        if (f->ret > 0 && (u = use_find(o, ev->pid, f->fd)))
            u->read += (uint64_t)f->ret;
        break;
    case CALL_CLOSE:
        if (!f->err && (u = use_find(o, ev->pid, f->fd)))
            use_close(u, &ev->t, f->duration);
        break;
    default:
        break;
    }
}

int owners_find(const struct owners *o, const struct endpoint *e, pid_t *pid, char comm[16])
{
    const struct owner *w = owner_exact(o, e);
    /* Else a socket bound to the wildcard on that port, the latest learned; one bound to :: takes IPv4 too. */
    for (size_t i = o->nwild; i-- > 0 && !w;) {
        const struct owner *any = &o->owners[o->wild[i]];
        if (any->ep.port == e->port && (any->ep.family == e->family || any->ep.family == AF_INET6))
            w = any;
    }
    if (!w)
        return 0;
    *pid = w->pid;
    memcpy(comm, w->comm, 16);
    return 1;
}

static struct endpoint seg_endpoint(const struct tcp_seg *seg, int source)
{
    struct endpoint e;
    memset(&e, 0, sizeof(e));
    e.family = seg->family;
    memcpy(e.addr, source ? seg->src : seg->dst, seg->family == AF_INET ? 4 : 16);
    e.port = source ? seg->sport : seg->dport;
    return e;
}

static size_t flow_hash(const struct owners *o, const struct endpoint *src, const struct endpoint *dst)
{
    return hash_bucket(hash_endpoint(hash_endpoint(FNV_OFFSET, src), dst), o->nbuckets);
}

static struct flow *flow_find(const struct owners *o, const struct endpoint *src, const struct endpoint *dst)
{
    if (!o->nbuckets)
        return NULL;
    for (size_t i = o->buckets[flow_hash(o, src, dst)]; i != NONE; i = o->flows[i].hnext)
        if (endpoint_equal(&o->flows[i].src, src) && endpoint_equal(&o->flows[i].dst, dst))
            return &o->flows[i];
    return NULL;
}

static void flow_link(struct owners *o, size_t i)
{
    size_t *head = &o->buckets[flow_hash(o, &o->flows[i].src, &o->flows[i].dst)];
    o->flows[i].hnext = *head;
    *head = i;
}

/* Where flow i's bucket (or the flow before it) holds its index. */
static size_t *flow_link_to(struct owners *o, size_t i)
{
    size_t *p = &o->buckets[flow_hash(o, &o->flows[i].src, &o->flows[i].dst)];
    while (*p != i)
        p = &o->flows[*p].hnext;
    return p;
}

/* Room for one more flow: the array and the buckets grow together. 0 if out of memory. */
static int flow_room(struct owners *o)
{
    if (o->nflows < o->capflows)
        return 1;
    size_t cap = o->capflows ? o->capflows * 2 : 32;
    size_t *buckets = malloc(cap * sizeof(*buckets));
    if (!buckets)
        return 0;
    struct flow *flows = realloc(o->flows, cap * sizeof(*flows));
    if (!flows) {
        free(buckets);
        return 0;
    }
    o->flows = flows;
    o->capflows = cap;
    free(o->buckets);
    o->buckets = buckets;
    o->nbuckets = cap;
    for (size_t i = 0; i < cap; i++)
        buckets[i] = NONE;
    for (size_t i = 0; i < o->nflows; i++)
        flow_link(o, i);
    return 1;
}

/* A new flow at the end of the array, zeroed but for its ends, and hashed; there must be room. */
static struct flow *flow_add(struct owners *o, const struct endpoint *src, const struct endpoint *dst)
{
    size_t i = o->nflows++;
    struct flow *f = &o->flows[i];
    memset(f, 0, sizeof(*f));
    f->src = *src;
    f->dst = *dst;
    flow_link(o, i);
    return f;
}

/* Remove flow i; the last flow takes its place in the array. */
static void flow_remove(struct owners *o, size_t i)
{
    size_t last = o->nflows - 1;
    *flow_link_to(o, i) = o->flows[i].hnext;
    if (i != last) {
        *flow_link_to(o, last) = i;
        o->flows[i] = o->flows[last];
    }
    o->nflows--;
}

/* The close() (or exit) of the socket with these ends that a RST at t follows; NULL if none. */
static const struct sock_use *use_closed_at(const struct owners *o, const struct endpoint *local,
                                            const struct endpoint *remote, const struct timespec *t)
{
    /* Packet and call times come from different clocks' readings: allow a little. */
    const double slack = 0.005;
    for (size_t i = 0; i < o->nuses; i++) {
        const struct sock_use *u = &o->uses[i];
        if (u->open || !endpoint_equal(&u->local, local) || !endpoint_equal(&u->remote, remote))
            continue;
        if (ts_diff(t, &u->closed_from) >= -slack && ts_diff(&u->closed_until, t) >= -slack)
            return u;
    }
    return NULL;
}

/* What one packet says about its direction and the other's, and why a first RST came. */
static void flow_account(struct owners *o, struct flow *f, struct flow *back, int f_is_new, const struct event *ev)
{
    const struct packet_facts *p = &ev->u.pkt;
    uint8_t flags = p->seg.flags;
    o->packets++;
    if (p->seg.payload_len) {
        uint64_t end = (uint64_t)(uint32_t)(p->rel_seq - 1 + p->seg.payload_len);
        if (end > f->data_end)
            f->data_end = end;
        f->last_data = o->packets;
    }
    if ((flags & TCPF_RST) && !f->reset && !f->fin && !f_is_new && back) {
        /* Its first RST, no FIN before it, on a connection both sides had spoken on. */
        f->abortive = 1;
        f->abortive_t = ev->t;
        f->rst_first = !back->fin;
        f->rst_unread = -1;
        const struct sock_use *u = use_closed_at(o, &f->src, &f->dst, &ev->t);
        if (u && back->data_end >= u->read)
            f->rst_unread = (long long)(back->data_end - u->read);
    }
    if (flags & TCPF_RST)
        f->reset = 1;
    if (flags & TCPF_FIN)
        f->fin = 1;
}

void owners_sequence(struct owners *o, struct event *ev)
{
    struct packet_facts *p = &ev->u.pkt;
    struct endpoint src = seg_endpoint(&p->seg, 1), dst = seg_endpoint(&p->seg, 0);
    struct flow *f = flow_find(o, &src, &dst);
    int syn = p->seg.flags & TCPF_SYN, is_new = !f;
    if (syn && !(p->seg.flags & TCPF_ACK))
        connecting_match(o, &src, &dst);
    if (!f) {
        if (!flow_room(o)) {
            p->rel_seq = p->seg.seq;
            p->rel_ack = p->seg.ack;
            return;
        }
        f = flow_add(o, &src, &dst);
        /* Without its SYN, a direction's first segment counts as 1, as in Wireshark. */
        f->base = syn ? p->seg.seq : p->seg.seq - 1;
    } else if (syn) {
        /* A new connection on the same ports: what the old one carried is forgotten. */
        size_t hnext = f->hnext;
        memset(f, 0, sizeof(*f));
        f->src = src;
        f->dst = dst;
        f->hnext = hnext;
        f->base = p->seg.seq;
    }
    p->rel_seq = p->seg.seq - f->base;
    size_t at = (size_t)(f - o->flows);
    struct flow *back = flow_find(o, &dst, &src);
    if (!back && (p->seg.flags & TCPF_ACK) && o->nflows < o->capflows) {
        /* The other direction, not seen yet: this ack is where its data goes on, as 1. */
        back = flow_add(o, &dst, &src);
        back->base = p->seg.ack - 1;
    }
    f = &o->flows[at];
    p->rel_ack = back && (p->seg.flags & TCPF_ACK) ? p->seg.ack - back->base : 0;
    flow_account(o, f, back, is_new, ev);
}

int owners_rst_cause(const struct owners *o, const struct event *ev, struct rst_cause *c)
{
    const struct packet_facts *p = &ev->u.pkt;
    if (!(p->seg.flags & TCPF_RST))
        return 0;
    struct endpoint src = seg_endpoint(&p->seg, 1), dst = seg_endpoint(&p->seg, 0);
    const struct flow *f = flow_find(o, &src, &dst);
    const struct flow *back = flow_find(o, &dst, &src);
    if (!f || !back || !f->abortive || ts_cmp(&f->abortive_t, &ev->t) != 0)
        return 0;
    c->first = f->rst_first;
    c->unread = f->rst_unread;
    c->peer_answered = f->last_data > back->last_data;
    return 1;
}

/* The ends of the connection s summarises, as endpoints. */
static void summary_ends(const struct conn_summary *s, struct endpoint *orig, struct endpoint *resp)
{
    memset(orig, 0, sizeof(*orig));
    memset(resp, 0, sizeof(*resp));
    orig->family = resp->family = s->family;
    memcpy(orig->addr, s->orig_addr, sizeof(orig->addr));
    memcpy(resp->addr, s->resp_addr, sizeof(resp->addr));
    orig->port = s->orig_port;
    resp->port = s->resp_port;
}

int owners_rst_first(const struct owners *o, const struct conn_summary *s, int *by_orig, struct rst_cause *c)
{
    struct endpoint orig, resp;
    summary_ends(s, &orig, &resp);
    const struct flow *from_orig = flow_find(o, &orig, &resp), *to_orig = flow_find(o, &resp, &orig);
    /* Where both sides reset before any FIN, the one earlier in the array speaks. */
    const struct flow *fl[2] = {from_orig, to_orig};
    if (from_orig && to_orig && to_orig < from_orig) {
        fl[0] = to_orig;
        fl[1] = from_orig;
    }
    for (int i = 0; i < 2; i++) {
        const struct flow *f = fl[i];
        if (!f || !f->abortive || !f->rst_first)
            continue;
        const struct flow *back = f == from_orig ? to_orig : from_orig;
        *by_orig = f == from_orig;
        c->first = 1;
        c->unread = f->rst_unread;
        c->peer_answered = !back || f->last_data > back->last_data;
        return 1;
    }
    return 0;
}

void owners_forget(struct owners *o, const struct conn_summary *s)
{
    struct endpoint orig, resp;
    summary_ends(s, &orig, &resp);
    /* The lower index first, as a walk through the array removes them: the last flow fills the hole. */
    struct flow *f = flow_find(o, &orig, &resp), *back = flow_find(o, &resp, &orig);
    size_t at[2] = {f ? (size_t)(f - o->flows) : NONE, back && back != f ? (size_t)(back - o->flows) : NONE};
    if (at[1] < at[0]) {
        at[1] = at[0];
        at[0] = (size_t)(back - o->flows);
    }
    if (at[0] != NONE) {
        if (at[1] == o->nflows - 1)
            at[1] = at[0];
        flow_remove(o, at[0]);
    }
    if (at[1] != NONE)
        flow_remove(o, at[1]);
    /* The sockets of the connection, closed: nothing more will come of them. */
    for (size_t i = 0; i < o->nuses;) {
        const struct sock_use *u = &o->uses[i];
        int of = (endpoint_equal(&u->local, &orig) && endpoint_equal(&u->remote, &resp)) ||
                 (endpoint_equal(&u->local, &resp) && endpoint_equal(&u->remote, &orig));
        if (of && !u->open)
            o->uses[i] = o->uses[--o->nuses];
        else
            i++;
    }
}
