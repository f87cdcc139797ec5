/*
 * event: allocation, comparison and the small names every printer needs.
 */
#include "event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct event *event_new(enum event_type type)
{
    struct event *ev = calloc(1, sizeof(*ev));
    if (ev) {
        ev->type = type;
        ev->repeat = 1;
    }
    return ev;
}

struct event *event_copy(const struct event *ev)
{
    struct event *copy = malloc(sizeof(*copy));
    if (!copy)
        return NULL;
    *copy = *ev;
    if (ev->type == EV_PACKET && ev->u.pkt.frame) {
        copy->u.pkt.frame = malloc(ev->u.pkt.caplen ? ev->u.pkt.caplen : 1);
        if (!copy->u.pkt.frame) {
            free(copy);
            return NULL;
        }
        memcpy(copy->u.pkt.frame, ev->u.pkt.frame, ev->u.pkt.caplen);
        if (ev->u.pkt.seg.payload)
            copy->u.pkt.seg.payload = copy->u.pkt.frame + (ev->u.pkt.seg.payload - ev->u.pkt.frame);
    }
    if (ev->type == EV_REPEAT || ev->type == EV_REPEAT_START) {
        for (int i = 0; i < ev->u.rep.period; i++)
            copy->u.rep.pattern[i] = NULL;
        for (int i = 0; i < ev->u.rep.period; i++) {
            copy->u.rep.pattern[i] = event_copy(ev->u.rep.pattern[i]);
            if (!copy->u.rep.pattern[i]) {
                event_free(copy);
                return NULL;
            }
        }
    }
    return copy;
}

void event_free(struct event *ev)
{
    if (!ev)
        return;
    if (ev->type == EV_PACKET)
        free(ev->u.pkt.frame);
    if (ev->type == EV_REPEAT || ev->type == EV_REPEAT_START)
        for (int i = 0; i < ev->u.rep.period; i++)
            event_free(ev->u.rep.pattern[i]);
    free(ev);
}

/* The same sockets handed over (SCM_RIGHTS), by fd and connection. */
static bool same_passed(const struct syscall_facts *x, const struct syscall_facts *y)
{
    for (int i = 0; i < x->pass.n && i < y->pass.n; i++)
        if (x->pass.fds[i].fd != y->pass.fds[i].fd ||
            !endpoint_equal(&x->pass.fds[i].remote, &y->pass.fds[i].remote))
            return false;
    return true;
}

bool call_at_return(const struct syscall_facts *f)
{
    return f->kind == CALL_ACCEPT || f->kind == CALL_RECV || f->kind == CALL_WAIT;
}

int event_same_call(const struct event *a, const struct event *b)
{
    if (a->type != EV_SYSCALL || b->type != EV_SYSCALL || a->tid != b->tid)
        return 0;
    const struct syscall_facts *x = &a->u.sys, *y = &b->u.sys;
    return x->kind == y->kind && x->syscall == y->syscall && x->fd == y->fd && x->len == y->len &&
           x->ret == y->ret && x->err == y->err && x->datalen == y->datalen &&
           memcmp(x->data, y->data, x->datalen) == 0 && endpoint_equal(&x->addr, &y->addr) &&
           x->msg_flags == y->msg_flags && strcmp(x->args, y->args) == 0 &&
           x->pass.n == y->pass.n && x->pass.more == y->pass.more && same_passed(x, y) &&
           /* What the wait asked and got; whether it slept is measured, as its duration is. */
           memcmp(&x->wait, &y->wait, offsetof(struct wait_facts, switches)) == 0;
}

