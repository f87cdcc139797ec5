/*
 * loadgen: many clients at once against a line server (the labs' protocol:
 * each '\n'-terminated line is answered with exactly one "done\n"), some of
 * them leaving rudely, some slow; says whether every client that behaved got
 * every reply, in order, and how fast.
 *
 * One process, one poll() loop, non-blocking sockets. The run has two phases:
 *
 *   1. every client connects, so that N connections are open at the server
 *      at once;
 *   2. every client talks: it sends a line, waits for its "done\n", sends the
 *      next, M lines in all, then closes its end and expects the server to
 *      close too, with no byte more.
 *
 * A share of the clients (--rude) talk for half their lines and then leave
 * in one of three rude ways, in turn:
 *
 *   fin      send half a line, then shutdown(SHUT_WR): a FIN mid-line;
 *   reset    send half a line, then close with SO_LINGER {1, 0}: a RST;
 *   unread   send a line, wait until its reply has arrived, close without
 *            reading it: the kernel answers the unread data with a RST.
 *
 * Another share (--slow) behave, but send their lines one byte at a time with
 * a pause after each byte. Everything is bounded by --deadline.
 *
 * For the well-behaved clients that are not slow, the summary gives the reply
 * latency (from the last byte of a line sent to the last byte of its reply
 * received): the median (p50) and the 99th percentile (p99), in milliseconds.
 *
 * Exit status: 0 when every client that behaved got all its replies in order
 * and nothing more; 1 otherwise (the summary says why); 2 on bad arguments.
 *
 * Try: build/solution/server 3333 & build/loadgen -p 3333 -n 1000 -m 10 --rude 0.33
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/die.h"

#define PROG "loadgen"

static const char REPLY[] = "done\n";
#define REPLY_LEN (sizeof REPLY - 1)

enum {
    FD_RESERVE = 16, /* files besides the clients: stdio, and some room */
    MAX_CLIENTS = 100000,
    MAX_LINES = 1000000,
    LINE_CAP = 64,
};

/* How a client behaves. */
enum role { ROLE_GOOD, ROLE_SLOW, ROLE_FIN, ROLE_RESET, ROLE_UNREAD };

/* Where a client is in its conversation. */
enum state {
    ST_CONNECTING,  /* connect() in progress */
    ST_HOLDING,     /* connected, waiting for the others */
    ST_SENDING,     /* sending its current line */
    ST_READING,     /* waiting for the current line's reply */
    ST_DRAINING,    /* all replies in, its end closed: expects the server's FIN, nothing more */
    ST_FIN_WAIT,    /* rude: sent a FIN mid-line, reads until the server closes */
    ST_UNREAD_WAIT, /* rude: waiting for a reply it will not read */
    ST_DONE,
};

/* What went wrong with a client: each has a name in the summary. */
enum err_kind {
    ERR_SOCKET,      /* socket() or fcntl() failed */
    ERR_CONNECT,     /* the connection was refused or failed */
    ERR_RESET,       /* the server reset the connection */
    ERR_EARLY_CLOSE, /* the server closed before every line was answered */
    ERR_BAD_REPLY,   /* bytes that are not "done\n" */
    ERR_EXTRA_REPLY, /* a reply to no line: answered twice, or after the end */
    ERR_SEND,        /* send() failed */
    ERR_RECV,        /* recv() failed otherwise */
    ERR_TIMEOUT,     /* still unfinished at the deadline */
    ERR_KINDS
};

static const char *const ERR_NAMES[ERR_KINDS] = {
    "socket",      "connect", "reset", "early-close", "bad-reply",
    "extra-reply", "send",    "recv",  "timeout",
};

struct client {
    int fd;
    int index;
    enum role role;
    enum state state;
    char line[LINE_CAP]; /* the line being sent */
    size_t line_len, line_sent;
    long lines_sent;      /* whole lines sent */
    long replies;         /* whole replies received */
    size_t reply_pos;     /* bytes of the next "done\n" received */
    int64_t next_send_ns; /* slow clients: when the next byte may go */
    int64_t line_done_ns; /* when the current line's last byte went */
    bool failed;
};

struct options {
    const char *host, *port;
    long clients, lines;
    double rude, slow, deadline_s, slow_pause_ms;
    bool json;
};

