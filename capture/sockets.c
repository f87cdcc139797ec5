/*
 * sockets: each process's sockets' past (sockets.h), in two short lists.
 */
#include "sockets.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

struct sock_entry {
    pid_t pid;
    int fd;
    struct sock_past past;
    struct sock_entry *next;
};

struct proc_entry {
    pid_t pid;
    bool epipe; /* its last followed call failed with EPIPE */
    struct proc_entry *next;
};

struct sockets {
    struct sock_entry *socks;
    struct proc_entry *procs;
    unsigned long lost;
};

struct sockets *sockets_new(void) { return calloc(1, sizeof(struct sockets)); }

void sockets_free(struct sockets *s)
{
    if (!s)
        return;
    while (s->socks) {
        struct sock_entry *next = s->socks->next;
        free(s->socks);
        s->socks = next;
    }
    while (s->procs) {
        struct proc_entry *next = s->procs->next;
        free(s->procs);
        s->procs = next;
    }
    free(s);
}

unsigned long sockets_lost(const struct sockets *s) { return s->lost; }

static struct sock_entry *sock_find(struct sockets *s, pid_t pid, int fd)
{
    for (struct sock_entry *e = s->socks; e; e = e->next)
        if (e->pid == pid && e->fd == fd)
            return e;
    return NULL;
}

/* The entry of pid's fd, made if there is none; NULL (and counted) when out of memory. */
static struct sock_entry *sock_entry(struct sockets *s, pid_t pid, int fd)
{
    struct sock_entry *e = sock_find(s, pid, fd);
    if (e)
        return e;
    if (!(e = calloc(1, sizeof(*e)))) {
        s->lost++;
        return NULL;
    }
    e->pid = pid;
    e->fd = fd;
    e->next = s->socks;
    s->socks = e;
    return e;
}

/* Forget pid's fd (closed, or a new socket on it), or all of pid's sockets with fd -1. */
static void sock_forget(struct sockets *s, pid_t pid, int fd)
{
    for (struct sock_entry **p = &s->socks; *p;) {
        if ((*p)->pid == pid && (fd < 0 || (*p)->fd == fd)) {
            struct sock_entry *gone = *p;
            *p = gone->next;
            free(gone);
        } else {
            p = &(*p)->next;
        }
    }
}

static struct proc_entry *proc_find(struct sockets *s, pid_t pid)
{
    for (struct proc_entry *p = s->procs; p; p = p->next)
        if (p->pid == pid)
            return p;
    return NULL;
}

static void proc_set_epipe(struct sockets *s, pid_t pid, bool epipe)
{
    struct proc_entry *p = proc_find(s, pid);
    if (!p && epipe) {
        if (!(p = calloc(1, sizeof(*p)))) {
            s->lost++;
            return;
        }
        p->pid = pid;
        p->next = s->procs;
        s->procs = p;
    }
    if (p)
        p->epipe = epipe;
}

static void proc_forget(struct sockets *s, pid_t pid)
{
    for (struct proc_entry **p = &s->procs; *p; p = &(*p)->next)
        if ((*p)->pid == pid) {
            struct proc_entry *gone = *p;
            *p = gone->next;
            free(gone);
            break;
        }
    sock_forget(s, pid, -1); /* its sockets went with it */
}

/* What a call teaches of its socket, after its note was given the past. */
static void learn_call(struct sockets *s, pid_t pid, const struct syscall_facts *f)
{
    struct sock_entry *e;
    switch (f->kind) {
    case CALL_SOCKET:
    case CALL_ACCEPT:
        if (!f->err)
            sock_forget(s, pid, (int)f->ret); /* a new socket on a reused fd */
        break;
    case CALL_LISTEN:
        if (!f->err && (e = sock_entry(s, pid, f->fd)))
            e->past.listening = true;
        break;
    case CALL_CONNECT:
        if (f->err && f->err != EINPROGRESS && (e = sock_entry(s, pid, f->fd)))
            e->past.connect_failed = true;
        break;
    case CALL_RECV:
        if (!f->err && f->ret == 0 && f->len != 0 && (e = sock_entry(s, pid, f->fd)))
            e->past.peer_closed = true;
        break;
    case CALL_CLOSE: sock_forget(s, pid, f->fd); break;
    default: break;
    }
}

void sockets_see(struct sockets *s, struct event *ev)
{
    struct sock_entry *e;
    struct proc_entry *p;
    switch (ev->type) {
    case EV_SYSCALL:
        if (ev->u.sys.fd >= 0 && (e = sock_find(s, ev->pid, ev->u.sys.fd)))
            ev->u.sys.past = e->past;
        proc_set_epipe(s, ev->pid, ev->u.sys.err == EPIPE);
        learn_call(s, ev->pid, &ev->u.sys);
        break;
    case EV_SIGNAL:
        ev->u.sig.after_epipe =
            ev->u.sig.signo == SIGPIPE && (p = proc_find(s, ev->pid)) && p->epipe;
        break;
    case EV_EXIT: proc_forget(s, ev->pid); break;
    default: break;
    }
}
