/*
 * calls_wait: the decoders of the calls that wait until sockets are ready
 * (poll, ppoll, select, pselect6, the epoll waits). Of the pollfd array (or
 * select's three fd_sets), only the entries whose fd is a followed (TCP)
 * socket are kept, what they ask for at the entry and what came at the
 * exit; the others are counted. The array is read once at each end, at most
 * WAIT_READ_MAX entries; what lies beyond is counted as well.
 * An epoll instance's sockets are those /proc's fdinfo says it watches; what
 * epoll_wait returns names no fd (its data is the program's own), so only
 * the events of the first ready entries are kept.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include "calls_int.h"
#include "procfs.h"
#include "vocab.h"

/* fd of tid is a TCP socket. */
static bool is_tcp(pid_t tid, int fd)
{
    struct stat st;
    return fd >= 0 && procfs_fd_stat(tid, fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
           !procfs_fd_other_socket(tid, fd);
}

/* The first entries of the pollfd array at addr (nfds of them): how many could be read. */
static size_t peek_pollfds(pid_t tid, uint64_t addr, uint64_t nfds, struct pollfd *p)
{
    if (nfds > WAIT_READ_MAX)
        nfds = WAIT_READ_MAX;
    return calls_peek(tid, addr, p, (size_t)nfds * sizeof(*p)) / sizeof(*p);
}

/* poll and ppoll are followed when one of their fds is a TCP socket. */
bool want_poll(pid_t tid, const uint64_t args[6])
{
    struct pollfd p[WAIT_READ_MAX];
    size_t n = peek_pollfds(tid, args[0], args[1], p);
    for (size_t i = 0; i < n; i++)
        if (is_tcp(tid, p[i].fd))
            return true;
    return false;
}

/*
 * A wait's voluntary context switches at its entry stop, then at its exit
 * stop whether it slept in between (wait_facts.slept says how).
 */
static void switches_at_entry(pid_t tid, struct wait_facts *w)
{
    w->switches = procfs_voluntary_switches(tid);
}

static void switches_at_exit(pid_t tid, struct wait_facts *w)
{
    long long now = procfs_voluntary_switches(tid);
    if (w->switches >= 0 && now >= w->switches)
        w->slept = now - w->switches >= 2 ? SLEPT_YES : SLEPT_NO;
}

/* A timeout given as a pointer to a timespec: -1 for NULL (no timeout), -2 unreadable, else ms rounded up. */
static long long timespec_timeout_ms(pid_t tid, uint64_t addr)
{
    struct timespec ts;
    if (!addr)
        return -1;
    if (calls_peek(tid, addr, &ts, sizeof ts) != sizeof ts)
        return -2;
    return (long long)ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000;
}

/* poll(fds, nfds, timeout), ppoll(fds, nfds, tmo_p, sigmask, sigsetsize). */
ENTRY(poll)
{
    struct pollfd p[WAIT_READ_MAX];
    struct wait_facts *w = &f->wait;
    switches_at_entry(tid, w);
    size_t n = peek_pollfds(tid, args[0], args[1], p);
    w->more = args[1] > n ? (int)(args[1] - n > 0x7fffffff ? 0x7fffffff : args[1] - n) : 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_tcp(tid, p[i].fd))
            w->others++;
        else if (w->nfds < WAIT_FDS_MAX)
            w->fds[w->nfds++] = (struct wait_fd){ p[i].fd, (uint16_t)p[i].events, 0, 0 };
        else
            w->more++;
    }
    f->fd = w->nfds ? w->fds[0].fd : -1;
    f->len = (long long)args[1];
    if (f->syscall[0] == 'p' && f->syscall[1] == 'p') /* ppoll: a timespec, or NULL */
        w->timeout_ms = timespec_timeout_ms(tid, args[2]);
    else
        w->timeout_ms = (int)args[2] < 0 ? -1 : (int)args[2];
}

/* What came: the revents of the followed sockets, as the kernel wrote them. */
EXIT(poll)
{
    struct pollfd p[WAIT_READ_MAX];
    struct wait_facts *w = &f->wait;
    switches_at_exit(tid, w);
    if (f->ret <= 0)
        return;
    size_t n = peek_pollfds(tid, args[0], args[1], p);
    for (int k = 0; k < w->nfds; k++)
        for (size_t i = 0; i < n; i++)
            if (p[i].fd == w->fds[k].fd) {
                w->fds[k].revents = (uint16_t)p[i].revents;
                break;
            }
}

/*
 * The TCP sockets epoll instance epfd of tid watches, as its fdinfo lists
 * them ("tfd:        5 events:       19 data: ..."), into w (at most
 * WAIT_FDS_MAX; the rest counted), of the first WAIT_READ_MAX it lists.
 */