struct stats {
    long connected, ok, good, rude_by[3], rude_left, slow;
    long lines_sent, replies, partial_lines;
    long errors[ERR_KINDS];      /* clients that behaved */
    long rude_errors[ERR_KINDS]; /* clients that left rudely: for information */
    int64_t t_start, t_connected, t_end;
    int64_t *latency_ns; /* one per reply to a well-behaved, not slow, client */
    size_t latencies, latency_cap;
    char first_failure[256]; /* what happened to the first client that failed */
};

/* --- small helpers ------------------------------------------------------------- */

static _Noreturn void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: " PROG
            " -p PORT [-h HOST] [-n CLIENTS] [-m LINES] [--rude SHARE] [--slow SHARE]\n"
            "               [--slow-pause MS] [--deadline SECONDS] [--json]\n"
            "\n"
            "Connects CLIENTS clients to a line server at once; each then sends LINES lines, one\n"
            "at a time, and expects exactly one \"done\\n\" for each, in order, and nothing more.\n"
            "\n"
            "  -p, --port PORT       the server's TCP port\n"
            "  -h, --host HOST       the server's address or name (default 127.0.0.1)\n"
            "  -n, --clients N       clients, all connected at once (default 100)\n"
            "  -m, --lines M         lines each client sends (default 10)\n"
            "  --rude SHARE          share of clients, 0 to 1, that leave rudely after half their\n"
            "                        lines: a FIN mid-line, a RST, or closing with replies unread\n"
            "                        (default 0)\n"
            "  --slow SHARE          share of clients that send one byte at a time (default 0)\n"
            "  --slow-pause MS       pause after each byte a slow client sends (default 2)\n"

            "  --deadline SECONDS    give up after this long (default 30)\n"
            "  --json                print the summary as one JSON object\n"
            "  --help                this help\n"
            "\n"
            "Exit status: 0 when every client that behaved got all its replies in order,\n"
            "1 otherwise (the summary says why), 2 on bad arguments.\n");
    exit(status);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die_hint("this should not happen; report it", "clock_gettime: %s", strerror(errno));
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double seconds(int64_t ns) { return (double)ns / 1e9; }

static long parse_long(const char *arg, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
        fprintf(stderr, PROG ": bad %s '%s': give a whole number from %ld to %ld\n", what, arg, min,
                max);
        usage(stderr, 2);
    }
    return v;
}

static double parse_double(const char *arg, const char *what, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, PROG ": bad %s '%s': give a number from %g to %g\n", what, arg, min, max);
        usage(stderr, 2);
    }
    return v;
}

static bool is_rude(enum role r) { return r == ROLE_FIN || r == ROLE_RESET || r == ROLE_UNREAD; }

/* --- the file limit ----------------------------------------------------------------- */

/* Raise the soft limit on open files to the hard limit; fail clearly if even
 * that is too low for NEEDED files. */
static void ensure_files(long needed)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die_hint("this should not happen; report it", "getrlimit RLIMIT_NOFILE: %s",
                 strerror(errno));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)needed) {
        rlim_t want = rl.rlim_max;
        if (want == RLIM_INFINITY)
            want = (rlim_t)needed;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            die_hint("this should not happen; report it", "setrlimit RLIMIT_NOFILE: %s",
                     strerror(errno));
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)needed) {
        fprintf(
            stderr,
            PROG
            ": %ld clients need %ld open files, but the limit is %llu even raised to its hard limit "
            "(ask for fewer clients with -n, or raise the hard limit: ulimit -Hn, limits.conf)\n",
            needed - FD_RESERVE, needed, (unsigned long long)rl.rlim_cur);
        exit(1);
    }
}

/* --- one client ------------------------------------------------------------------ */

