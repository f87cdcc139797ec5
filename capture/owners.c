/*
 * owners: endpoint owners and relative sequence numbers.
 */
#include "owners.h"

#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct owner {
    struct endpoint ep;
    pid_t pid;
    char comm[16];
    size_t hnext; /* the next owner in its hash bucket, NONE at the end */
};

#define NONE ((size_t)-1)

/*
 * Packet and call times come from different clocks' readings: a close and
 * its FIN or RST may seem this many seconds apart the wrong way round.
 */
#define CLOCK_SLACK_S 0.005

/*
 * A connected socket of a traced process, while the process holds it: how
 * much it read. A close() (or the process's exit) marks it closed; the RST
 * that close() sends instead of FIN finds it there.
 */
#define USE_DUPS_MAX 4
struct sock_use {
    pid_t pid;
    char comm[16]; /* its holder's name */
    int fd;
    struct endpoint local, remote;
    uint64_t read;
    int open;
    bool linger_zero;       /* SO_LINGER {on, 0} was set on it */
    int dups[USE_DUPS_MAX]; /* other fds of the process on the same socket (dup) */
    int ndups;
    struct timespec closed_from, closed_until; /* the close() call's entry and return */
    enum close_how how;                        /* how it was closed */
    int signo;                                 /* CLOSED_BY_EXIT: the signal that killed it, or 0 */
};

/*
 * A connect() that failed before /proc could show its local port (refused):
 * the SYN it sent, next to the same address, names that port.
 */
struct connecting {
    pid_t pid;
    char comm[16];
    struct endpoint to;
};
#define CONNECTING_MAX 8

/*
 * A listening socket of a traced process, while it listens and once
 * closed: closing it resets the connections still in its queue.
 */
struct listener {
    pid_t pid;
    int fd;
    struct endpoint local;
    bool open;
    struct timespec closed_at;
};
#define LISTENERS_MAX 16 /* the latest kept; an older one is overwritten */

struct owners {
    struct connecting connecting[CONNECTING_MAX];
    size_t nconnecting;
    struct listener listeners[LISTENERS_MAX];
    size_t nlisteners; /* listen() calls so far: the next goes to listeners[n % LISTENERS_MAX] */
    /*
     * Owners in the order they were learned, found through a hash of their
     * endpoint: every packet asks for both of its ends, and every connection
     * a traced client makes adds its own port. Wildcard listeners are also
     * listed apart, for the ports nobody owns exactly.
     */
    struct owner *owners;
    size_t nowners, capowners;
    size_t *owner_buckets; /* a power of two of them, capowners */
    size_t *wild;          /* indexes of the wildcard owners, in the order learned */
    size_t nwild, capwild;
    struct sock_use *uses;
    size_t nuses, capuses;
};

struct owners *owners_new(void) { return calloc(1, sizeof(struct owners)); }

void owners_free(struct owners *o)
{
    if (!o)
        return;
    free(o->owners);
    free(o->owner_buckets);
    free(o->wild);
    free(o->uses);
    free(o);
}

static size_t hash_bucket(uint64_t h, size_t nbuckets)
{
    return (size_t)(h ^ (h >> 32)) & (nbuckets - 1);
}

static size_t owner_hash(const struct owners *o, const struct endpoint *e)
{
    return hash_bucket(endpoint_hash(FNV64_OFFSET, e), o->capowners);
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

/* An IPv4 address as an IPv6 socket shows it (::ffff:a.b.c.d) is the IPv4 address the wire carries. */
static struct endpoint wire_endpoint(const struct endpoint *e)
{
    struct endpoint w = *e;
    if (e->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)e->addr)) {
        memset(&w, 0, sizeof w);
        w.family = AF_INET;
        memcpy(w.addr, e->addr + 12, 4);
        w.port = e->port;
    }
    return w;
}

static void set_owner(struct owners *o, const struct endpoint *where, pid_t pid,
                      const char comm[16])
{
    struct endpoint wire = wire_endpoint(where), *e = &wire;
    if (!e->family || !e->port)
        return;
    struct owner *slot = owner_exact(o, e);
    if (!slot && !(slot = owner_add(o, e)))
        return;
    slot->pid = pid;
    memcpy(slot->comm, comm, sizeof(slot->comm));
}

/* u is the socket with these ends. */
static bool use_is(const struct sock_use *u, const struct endpoint *local,
                   const struct endpoint *remote)
{
    return endpoint_equal(&u->local, local) && endpoint_equal(&u->remote, remote);
}

