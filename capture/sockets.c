/*
 * sockets: each process's sockets' past (sockets.h), in two short lists.
 */
#include "sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct sock_entry {
    pid_t pid;
    int fd;
    unsigned long file; /* the open file description: fds made by dup share it; 0 none yet */
    struct sock_past past;
    struct sock_entry *next;
};

struct proc_entry {
    pid_t pid;
    bool epipe;    /* its last followed call failed with EPIPE */
    bool pending;  /* a SIGPIPE raised while blocked, not delivered yet */
    bool signalfd; /* it made a signalfd for SIGPIPE */
    struct proc_entry *next;
};

struct sockets {
    struct sock_entry *socks;
    struct proc_entry *procs;
    unsigned long lost;
    unsigned long files; /* open file descriptions numbered so far */
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

/* pid's entry, made if there is none and make is set; NULL (counted if out of memory). */
static struct proc_entry *proc_entry(struct sockets *s, pid_t pid, bool make)
{
    struct proc_entry *p = proc_find(s, pid);
    if (p || !make)
        return p;
    if (!(p = calloc(1, sizeof(*p)))) {
        s->lost++;
        return NULL;
    }
    p->pid = pid;
    p->next = s->procs;
    s->procs = p;
    return p;
}

static void proc_set_epipe(struct sockets *s, pid_t pid, bool epipe)
{
    struct proc_entry *p = proc_entry(s, pid, epipe);
    if (p)
        p->epipe = epipe;
}

/* The other fds of pid on e's open file description. */
static int others(const struct sockets *s, const struct sock_entry *e)
{
    int n = 0;
    if (!e->file)
        return 0;
    for (const struct sock_entry *o = s->socks; o; o = o->next)
        n += o != e && o->pid == e->pid && o->file == e->file;
    return n;
}

/* What was learned of e's socket is true of every fd of pid on the same open file description. */
static void share(struct sockets *s, const struct sock_entry *e)
{
    if (!e->file)
        return;
    for (struct sock_entry *o = s->socks; o; o = o->next)
        if (o != e && o->pid == e->pid && o->file == e->file)
            o->past = e->past;
}

/* Forget pid's fds from first to last. */
static void sock_forget_range(struct sockets *s, pid_t pid, int first, int last)
{
    for (struct sock_entry **p = &s->socks; *p;) {
        if ((*p)->pid == pid && (*p)->fd >= first && (*p)->fd <= last) {
            struct sock_entry *gone = *p;
            *p = gone->next;
            free(gone);
        } else {
            p = &(*p)->next;
        }
    }
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
    struct sock_entry *e, *d;
    struct proc_entry *p;
    bool nonblock;
    switch (f->kind) {
    case CALL_SOCKET:
    case CALL_ACCEPT:
        if (f->err)
            break;
        sock_forget(s, pid, (int)f->ret); /* a new socket on a reused fd */
        nonblock = f->kind == CALL_SOCKET ? (f->socktype & SOCK_NONBLOCK) != 0
                                          : (f->msg_flags & SOCK_NONBLOCK) != 0;
        if (nonblock && (e = sock_entry(s, pid, (int)f->ret)))
            e->past.nonblocking = true;
        break;
    case CALL_LISTEN:
        if (!f->err && (e = sock_entry(s, pid, f->fd))) {
            e->past.listening = true;
            share(s, e);
        }
        break;
    case CALL_CONNECT:
        if (f->err && f->err != EINPROGRESS && (e = sock_entry(s, pid, f->fd))) {
            e->past.connect_failed = true;
            share(s, e);
        }
        break;
    case CALL_RECV:
        for (int i = 0; i < f->pass.n; i++)
            sock_forget(s, pid, f->pass.fds[i].fd); /* a socket received on a reused fd */
        if (!f->err && f->ret == 0 && f->len != 0 && (e = sock_entry(s, pid, f->fd))) {
            e->past.peer_closed = true;
            share(s, e);
        }
        /* fall through */
    case CALL_SEND:
        /* Handed over (SCM_RIGHTS): the receiver may hold the socket after our close. */
        for (int i = 0; f->kind == CALL_SEND && !f->err && i < f->pass.n; i++)
            if ((e = sock_entry(s, pid, f->pass.fds[i].fd))) {
                e->past.passed = true;
                share(s, e);
            }
        if (f->err == ECONNRESET && (e = sock_entry(s, pid, f->fd))) {
            e->past.reset = true;
            share(s, e);
        }
        break;
    case CALL_OPTION:
        if (f->err || !f->value_known || !(e = sock_entry(s, pid, f->fd)))
            break;
        if (f->option_level < 0) {
            e->past.nonblocking = (f->value & O_NONBLOCK) != 0;
            share(s, e);
        } else if (f->option_level == SOL_SOCKET && f->option == SO_LINGER &&
                   strcmp(f->syscall, "setsockopt") == 0) {
            e->past.linger_zero = f->value && !f->value2;
            share(s, e);
        }
        break;
    case CALL_DUP:
        if (f->err || f->ret == f->fd)
            break;
        sock_forget(s, pid, (int)f->ret); /* dup2 closes what the new fd held */
        if (!(e = sock_entry(s, pid, f->fd)) || !(d = sock_entry(s, pid, (int)f->ret)))
            break;
        if (!e->file)
            e->file = ++s->files;
        d->file = e->file;
        d->past = e->past;
        break;
    case CALL_SIGNAL:
        if (!f->err && !strcmp(f->syscall, "signalfd4") && (p = proc_entry(s, pid, true)))
            p->signalfd = true;
        break;
    case CALL_CLOSE:
        if (f->err || (f->fd2 >= 0 && (f->option & CLOSE_RANGE_CLOEXEC)))
            break;
        if (f->fd2 >= 0)
            sock_forget_range(s, pid, f->fd, f->fd2);
        else
            sock_forget(s, pid, f->fd);
        break;
    case CALL_BIND:
    case CALL_SHUTDOWN:
    case CALL_WAIT:
    case CALL_OWN_ARGS: break;
    }
}

void sockets_see(struct sockets *s, struct event *ev)
{
    struct sock_entry *e;
    struct proc_entry *p;
    switch (ev->type) {
    case EV_SYSCALL: {
        struct syscall_facts *f = &ev->u.sys;
        if (f->fd >= 0 && (e = sock_find(s, ev->pid, f->fd))) {
            f->past = e->past;
            f->past.others = others(s, e);
        }
        for (int i = 0; f->kind == CALL_WAIT && i < f->wait.nfds; i++)
            if ((e = sock_find(s, ev->pid, f->wait.fds[i].fd)))
                f->wait.fds[i].past = (e->past.listening ? WAIT_LISTENING : 0) |
                                      (e->past.peer_closed ? WAIT_FIN_SEEN : 0);
        if ((p = proc_find(s, ev->pid)))
            f->pipe.signalfd = p->signalfd;
        proc_set_epipe(s, ev->pid, f->err == EPIPE);
        /* A failed write's SIGPIPE, blocked: it comes later, or never. */
        if (f->err == EPIPE && f->pipe.blocked && !(f->msg_flags & MSG_NOSIGNAL) &&
            (p = proc_entry(s, ev->pid, true)))
            p->pending = true;
        learn_call(s, ev->pid, f);
        break;
    }
    case EV_SIGNAL:
        if (ev->u.sig.signo != SIGPIPE || !(p = proc_find(s, ev->pid)))
            break;
        ev->u.sig.after_epipe = p->epipe;
        ev->u.sig.was_blocked = !p->epipe && p->pending;
        p->pending = false;
        break;
    case EV_EXIT: proc_forget(s, ev->pid); break;
    case EV_EXEC: /* its close-on-exec sockets are closed; the others stay */
        for (int i = 0; i < ev->u.exec.ncloexec; i++)
            sock_forget(s, ev->pid, ev->u.exec.cloexec_fds[i]);
        break;
    default: break;
    }
}