/* Record that C failed with KIND; DETAIL says how, for the first failure. */
static void client_fail(struct stats *st, struct client *c, enum err_kind kind, const char *detail)
{
    if (is_rude(c->role)) {
        st->rude_errors[kind]++;
    } else {
        st->errors[kind]++;
        if (st->first_failure[0] == '\0')
            snprintf(st->first_failure, sizeof st->first_failure,
                     "client %d (%s): %s: %s, after sending %ld lines and receiving %ld replies",
                     c->index, c->role == ROLE_SLOW ? "slow" : "well-behaved", ERR_NAMES[kind],
                     detail, c->lines_sent, c->replies);
    }
    c->failed = true;
    if (c->fd >= 0 && close(c->fd) != 0)
        fprintf(stderr, PROG ": close: %s\n", strerror(errno));
    c->fd = -1;
    c->state = ST_DONE;
}

/* C is finished, as it meant to be. */
static void client_finish(struct stats *st, struct client *c)
{
    if (c->fd >= 0 && close(c->fd) != 0) {
        char why[128];
        snprintf(why, sizeof why, "close: %s", strerror(errno));
        client_fail(st, c, ERR_RECV, why);
        return;
    }
    c->fd = -1;
    c->state = ST_DONE;
    if (is_rude(c->role))
        st->rude_left++;
    else
        st->ok++;
}

static void client_start(struct stats *st, struct client *c, const struct addrinfo *ai)
{
    c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (c->fd < 0) {
        client_fail(st, c, ERR_SOCKET, strerror(errno));
        return;
    }
    int flags = fcntl(c->fd, F_GETFL);
    if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        client_fail(st, c, ERR_SOCKET, strerror(errno));
        return;
    }
    c->state = ST_CONNECTING;
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        c->state = ST_HOLDING;
        st->connected++;
    } else if (errno != EINPROGRESS) {
        client_fail(st, c, ERR_CONNECT, strerror(errno));
    }
}

static void client_connected(struct stats *st, struct client *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err != 0) {
        client_fail(st, c, ERR_CONNECT, strerror(err));
        return;
    }
    c->state = ST_HOLDING;
    st->connected++;
}

/* Send what C may send of its line now. */
static void client_send(struct stats *st, struct client *c, const struct options *opt)
{
    while (c->line_sent < c->line_len) {
        size_t chunk = c->role == ROLE_SLOW ? 1 : c->line_len - c->line_sent;
        if (c->role == ROLE_SLOW && now_ns() < c->next_send_ns)
            return;
        ssize_t n = send(c->fd, c->line + c->line_sent, chunk, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            client_fail(st, c, errno == ECONNRESET || errno == EPIPE ? ERR_RESET : ERR_SEND,
                        strerror(errno));
            return;
        }
        c->line_sent += (size_t)n;
        if (c->role == ROLE_SLOW)
            c->next_send_ns = now_ns() + (int64_t)(opt->slow_pause_ms * 1e6);
    }
    c->lines_sent++;
    st->lines_sent++;
    c->line_done_ns = now_ns();
    /* A client that leaves with replies unread waits for the reply to the
     * line after its first half, and does not read it. */
    c->state =
        c->role == ROLE_UNREAD && c->lines_sent == opt->lines / 2 + 1 ? ST_UNREAD_WAIT : ST_READING;
}

static void client_next_line(struct client *c)
{
    int n = snprintf(c->line, sizeof c->line, "loadgen client %d line %ld\n", c->index,
                     c->lines_sent + 1);
    c->line_len = n > 0 && (size_t)n < sizeof c->line ? (size_t)n : 0;
    c->line_sent = 0;
    c->state = ST_SENDING;
}

/* Half a line, then leave: a FIN mid-line, or a RST. */
static void client_leave_mid_line(struct stats *st, struct client *c)
{
    client_next_line(c);
    ssize_t n = send(c->fd, c->line, c->line_len / 2, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        client_fail(st, c, ERR_SEND, strerror(errno));
        return;
    }
    st->partial_lines++;
    if (c->role == ROLE_FIN) {
        if (shutdown(c->fd, SHUT_WR) != 0) {
            client_fail(st, c, ERR_SEND, strerror(errno));
            return;
        }
        c->state = ST_FIN_WAIT; /* the server answers nothing more, and closes */
        return;
    }
    struct linger abort_on_close = { .l_onoff = 1, .l_linger = 0 };
    if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) != 0) {
        client_fail(st, c, ERR_SEND, strerror(errno));
        return;
    }
    client_finish(st, c);
}