/* u is held as fd: its first fd, or one of its dups. */
static bool use_has_fd(const struct sock_use *u, int fd)
{
    if (u->fd == fd)
        return true;
    for (int i = 0; i < u->ndups; i++)
        if (u->dups[i] == fd)
            return true;
    return false;
}

/* The socket pid holds as fd, if it is a connection we know; NULL if not. */
static struct sock_use *use_find(struct owners *o, pid_t pid, int fd)
{
    for (size_t i = 0; i < o->nuses; i++)
        if (o->uses[i].open && o->uses[i].pid == pid && use_has_fd(&o->uses[i], fd))
            return &o->uses[i];
    return NULL;
}

/* fd no longer refers to u: true if that was the last fd, and the socket is closed. */
static bool use_drop_fd(struct sock_use *u, int fd)
{
    if (u->fd == fd) {
        if (!u->ndups)
            return true;
        u->fd = u->dups[--u->ndups];
        return false;
    }
    for (int i = 0; i < u->ndups; i++)
        if (u->dups[i] == fd) {
            u->dups[i] = u->dups[--u->ndups];
            break;
        }
    return false;
}

/*
 * pid now holds a connection as fd: a use of the same ends makes room, a
 * closed one, or an open one another process handed over (SCM_RIGHTS).
 */
static void use_start(struct owners *o, const struct event *ev, int fd, const struct endpoint *at,
                      const struct endpoint *peer)
{
    if (!at->family || !peer->family)
        return;
    pid_t pid = ev->pid;
    struct sock_use *u = use_find(o, pid, fd);
    struct endpoint local = wire_endpoint(at), remote = wire_endpoint(peer);
    for (size_t i = 0; i < o->nuses && !u; i++)
        if (use_is(&o->uses[i], &local, &remote))
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
    u->pid = pid;
    memcpy(u->comm, ev->proc, sizeof(u->comm));
    u->fd = fd;
    u->local = local;
    u->remote = remote;
    u->open = 1;
}

static void use_close(struct sock_use *u, const struct timespec *from, double duration,
                      enum close_how how)
{
    u->open = 0;
    u->how = how;
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
    c->to = ev->u.sys.addr;
}

void owners_see_syn(struct owners *o, const struct endpoint *src, const struct endpoint *dst)
{
    pid_t pid;
    char comm[16];
    if (owners_find(o, src, dst, &pid, comm))
        return;
    for (size_t i = 0; i < o->nconnecting; i++) {
        if (!endpoint_equal(&o->connecting[i].to, dst))
            continue;
        set_owner(o, src, o->connecting[i].pid, o->connecting[i].comm);
        memmove(&o->connecting[i], &o->connecting[i + 1],
                (--o->nconnecting - i) * sizeof(o->connecting[0]));
        return;
    }
}

/* pid's fds from first to last are closed: a socket whose last fd that was is closed. */
static void use_drop_closed(struct owners *o, const struct event *ev, int first, int last)
{
    for (size_t i = 0; i < o->nuses; i++) {
        struct sock_use *u = &o->uses[i];
        if (!u->open || u->pid != ev->pid)
            continue;
        for (int fd = u->fd; u->open && fd >= first && fd <= last; fd = u->fd)
            if (use_drop_fd(u, fd))
                use_close(u, &ev->t, ev->u.sys.duration, CLOSED_BY_CALL);
        for (int j = u->ndups; j-- > 0;)
            if (u->dups[j] >= first && u->dups[j] <= last)
                use_drop_fd(u, u->dups[j]);
    }
}

/*
 * pid runs a new program, named comm: what it owns is the new program's,
 * but for the sockets (their local endpoints, except[]) the exec closed.
 */
static void rename_owner(struct owners *o, pid_t pid, const char comm[16],
                         const struct endpoint *except, int nexcept)
{
    for (size_t i = 0; i < o->nowners; i++) {
        struct owner *w = &o->owners[i];
        bool closed = false;
        for (int j = 0; j < nexcept && !closed; j++)
            closed = endpoint_equal(&w->ep, &except[j]);
        if (w->pid == pid && !closed)
            memcpy(w->comm, comm, sizeof(w->comm));
    }
}

/* pid's listening sockets among fds first to last (all of them: -1) close at t. */
static void listeners_close(struct owners *o, pid_t pid, int first, int last,
                            const struct timespec *t)
{
    for (size_t i = 0; i < LISTENERS_MAX && i < o->nlisteners; i++) {
        struct listener *l = &o->listeners[i];
        if (l->open && l->pid == pid && (first < 0 || (l->fd >= first && l->fd <= last))) {
            l->open = false;
            l->closed_at = *t;
        }
    }
}