static void epoll_watched(pid_t tid, int epfd, struct wait_facts *w)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)tid, epfd);
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    int seen = 0;
    while (fgets(line, sizeof line, fp)) {
        int fd;
        unsigned ev;
        if (sscanf(line, "tfd: %d events: %x", &fd, &ev) != 2)
            continue;
        if (++seen > WAIT_READ_MAX)
            w->more++;
        else if (!is_tcp(tid, fd))
            w->others++;
        else if (w->nfds < WAIT_FDS_MAX)
            w->fds[w->nfds++] = (struct wait_fd){ fd, (uint16_t)ev, 0, 0 };
        else
            w->more++;
    }
    fclose(fp);
}

/* epoll_wait and epoll_pwait(2) are followed when the instance watches a TCP socket. */
bool want_epoll_wait(pid_t tid, const uint64_t args[6])
{
    struct wait_facts w;
    memset(&w, 0, sizeof w);
    epoll_watched(tid, (int)args[0], &w);
    return w.nfds > 0;
}

/* epoll_wait(epfd, events, maxevents, timeout), epoll_pwait(..., sigmask), epoll_pwait2(..., tmo_p, ...). */
ENTRY(epoll_wait)
{
    struct wait_facts *w = &f->wait;
    switches_at_entry(tid, w);
    epoll_watched(tid, (int)args[0], w);
    f->fd = w->nfds ? w->fds[0].fd : -1;
    f->fd2 = (int)args[0];
    f->len = (long long)(int)args[2];
    if (f->syscall[strlen(f->syscall) - 1] == '2') /* epoll_pwait2: a timespec, or NULL */
        w->timeout_ms = timespec_timeout_ms(tid, args[3]);
    else
        w->timeout_ms = (int)args[3] < 0 ? -1 : (int)args[3];
}

/* What came: the events of the first ready entries. */
EXIT(epoll_wait)
{
    struct epoll_event ev[WAIT_FDS_MAX];
    struct wait_facts *w = &f->wait;
    switches_at_exit(tid, w);
    if (f->ret <= 0)
        return;
    size_t want = (uint64_t)f->ret < WAIT_FDS_MAX ? (size_t)f->ret : WAIT_FDS_MAX;
    size_t got = calls_peek(tid, args[1], ev, want * sizeof ev[0]) / sizeof ev[0];
    for (size_t i = 0; i < got; i++)
        w->ready[w->nready++] = (uint16_t)ev[i].events;
}

/* epoll_ctl is followed when it adds, changes or removes a TCP socket. */
bool want_epoll_ctl(pid_t tid, const uint64_t args[6])
{
    int op = (int)args[1];
    return (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD || op == EPOLL_CTL_DEL) &&
           is_tcp(tid, (int)args[2]);
}

/* epoll_ctl(epfd, op, fd, event) */
ENTRY(epoll_ctl)
{
    char flags[128];
    struct epoll_event ev;
    int op = (int)args[1];
    f->fd = (int)args[2];
    f->fd2 = (int)args[0];
    f->option = op;
    calls_arg(f, "%d", (int)args[0]);
    calls_arg(f, "%s", tok_name_or(epoll_ctl_ops, op, "?"));
    calls_arg(f, "%d", (int)args[2]);
    if (!args[3])
        calls_arg(f, "NULL");
    else if (calls_peek(tid, args[3], &ev, sizeof ev) == sizeof ev) {
        f->value = ev.events;
        f->value_known = true;
        calls_arg(f, "{%s}", tok_flags(poll_event_names, ev.events, flags, sizeof flags));
    } else
        calls_arg(f, "&event");
}

/*
 * select(nfds, readfds, writefds, exceptfds, timeval) and pselect6(...,
 * timespec, sigmask): three fd_sets of nfds bits each, read a whole fd_set
 * (FD_SETSIZE bits) at a time, up to SELECT_NFDS_MAX bits (the kernel's own
 * bound on open files). As with poll, the first WAIT_READ_MAX fds in them
 * are looked at; the rest are counted.
 */
#define SELECT_NFDS_MAX (1 << 20)
#define LONG_BITS (8 * sizeof(long))

/* What select_walk calls for each fd in a set: false to stop. */
typedef bool (*select_fd_fn)(pid_t tid, int fd, unsigned in_sets, void *ctx);

/*
 * Call fn for each fd in any of the sets (args[1..3]; NULL ones are empty),
 * in order, with the select_sets bits of those it is in.
 */