/* The conversation goes on after a reply (or at its start). */
static void client_advance(struct stats *st, struct client *c, const struct options *opt)
{
    if ((c->role == ROLE_FIN || c->role == ROLE_RESET) && c->replies == opt->lines / 2) {
        client_leave_mid_line(st, c);
    } else if (c->replies == opt->lines) {
        /* All answered: close our end; the server should close its end, and say nothing more. */
        if (shutdown(c->fd, SHUT_WR) != 0) {
            client_fail(st, c, ERR_SEND, strerror(errno));
            return;
        }
        c->state = ST_DRAINING;
    } else {
        client_next_line(c);
        client_send(st, c, opt);
    }
}

/* Note how long the reply to C's last line took, if C is a plain well-behaved client. */
static void note_latency(struct stats *st, const struct client *c)
{
    if (c->role != ROLE_GOOD)
        return;
    if (st->latencies == st->latency_cap) {
        size_t cap = st->latency_cap ? st->latency_cap * 2 : 4096;
        int64_t *grown = realloc(st->latency_ns, cap * sizeof *grown);
        if (grown == NULL)
            die_hint("ask for fewer clients or lines", "realloc: %s", strerror(errno));
        st->latency_ns = grown;
        st->latency_cap = cap;
    }
    st->latency_ns[st->latencies++] = now_ns() - c->line_done_ns;
}

/* Take the bytes the server sent; check each against "done\n". */
static void client_read(struct stats *st, struct client *c, const struct options *opt)
{
    char buf[1024];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            client_fail(st, c, errno == ECONNRESET ? ERR_RESET : ERR_RECV, strerror(errno));
            return;
        }
        if (n == 0) {
            if ((c->state == ST_DRAINING || c->state == ST_FIN_WAIT) && c->reply_pos == 0)
                client_finish(st, c);
            else
                client_fail(st, c, ERR_EARLY_CLOSE, "the server closed the connection");
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (c->replies >= c->lines_sent) {
                client_fail(st, c, ERR_EXTRA_REPLY, "a reply to no line (answered twice?)");
                return;
            }
            if (buf[i] != REPLY[c->reply_pos]) {
                client_fail(st, c, ERR_BAD_REPLY, "bytes that are not \"done\\n\"");
                return;
            }
            if (++c->reply_pos == REPLY_LEN) {
                c->reply_pos = 0;
                c->replies++;
                st->replies++;
                note_latency(st, c);
            }
        }
        if (c->state == ST_READING && c->replies == c->lines_sent && c->reply_pos == 0) {
            /* Read no further here: what comes next belongs to the next
             * state (a client leaving replies unread must not read them). */
            client_advance(st, c, opt);
            return;
        }
    }
}

/* What C waits for in poll(). */
static short client_events(const struct client *c)
{
    switch (c->state) {
    case ST_CONNECTING: return POLLOUT;
    case ST_SENDING: return c->role == ROLE_SLOW ? 0 : POLLOUT;
    case ST_READING:
    case ST_DRAINING:
    case ST_FIN_WAIT:
    case ST_UNREAD_WAIT: return POLLIN;
    default: return 0;
    }
}

static void client_serve(struct stats *st, struct client *c, short revents,
                         const struct options *opt)
{
    switch (c->state) {
    case ST_CONNECTING: client_connected(st, c); break;
    case ST_HOLDING: /* the server closed or reset a connection that has not talked yet */
    case ST_READING:
    case ST_DRAINING:
    case ST_FIN_WAIT: client_read(st, c, opt); break;
    case ST_SENDING:
        if (revents & (POLLERR | POLLHUP))
            client_read(st, c, opt);
        else
            client_send(st, c, opt);
        break;
    case ST_UNREAD_WAIT:
        /* The reply is here: close without reading it. */
        client_finish(st, c);
        break;
    case ST_DONE: break;
    }
}

/* --- roles ------------------------------------------------------------------------- */

/* Spread SHARE of N evenly: is the I-th one in it? */
static bool in_share(long i, double share)
{
    return (long)((double)(i + 1) * share) > (long)((double)i * share);
}