void owners_learn(struct owners *o, const struct event *ev)
{
    if (ev->type == EV_EXIT) {
        listeners_close(o, ev->pid, -1, -1, &ev->t);
        /* The kernel closes what the process still held. */
        for (size_t i = 0; i < o->nuses; i++)
            if (o->uses[i].open && o->uses[i].pid == ev->pid) {
                use_close(&o->uses[i], &ev->t, 0, CLOSED_BY_EXIT);
                o->uses[i].signo = ev->u.exit.signo;
            }
        return;
    }
    if (ev->type == EV_EXEC) {
        /* The kernel closed its close-on-exec sockets; the others stay with the new program. */
        struct endpoint closed[EXEC_CLOEXEC_MAX];
        int nclosed = 0;
        for (size_t i = 0; i < o->nuses; i++)
            for (int j = 0; j < ev->u.exec.ncloexec; j++)
                if (o->uses[i].open && o->uses[i].pid == ev->pid &&
                    o->uses[i].fd == ev->u.exec.cloexec_fds[j] && nclosed < EXEC_CLOEXEC_MAX) {
                    use_close(&o->uses[i], &ev->t, 0, CLOSED_BY_EXEC);
                    closed[nclosed++] = o->uses[i].local;
                }
        rename_owner(o, ev->pid, ev->proc, closed, nclosed);
        for (size_t i = 0; i < o->nuses; i++)
            if (o->uses[i].open && o->uses[i].pid == ev->pid)
                memcpy(o->uses[i].comm, ev->proc, sizeof(o->uses[i].comm));
        return;
    }
    if (ev->type != EV_SYSCALL)
        return;
    const struct syscall_facts *f = &ev->u.sys;
    struct sock_use *u;
    switch (f->kind) {
    case CALL_LISTEN:
        if (!f->err) {
            set_owner(o, &f->local, ev->pid, ev->proc);
            o->listeners[o->nlisteners++ % LISTENERS_MAX] = (struct listener){
                .pid = ev->pid, .fd = f->fd, .local = wire_endpoint(&f->local), .open = true
            };
        }
        break;
    case CALL_BIND:
        /* A wildcard bind names nothing yet: listen will. */
        if (!f->err && !endpoint_is_any(&f->local))
            set_owner(o, &f->local, ev->pid, ev->proc);
        break;
    case CALL_ACCEPT:
        if (!f->err) {
            set_owner(o, &f->local, ev->pid, ev->proc);
            use_start(o, ev, (int)f->ret, &f->local, &f->remote);
        }
        break;
    case CALL_CONNECT:
        if (!f->err || f->local.family)
            set_owner(o, &f->local, ev->pid, ev->proc);
        else if (f->addr.family)
            connecting_add(o, ev);
        if (!f->err)
            use_start(o, ev, f->fd, &f->local, &f->remote);
        break;
    case CALL_RECV:
        /* Sockets handed over (SCM_RIGHTS): the receiver holds them now, and answers for them. */
        for (int i = 0; i < f->pass.n; i++) {
            const struct pass_fd *r = &f->pass.fds[i];
            set_owner(o, &r->local, ev->pid, ev->proc);
            if (!r->listening)
                use_start(o, ev, r->fd, &r->local, &r->remote);
        }
        if (f->moved > 0 && (u = use_find(o, ev->pid, f->fd)))
            u->read += (uint64_t)f->moved;
        break;
    case CALL_OPTION:
        if (!f->err && f->value_known && f->option_level == SOL_SOCKET && f->option == SO_LINGER &&
            strcmp(f->syscall, "setsockopt") == 0 && (u = use_find(o, ev->pid, f->fd)))
            u->linger_zero = f->value && !f->value2;
        break;
    case CALL_DUP:
        if (f->err || f->ret == f->fd)
            break;
        use_drop_closed(o, ev, (int)f->ret, (int)f->ret); /* dup2 closes what the new fd held */
        if ((u = use_find(o, ev->pid, f->fd)) && u->ndups < USE_DUPS_MAX)
            u->dups[u->ndups++] = (int)f->ret;
        break;
    case CALL_CLOSE:
        if (f->err || (f->fd2 >= 0 && (f->option & CLOSE_RANGE_CLOEXEC)))
            break;
        /*
         * Another process still holds a socket (a fork's other side): the
         * use goes on, theirs. The connection is theirs, not its local
         * endpoint: a forking server's next connection to the same address
         * is still the listener's until a process accepts it.
         */
        for (int i = 0; i < f->nheld; i++) {
            const struct close_held *h = &f->held[i];
            if ((u = use_find(o, ev->pid, h->fd)) && !u->ndups) {
                u->pid = h->holder;
                memcpy(u->comm, h->holder_name, sizeof(u->comm));
                u->fd = h->holder_fd;
            }
        }
        use_drop_closed(o, ev, f->fd, f->fd2 >= 0 ? f->fd2 : f->fd);
        /* A listener another process still holds (a forking server's child) goes on listening. */
        if (!f->nheld)
            listeners_close(o, ev->pid, f->fd, f->fd2 >= 0 ? f->fd2 : f->fd, &ev->t);
        break;
    default: break;
    }
}

