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
};

/* One direction of a connection: where its sequence numbers start. */
struct flow {
    struct endpoint src, dst;
    uint32_t base;
};

struct owners {
    struct conn_table *conns;
    struct owner *owners;
    size_t nowners, capowners;
    struct flow *flows;
    size_t nflows, capflows;
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
    free(o->flows);
    free(o);
}

static void set_owner(struct owners *o, const struct endpoint *e, const struct event *ev)
{
    if (!e->family || !e->port)
        return;
    struct owner *slot = NULL;
    for (size_t i = 0; i < o->nowners && !slot; i++)
        if (endpoint_equal(&o->owners[i].ep, e))
            slot = &o->owners[i];
    if (!slot) {
        if (o->nowners == o->capowners) {
            size_t cap = o->capowners ? o->capowners * 2 : 32;
            struct owner *owners = realloc(o->owners, cap * sizeof(*owners));
            if (!owners)
                return;
            o->owners = owners;
            o->capowners = cap;
        }
        slot = &o->owners[o->nowners++];
        slot->ep = *e;
    }
    slot->pid = ev->pid;
    memcpy(slot->comm, ev->proc, sizeof(slot->comm));
    if (o->conns)
        conn_set_names(o->conns, e->family, e->addr, e->port, ev->proc);
}

void owners_learn(struct owners *o, const struct event *ev)
{
    if (ev->type != EV_SYSCALL)
        return;
    const struct syscall_facts *f = &ev->u.sys;
    switch (f->kind) {
    case CALL_LISTEN:
        if (!f->err)
            set_owner(o, &f->local, ev);
        break;
    case CALL_BIND:
        /* A wildcard bind names nothing yet: listen will. */
        if (!f->err && !endpoint_is_any(&f->local))
            set_owner(o, &f->local, ev);
        break;
    case CALL_ACCEPT:
        if (!f->err)
            set_owner(o, &f->local, ev);
        break;
    case CALL_CONNECT:
        if (!f->err || f->local.family)
            set_owner(o, &f->local, ev);
        break;
    default:
        break;
    }
}

int owners_find(const struct owners *o, const struct endpoint *e, pid_t *pid, char comm[16])
{
    const struct owner *wild = NULL;
    for (size_t i = 0; i < o->nowners; i++) {
        const struct owner *w = &o->owners[i];
        if (w->ep.port != e->port)
            continue;
        if (endpoint_equal(&w->ep, e)) {
            *pid = w->pid;
            memcpy(comm, w->comm, 16);
            return 1;
        }
        /* A socket bound to :: takes IPv4 connections too. */
        if (endpoint_is_any(&w->ep) && (w->ep.family == e->family || w->ep.family == AF_INET6))
            wild = w;
    }
    if (!wild)
        return 0;
    *pid = wild->pid;
    memcpy(comm, wild->comm, 16);
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

static struct flow *flow_find(struct owners *o, const struct endpoint *src, const struct endpoint *dst)
{
    for (size_t i = 0; i < o->nflows; i++)
        if (endpoint_equal(&o->flows[i].src, src) && endpoint_equal(&o->flows[i].dst, dst))
            return &o->flows[i];
    return NULL;
}

void owners_sequence(struct owners *o, struct event *ev)
{
    struct packet_facts *p = &ev->u.pkt;
    struct endpoint src = seg_endpoint(&p->seg, 1), dst = seg_endpoint(&p->seg, 0);
    struct flow *f = flow_find(o, &src, &dst);
    int syn = p->seg.flags & TCPF_SYN;
    if (!f) {
        if (o->nflows == o->capflows) {
            size_t cap = o->capflows ? o->capflows * 2 : 32;
            struct flow *flows = realloc(o->flows, cap * sizeof(*flows));
            if (!flows) {
                p->rel_seq = p->seg.seq;
                p->rel_ack = p->seg.ack;
                return;
            }
            o->flows = flows;
            o->capflows = cap;
        }
        f = &o->flows[o->nflows++];
        f->src = src;
        f->dst = dst;
        /* Without its SYN, a direction's first segment counts as 1, as in Wireshark. */
        f->base = syn ? p->seg.seq : p->seg.seq - 1;
    } else if (syn) {
        f->base = p->seg.seq; /* a new connection on the same ports */
    }
    p->rel_seq = p->seg.seq - f->base;
    struct flow *back = flow_find(o, &dst, &src);
    if (!back && (p->seg.flags & TCPF_ACK) && o->nflows < o->capflows) {
        /* The other direction, not seen yet: this ack is where its data goes on, as 1. */
        back = &o->flows[o->nflows++];
        back->src = dst;
        back->dst = src;
        back->base = p->seg.ack - 1;
    }
    p->rel_ack = back && (p->seg.flags & TCPF_ACK) ? p->seg.ack - back->base : 0;
}

void owners_forget(struct owners *o, const struct conn_summary *s)
{
    for (size_t i = 0; i < o->nflows;) {
        char a[64], b[64];
        endpoint_str(&o->flows[i].src, a, sizeof(a));
        endpoint_str(&o->flows[i].dst, b, sizeof(b));
        if ((!strcmp(a, s->orig) && !strcmp(b, s->resp)) || (!strcmp(a, s->resp) && !strcmp(b, s->orig)))
            o->flows[i] = o->flows[--o->nflows];
        else
            i++;
    }
}