static void assign_roles(struct client *clients, struct stats *st, const struct options *opt)
{
    long rude = 0, others = 0;
    for (long i = 0; i < opt->clients; i++) {
        struct client *c = &clients[i];
        c->fd = -1;
        c->index = (int)i;
        if (in_share(i, opt->rude)) {
            c->role = (enum role)(ROLE_FIN + rude % 3);
            st->rude_by[rude % 3]++;
            rude++;
        } else {
            /* The slow share is of all clients, taken from those that behave. */
            c->role =
                in_share(others, opt->slow / (1.0 - opt->rude + 1e-12)) ? ROLE_SLOW : ROLE_GOOD;
            if (c->role == ROLE_SLOW)
                st->slow++;
            st->good++;
            others++;
        }
    }
}

/* --- the run ---------------------------------------------------------------------- */

static void run(struct client *clients, struct stats *st, const struct options *opt,
                const struct addrinfo *ai)
{
    struct pollfd *fds = calloc((size_t)opt->clients, sizeof *fds);
    long *index_of = calloc((size_t)opt->clients, sizeof *index_of);
    if (fds == NULL || index_of == NULL)
        die_hint("ask for fewer clients with -n", "calloc: %s", strerror(errno));

    int64_t deadline = st->t_start + (int64_t)(opt->deadline_s * 1e9);
    for (long i = 0; i < opt->clients; i++)
        client_start(st, &clients[i], ai);

    bool talking = false;
    for (;;) {
        int64_t now = now_ns();
        if (!talking) {
            long connecting = 0;
            for (long i = 0; i < opt->clients; i++)
                connecting += clients[i].state == ST_CONNECTING;
            if (connecting == 0) {
                talking = true;
                st->t_connected = now;
                for (long i = 0; i < opt->clients; i++)
                    if (clients[i].state == ST_HOLDING)
                        client_advance(st, &clients[i], opt);
            }
        }

        /* Slow clients whose pause is over send their next byte; the rest say what they wait for. */
        nfds_t nfds = 0;
        int64_t wake = deadline;
        for (long i = 0; i < opt->clients; i++) {
            struct client *c = &clients[i];
            if (c->state == ST_SENDING && c->role == ROLE_SLOW) {
                if (c->next_send_ns <= now)
                    client_send(st, c, opt);
                if (c->state == ST_SENDING && c->next_send_ns < wake)
                    wake = c->next_send_ns;
            }
            if (c->state == ST_DONE)
                continue;
            fds[nfds] = (struct pollfd){ .fd = c->fd, .events = client_events(c) };
            index_of[nfds++] = i;
        }
        if (nfds == 0)
            break;
        now = now_ns();
        if (now >= deadline)
            break;
        int64_t wait_ns = wake - now;
        int timeout_ms = wait_ns <= 0 ? 0 : (int)((wait_ns + 999999) / 1000000);

        int ready = poll(fds, nfds, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            die_hint("this should not happen; report it", "poll: %s", strerror(errno));
        }
        for (nfds_t k = 0; k < nfds && ready > 0; k++) {
            if (fds[k].revents == 0)
                continue;
            ready--;
            client_serve(st, &clients[index_of[k]], fds[k].revents, opt);
        }
    }
    st->t_end = now_ns();
    if (!talking)
        st->t_connected = st->t_end;

    for (long i = 0; i < opt->clients; i++) {
        struct client *c = &clients[i];
        if (c->state == ST_DONE)
            continue;
        char what[160];
        snprintf(what, sizeof what, "still %s at the deadline (%g s)",
                 c->state == ST_CONNECTING ? "connecting"
                 : c->state == ST_HOLDING  ? "waiting for the others to connect"
                 : c->state == ST_SENDING  ? "sending a line"
                 : c->state == ST_DRAINING ? "waiting for the server to close"
                                           : "waiting for a reply",
                 opt->deadline_s);
        client_fail(st, c, ERR_TIMEOUT, what);
    }
    free(fds);
    free(index_of);
}

/* --- the summary ------------------------------------------------------------------- */

static double per_second(long count, int64_t ns)
{
    return ns > 0 ? (double)count / seconds(ns) : 0.0;
}