size_t owners_open(const struct owners *o, pid_t pid, int *fds, struct endpoint *remotes,
                   size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < o->nuses && n < max; i++)
        if (o->uses[i].open && o->uses[i].pid == pid) {
            fds[n] = o->uses[i].fd;
            remotes[n++] = o->uses[i].remote;
        }
    return n;
}

int owners_find(const struct owners *o, const struct endpoint *e, const struct endpoint *peer,
                pid_t *pid, char comm[16])
{
    /* The connection's holder: an open use first, else the last one to close it. */
    const struct sock_use *held = NULL;
    for (size_t i = 0; peer && i < o->nuses; i++) {
        const struct sock_use *u = &o->uses[i];
        if (use_is(u, e, peer) &&
            (!held || u->open > held->open ||
             (u->open == held->open && ts_cmp(&u->closed_from, &held->closed_from) > 0)))
            held = u;
    }
    if (held) {
        *pid = held->pid;
        memcpy(comm, held->comm, 16);
        return 1;
    }
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

/* The close() (or exit) of the socket with these ends that a RST at t follows; NULL if none. */
static const struct sock_use *use_closed_at(const struct owners *o, const struct endpoint *local,
                                            const struct endpoint *remote, const struct timespec *t)
{
    for (size_t i = 0; i < o->nuses; i++) {
        const struct sock_use *u = &o->uses[i];
        if (u->open || !use_is(u, local, remote))
            continue;
        if (ts_diff(t, &u->closed_from) >= -CLOCK_SLACK_S &&
            ts_diff(&u->closed_until, t) >= -CLOCK_SLACK_S)
            return u;
    }
    return NULL;
}

bool owners_read_at_close(const struct owners *o, const struct endpoint *local,
                          const struct endpoint *remote, const struct timespec *t, uint64_t *read,
                          bool *linger_zero)
{
    const struct sock_use *u = use_closed_at(o, local, remote, t);
    if (!u)
        return false;
    *read = u->read;
    *linger_zero = u->linger_zero;
    return true;
}

bool owners_unaccepted(const struct owners *o, const struct endpoint *local,
                       const struct endpoint *remote, const struct timespec *t)
{
    for (size_t i = 0; i < o->nuses; i++)
        if (use_is(&o->uses[i], local, remote))
            return false; /* a process held it: it was accepted */
    bool closed = false;
    for (size_t i = 0; i < LISTENERS_MAX && i < o->nlisteners; i++) {
        const struct listener *l = &o->listeners[i];
        if (l->local.port != local->port ||
            (!endpoint_is_any(&l->local) && !endpoint_equal(&l->local, local)))
            continue;
        if (l->open)
            return false; /* one still listens there: its queue was not reset */
        closed = closed || ts_diff(t, &l->closed_at) >= -CLOCK_SLACK_S;
    }
    return closed;
}

enum close_how owners_closed_how(const struct owners *o, const struct endpoint *local,
                                 const struct endpoint *remote, const struct timespec *t,
                                 int *signo)
{
    const struct sock_use *last = NULL;
    for (size_t i = 0; i < o->nuses; i++) {
        const struct sock_use *u = &o->uses[i];
        if (u->open || !use_is(u, local, remote) || ts_diff(t, &u->closed_from) < -CLOCK_SLACK_S)
            continue;
        if (!last || ts_cmp(&u->closed_from, &last->closed_from) > 0)
            last = u;
    }
    *signo = last ? last->signo : 0;
    return last ? last->how : CLOSED_UNKNOWN;
}

void owners_forget(struct owners *o, const struct endpoint *a, const struct endpoint *b)
{
    /* The sockets of the connection, closed: nothing more will come of them. */
    for (size_t i = 0; i < o->nuses;) {
        const struct sock_use *u = &o->uses[i];
        bool of = use_is(u, a, b) || use_is(u, b, a);
        if (of && !u->open)
            o->uses[i] = o->uses[--o->nuses];
        else
            i++;
    }
}