static void select_walk(pid_t tid, const uint64_t args[6], select_fd_fn fn, void *ctx)
{
    uint64_t nfds = args[0] > SELECT_NFDS_MAX ? SELECT_NFDS_MAX : args[0];
    for (uint64_t at = 0; at < nfds; at += FD_SETSIZE) {
        unsigned long words[WAIT_SETS][FD_SETSIZE / LONG_BITS];
        uint64_t bits = nfds - at < FD_SETSIZE ? nfds - at : FD_SETSIZE;
        size_t len = (size_t)(bits + LONG_BITS - 1) / LONG_BITS * sizeof(long);
        bool short_read = false;
        memset(words, 0, sizeof words);
        for (int s = 0; s < WAIT_SETS; s++)
            if (args[1 + s] && calls_peek(tid, args[1 + s] + at / 8, words[s], len) < len)
                short_read = true;
        for (size_t i = 0; i < len / sizeof(long); i++) {
            /* The last word's bits past nfds are none of the set's. */
            unsigned long valid =
                bits - i * LONG_BITS >= LONG_BITS ? ~0UL : (1UL << (bits - i * LONG_BITS)) - 1;
            unsigned long any = (words[0][i] | words[1][i] | words[2][i]) & valid;
            for (; any; any &= any - 1) {
                int b = __builtin_ctzl(any);
                unsigned in_sets = 0;
                for (int s = 0; s < WAIT_SETS; s++)
                    if (words[s][i] >> b & 1)
                        in_sets |= (unsigned)select_sets[s].value;
                if (!fn(tid, (int)(at + i * LONG_BITS + (unsigned)b), in_sets, ctx))
                    return;
            }
        }
        if (short_read)
            return;
    }
}

/* want_select's walk: stop at the first TCP socket among the first WAIT_READ_MAX fds. */
struct select_want {
    int looked;
    bool tcp;
};

static bool select_want_fd(pid_t tid, int fd, unsigned in_sets, void *ctx)
{
    struct select_want *sw = ctx;
    (void)in_sets;
    sw->tcp = is_tcp(tid, fd);
    return !sw->tcp && ++sw->looked < WAIT_READ_MAX;
}

/* select and pselect6 are followed when one of the fds in their sets is a TCP socket. */
bool want_select(pid_t tid, const uint64_t args[6])
{
    struct select_want sw = { 0, false };
    select_walk(tid, args, select_want_fd, &sw);
    return sw.tcp;
}

/* The entry's walk: the followed sockets kept, the others counted, in all and by set. */
struct select_entry {
    struct wait_facts *w;
    int looked;
};

static bool select_entry_fd(pid_t tid, int fd, unsigned in_sets, void *ctx)
{
    struct select_entry *se = ctx;
    struct wait_facts *w = se->w;
    bool shown = false;
    if (se->looked++ >= WAIT_READ_MAX)
        w->more++;
    else if (!is_tcp(tid, fd))
        w->others++;
    else if (w->nfds < WAIT_FDS_MAX) {
        w->fds[w->nfds++] = (struct wait_fd){ fd, (uint16_t)in_sets, 0, 0 };
        shown = true;
    } else
        w->more++;
    for (int s = 0; s < WAIT_SETS && !shown; s++)
        w->set_more[s] += (in_sets & (unsigned)select_sets[s].value) != 0;
    return true;
}

ENTRY(select)
{
    struct wait_facts *w = &f->wait;
    struct select_entry se = { w, 0 };
    bool pselect = strcmp(f->syscall, "pselect6") == 0;
    switches_at_entry(tid, w);
    w->sets = true;
    for (int s = 0; s < WAIT_SETS; s++)
        if (!args[1 + s])
            w->sets_null |= (uint8_t)(1u << s);
    select_walk(tid, args, select_entry_fd, &se);
    f->fd = w->nfds ? w->fds[0].fd : -1;
    f->len = (long long)(int)args[0];
    /*
     * glibc's select() is pselect6 with no signal mask argument at all;
     * pselect() always passes one (its mask, or NULL, and the size).
     */
    if (pselect)
        f->call = args[5] ? "pselect" : "select";
    if (!args[4]) {
        w->timeout_ms = -1;
    } else if (pselect) {
        struct timespec ts;
        if (calls_peek(tid, args[4], &ts, sizeof ts) == sizeof ts)
            w->timeout = ts;
        else
            w->timeout_ms = -2;
    } else {
        struct timeval tv;
        if (calls_peek(tid, args[4], &tv, sizeof tv) == sizeof tv)
            w->timeout = (struct timespec){ tv.tv_sec, tv.tv_usec * 1000 };
        else
            w->timeout_ms = -2;
    }
    if (args[4] && w->timeout_ms != -2)
        w->timeout_ms =
            (long long)w->timeout.tv_sec * 1000 + (w->timeout.tv_nsec + 999999) / 1000000;
}

/* What came: each followed socket's bit in each set it was in, as the kernel rewrote them. */
EXIT(select)
{
    struct wait_facts *w = &f->wait;
    switches_at_exit(tid, w);
    if (f->ret <= 0)
        return;
    for (int k = 0; k < w->nfds; k++)
        for (int s = 0; s < WAIT_SETS; s++) {
            unsigned bit = (unsigned)select_sets[s].value;
            unsigned long word;
            int fd = w->fds[k].fd;
            if ((w->fds[k].events & bit) &&
                calls_peek(tid, args[1 + s] + (uint64_t)fd / LONG_BITS * sizeof(long), &word,
                           sizeof word) == sizeof word &&
                (word >> (fd % LONG_BITS) & 1))
                w->fds[k].revents |= (uint16_t)bit;
        }
}