int event_same(const struct event *a, const struct event *b)
{
    if (a->type != b->type || a->tid != b->tid)
        return 0;
    switch (a->type) {
    case EV_SYSCALL:
        /* A call split around something else is no repeat of anything. */
        return a->u.sys.part == PART_WHOLE && b->u.sys.part == PART_WHOLE && event_same_call(a, b);
    case EV_SIGNAL:
        return a->u.sig.signo == b->u.sig.signo && a->u.sig.disposition == b->u.sig.disposition &&
               a->u.sig.sender == b->u.sig.sender;
    case EV_OUTPUT: {
        const struct output_facts *x = &a->u.output, *y = &b->u.output;
        return x->fd == y->fd && x->len == y->len && x->textlen == y->textlen &&
               memcmp(x->text, y->text, x->textlen) == 0;
    }
    default: return 0; /* packets, execs, exits and the rest never collapse */
    }
}

double ts_diff(const struct timespec *later, const struct timespec *earlier)
{
    return (double)(later->tv_sec - earlier->tv_sec) + (later->tv_nsec - earlier->tv_nsec) / 1e9;
}

int ts_cmp(const struct timespec *a, const struct timespec *b)
{
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    if (a->tv_nsec != b->tv_nsec)
        return a->tv_nsec < b->tv_nsec ? -1 : 1;
    return 0;
}

struct timespec ts_before(const struct timespec *t)
{
    struct timespec b = *t;
    if (b.tv_nsec > 0) {
        b.tv_nsec--;
    } else {
        b.tv_sec--;
        b.tv_nsec = 999999999L;
    }
    return b;
}

char *endpoint_str(const struct endpoint *e, char *buf, size_t len)
{
    if (e->family != AF_INET && e->family != AF_INET6) {
        snprintf(buf, len, "?");
        return buf;
    }
    return decode_endpoint_str(e->family, e->addr, e->port, buf, len);
}

int endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    size_t n = a->family == AF_INET ? 4 : a->family == AF_INET6 ? 16 : 0;
    return memcmp(a->addr, b->addr, n) == 0;
}

#define FNV64_PRIME 1099511628211ULL

size_t str_append(char *buf, size_t size, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (n < size) {
        size_t take = len < size - 1 - n ? len : size - 1 - n;
        memcpy(buf + n, s, take);
        buf[n + take] = '\0';
    }
    return n + len;
}

uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return h;
}

uint64_t endpoint_hash(uint64_t h, const struct endpoint *e)
{
    uint8_t key[19];
    size_t n = e->family == AF_INET ? 4 : e->family == AF_INET6 ? 16 : 0;
    memcpy(key, e->addr, n);
    key[n++] = (uint8_t)e->family;
    key[n++] = (uint8_t)(e->port >> 8);
    key[n++] = (uint8_t)e->port;
    return fnv1a(h, key, n);
}

int endpoint_is_any(const struct endpoint *e)
{
    static const uint8_t zero[16];
    if (e->family == AF_INET)
        return memcmp(e->addr, zero, 4) == 0;
    if (e->family == AF_INET6)
        return memcmp(e->addr, zero, 16) == 0;
    return 0;
}

const char *errno_name(int err)
{
    const char *name = tok_name(restart_codes, err);
    if (name)
        return name;
    name = strerrorname_np(err);
    return name ? name : "E?";
}

const char *signal_name(int signo)
{
    /* One buffer per signal number, so that two names can go into one printf. */
    static char names[65][24];
    if (signo < 1 || signo > 64)
        return "signal ?";
    char *buf = names[signo];
    if (buf[0])
        return buf;
    const char *abbrev = sigabbrev_np(signo);
    if (abbrev)
        snprintf(buf, sizeof(names[0]), "SIG%s", abbrev);
    else if (signo >= SIGRTMIN && signo <= SIGRTMAX)
        snprintf(buf, sizeof(names[0]), "SIGRTMIN+%d", signo - SIGRTMIN);
    else
        snprintf(buf, sizeof(names[0]), "signal %d", signo);
    return buf;
}

bool wait_waited(const struct syscall_facts *f)
{
    if (f->wait.slept != SLEPT_UNKNOWN)
        return f->wait.slept == SLEPT_YES;
    return f->duration >= WAIT_BLOCKED_S;
}