static int compare_ns(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The latency below which PERCENT of the replies came, in ms (nearest rank); -1 if none came. */
static double latency_ms(const struct stats *st, double percent)
{
    if (st->latencies == 0)
        return -1;
    size_t rank = (size_t)((percent / 100.0) * (double)st->latencies + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > st->latencies)
        rank = st->latencies;
    return (double)st->latency_ns[rank - 1] / 1e6;
}

static void print_errors(const long *errors, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < ERR_KINDS; k++) {
        if (errors[k] == 0)
            continue;
        int n =
            snprintf(buf + used, len - used, "%s%s=%ld", used ? " " : "", ERR_NAMES[k], errors[k]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(buf, len, "none");
}

static void print_summary(struct stats *st, const struct options *opt, bool ok)
{
    int64_t connect_ns = st->t_connected - st->t_start, talk_ns = st->t_end - st->t_connected;
    double conns_per_s = per_second(st->connected, connect_ns);
    double replies_per_s = per_second(st->replies, talk_ns);
    char errors[512], rude_errors[512];
    print_errors(st->errors, errors, sizeof errors);
    print_errors(st->rude_errors, rude_errors, sizeof rude_errors);
    long rude = st->rude_by[0] + st->rude_by[1] + st->rude_by[2];
    qsort(st->latency_ns, st->latencies, sizeof *st->latency_ns, compare_ns);
    double p50 = latency_ms(st, 50), p99 = latency_ms(st, 99);

    if (opt->json) {
        printf(
            "{\"result\":\"%s\",\"clients\":%ld,\"lines_per_client\":%ld,\"well_behaved\":%ld,"
            "\"slow\":%ld,\"rude\":%ld,\"rude_fin\":%ld,\"rude_reset\":%ld,\"rude_unread\":%ld,"
            "\"connected\":%ld,\"ok\":%ld,\"rude_left\":%ld,\"lines_sent\":%ld,\"partial_lines\":%ld,"
            "\"replies\":%ld,\"connect_seconds\":%.6f,\"talk_seconds\":%.6f,"
            "\"connections_per_second\":%.1f,\"replies_per_second\":%.1f,"
            "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f,\"errors\":{",
            ok ? "ok" : "failed", opt->clients, opt->lines, st->good, st->slow, rude,
            st->rude_by[0], st->rude_by[1], st->rude_by[2], st->connected, st->ok, st->rude_left,
            st->lines_sent, st->partial_lines, st->replies, seconds(connect_ns), seconds(talk_ns),
            conns_per_s, replies_per_s, p50, p99);
        for (int k = 0; k < ERR_KINDS; k++)
            printf("%s\"%s\":%ld", k ? "," : "", ERR_NAMES[k], st->errors[k]);
        printf("},\"rude_errors\":{");
        for (int k = 0; k < ERR_KINDS; k++)
            printf("%s\"%s\":%ld", k ? "," : "", ERR_NAMES[k], st->rude_errors[k]);
        printf("},\"first_failure\":\"");
        for (const char *p = st->first_failure; *p; p++) {
            if (*p == '"' || *p == '\\')
                putchar('\\');
            putchar(*p);
        }
        printf("\"}\n");
        return;
    }
    printf(PROG ": %ld clients to %s port %s, %ld lines each: %ld well-behaved (%ld slow), "
                "%ld rude (%ld fin mid-line, %ld reset, %ld unread)\n",
           opt->clients, opt->host, opt->port, opt->lines, st->good, st->slow, rude, st->rude_by[0],
           st->rude_by[1], st->rude_by[2]);
    printf("  connected     %ld of %ld in %.3f s: %.0f connections/s\n", st->connected,
           opt->clients, seconds(connect_ns), conns_per_s);
    printf("  well-behaved  %ld of %ld got every reply, in order, and nothing more\n", st->ok,
           st->good);
    printf("  rude          %ld of %ld left as planned\n", st->rude_left, rude);
    printf("  lines sent    %ld whole, %ld half; replies %ld in %.3f s: %.0f replies/s\n",
           st->lines_sent, st->partial_lines, st->replies, seconds(talk_ns), replies_per_s);
    if (st->latencies > 0)
        printf("  latency       p50 %.3f ms, p99 %.3f ms, over %zu replies to well-behaved clients "
               "that are not slow\n",
               p50, p99, st->latencies);
    printf("  errors        %s\n", errors);
    printf("  rude errors   %s (for information: they do not fail the run)\n", rude_errors);
    if (!ok)
        printf("  FAILED        %s\n",
               st->first_failure[0] ? st->first_failure : "see the errors above");
    printf(
        "result=%s clients=%ld ok=%ld well_behaved=%ld rude_left=%ld rude=%ld lines_sent=%ld replies=%ld "
        "connections_per_s=%.1f replies_per_s=%.1f connect_s=%.6f talk_s=%.6f "
        "latency_p50_ms=%.3f latency_p99_ms=%.3f errors=%s\n",
        ok ? "ok" : "failed", opt->clients, st->ok, st->good, st->rude_left, rude, st->lines_sent,
        st->replies, conns_per_s, replies_per_s, seconds(connect_ns), seconds(talk_ns), p50, p99,
        errors);
}

/* --- main -------------------------------------------------------------------------- */

static void parse_options(int argc, char *argv[], struct options *opt)
{
    static const struct option longs[] = {
        { "port", required_argument, NULL, 'p' },
        { "host", required_argument, NULL, 'h' },
        { "clients", required_argument, NULL, 'n' },
        { "lines", required_argument, NULL, 'm' },
        { "rude", required_argument, NULL, 'r' },
        { "slow", required_argument, NULL, 's' },
        { "slow-pause", required_argument, NULL, 'P' },
        { "deadline", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    *opt = (struct options){
        .host = "127.0.0.1", .clients = 100, .lines = 10, .deadline_s = 30, .slow_pause_ms = 2
    };
    int c;
    while ((c = getopt_long(argc, argv, "p:h:n:m:", longs, NULL)) != -1) {
        switch (c) {
        case 'p':
            parse_long(optarg, "port", 1, 65535);
            opt->port = optarg;
            break;
        case 'h': opt->host = optarg; break;
        case 'n': opt->clients = parse_long(optarg, "client count", 1, MAX_CLIENTS); break;
        case 'm': opt->lines = parse_long(optarg, "line count", 1, MAX_LINES); break;
        case 'r': opt->rude = parse_double(optarg, "rude share", 0, 1); break;
        case 's': opt->slow = parse_double(optarg, "slow share", 0, 1); break;
        case 'P': opt->slow_pause_ms = parse_double(optarg, "slow pause", 0, 1000); break;
        case 'd': opt->deadline_s = parse_double(optarg, "deadline", 0.001, 86400); break;
        case 'j': opt->json = true; break;
        case 'H': usage(stdout, 0);
        default: usage(stderr, 2);
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        usage(stderr, 2);
    }
    if (opt->port == NULL) {
        fprintf(stderr, PROG ": no port: say which with -p PORT\n");
        usage(stderr, 2);
    }
    if (opt->rude + opt->slow > 1.0 + 1e-9) {
        fprintf(stderr, PROG ": --rude %g and --slow %g add up to more than every client\n",
                opt->rude, opt->slow);
        usage(stderr, 2);
    }
}

int main(int argc, char *argv[])
{
    die_init(PROG);
    struct options opt;
    parse_options(argc, argv, &opt);
    ensure_files(opt.clients + FD_RESERVE);

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    int gai = getaddrinfo(opt.host, opt.port, &hints, &ai);
    if (gai != 0) {
        char what[300];
        snprintf(what, sizeof what, "looking up %s", opt.host);
        die_hint("give an address like 127.0.0.1, or a name this machine knows", "%s: %s", what,
                 gai_strerror(gai));
    }

    struct client *clients = calloc((size_t)opt.clients, sizeof *clients);
    if (clients == NULL)
        die_hint("ask for fewer clients with -n", "calloc: %s", strerror(errno));
    struct stats st = { 0 };
    assign_roles(clients, &st, &opt);
    st.t_start = now_ns();
    run(clients, &st, &opt, ai);
    freeaddrinfo(ai);
    free(clients);

    bool ok = st.ok == st.good;
    print_summary(&st, &opt, ok);
    free(st.latency_ns);
    if (fflush(stdout) != 0)
        die_hint("is standard output writable?", "writing the summary: %s", strerror(errno));
    return ok ? 0 : 1;
}
