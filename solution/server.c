/*
 * The solution: the labs' line server, written so that nothing a client, a
 * reader of its output, or an operator does can kill it, stall it, or make it spin.
 *
 * The service is the original's: receive a line, print it on standard output,
 * reply "done\n". What changed, and which failure each change prevents
 * (solution/README.md tells the whole story, with a command for each):
 *
 *   - Every return value is checked. recv() == 0 means the client closed its
 *     end: that conversation is over (labs 2 and 3 call recv() again forever).
 *   - send() passes MSG_NOSIGNAL (SO_NOSIGPIPE on systems without it), so a
 *     send to a client that has gone fails with EPIPE instead of raising
 *     SIGPIPE (lab 1 dies of it; lab 4 too, if its first client resets early).
 *   - One poll() loop serves every client at once on non-blocking sockets. A
 *     client whose replies are waiting is not read until they are sent
 *     (back-pressure): it slows down only itself, and is never dropped for it.
 *   - Logging never blocks and never kills: standard output and standard error
 *     go through bounded buffers, written when poll() says they take more;
 *     what does not fit is counted and said; a reader that has gone gives
 *     EPIPE, because SIGPIPE is caught by a handler that does nothing (no
 *     per-call flag exists for write() on a pipe). Repeated errors are
 *     rate-limited.
 *   - Timeouts: a client that moves no byte for IDLE seconds, or takes more
 *     than LINE seconds to finish a line, is closed. When every place is
 *     taken, the longest-idle client makes room for the newcomer.
 *   - Out of file descriptors (EMFILE, ENFILE), new clients are accepted on a
 *     reserve descriptor and closed at once, with one log line per episode.
 *   - SIGINT or SIGTERM stops gracefully: no new clients; every complete line
 *     already read is answered; each connection ends with a FIN, within STOP
 *     seconds. A second signal stops at once.
 *   - One IPv6 socket serves IPv6 and IPv4 clients (IPv4 alone where the
 *     system has no IPv6).
 *
 * The protocol is lines. Each '\n'-terminated line is printed and answered
 * with exactly one "done\n", in order, however the network splits the bytes.
 * A line longer than LINE_MAX_BYTES (4096, the original's buffer) still counts
 * as one line and gets one "done\n": the server keeps its first 4096 bytes,
 * discards the rest as it streams in, and says so on stderr.
 *
 * Usage: server [-i IDLE] [-l LINE] [-s STOP] [-c CLIENTS] [PORT]   (server -h says more)
 * Try:   build/solution/server 3333 &  and then  build/solution/client 3333
 * Exit status: 0 after a stop by SIGINT or SIGTERM, 1 on a failure (the port
 * is taken, say), 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    DEFAULT_PORT = 3333,
    /* Connections the kernel completes and queues before accept() takes them.
     * The original's 10 overflows when many clients arrive at once: the
     * kernel then drops their handshakes, and they wait for retransmissions,
     * seconds each. SOMAXCONN is the most the kernel allows. */
    BACKLOG = SOMAXCONN,
    LINE_MAX_BYTES = 4096, /* bytes of a line kept, the original's buffer */
    IN_CAP = 4096,         /* bytes taken by one recv() */
    OUT_CAP = 16384,       /* bytes of replies queued for one client */
    DEFAULT_CLIENTS = 1000,
    DEFAULT_IDLE_S = 300, /* no byte either way for this long: closed */
    DEFAULT_LINE_S = 30,  /* a line unfinished this long after its first byte: closed */
    DEFAULT_STOP_S = 5,   /* a graceful stop takes at most this long */
    FIXED_FDS = 8,        /* descriptors besides the clients: stdio, pipe, listener, reserve */
    LOG_CAP = 65536,      /* bytes of log waiting for a slow reader, per stream */
    LOG_LINE_MAX = 512,   /* one formatted message */
    BURST = 10,           /* messages of one kind shown per RATE_WINDOW_MS */
    RATE_WINDOW_MS = 1000,
    PAUSE_MS = 1000, /* accept() paused this long when even the reserve is gone */
    DRAIN_MAX = 64,  /* recv()s of unread bytes before a close, at most */
};

static const char REPLY[] = "done\n";
#define REPLY_LEN (sizeof REPLY - 1)

/*
 * MSG_NOSIGNAL makes one send() fail with EPIPE instead of raising SIGPIPE.
 * Linux and the BSDs have it. macOS does not; there the socket option
 * SO_NOSIGPIPE, set once per socket in no_sigpipe(), does the same.
 */
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#elif defined(SO_NOSIGPIPE)
#define SEND_FLAGS 0
#else
#error "neither MSG_NOSIGNAL nor SO_NOSIGPIPE: ignore SIGPIPE with sigaction() instead"
#endif

/* What the SIGINT/SIGTERM handler touches: set before it is installed. */
static volatile sig_atomic_t stop_signal;    /* the last signal that asked us to stop */
static volatile sig_atomic_t stop_requests;  /* how many have: the second stops at once */
static volatile sig_atomic_t wakeup_fd = -1; /* write end of the self-pipe */

/* One connected client. */
struct client {
    int fd;
    char name[INET6_ADDRSTRLEN + sizeof "[]:65535"]; /* "127.0.0.1:51000", "[::1]:51000" */
    int64_t last_active;                             /* ms: the last byte received or sent */
    int64_t line_started; /* ms: the first byte of the unfinished line; 0: none */
    char in[IN_CAP];      /* received, not yet split into lines */
    size_t in_pos, in_len;
    char line[LINE_MAX_BYTES]; /* the line being received, without its '\n' */
    size_t line_len;           /* bytes kept in line[] */
    size_t line_dropped;       /* bytes of this line discarded past line[] */
    char out[OUT_CAP];         /* replies not yet sent */
    size_t out_len;
    bool peer_closed; /* recv() returned 0: send what is left, close */
    bool fin_sent;    /* stopping: our end is shut; reading until the client's FIN */
};

/* The settings from the command line, in milliseconds. */
struct settings {
    int port;
    long max_clients;
    int64_t idle_ms, line_ms, stop_ms;
};

/* Monotonic time in milliseconds. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ======================= Logging that never blocks ========================= */

/*
 * Standard output (the lines) and standard error (the events) are written
 * through a buffer each. A record is written at once if the descriptor takes
 * it; what it does not take waits, and the loop writes it when poll() says
 * there is room. A record that does not fit is dropped and counted, and the
 * count is said once there is room again. A pipe or socket is made
 * non-blocking, so a reader that stops reading cannot stop the server; a
 * terminal is left as it is, because the flag would change it for the shell
 * that shares it, and a file never waits for a reader.
 */
struct log_stream {
    int fd;
    const char *name;
    char buf[LOG_CAP];
    size_t len;
    long dropped;    /* records dropped since the last note */
    bool broken;     /* a write failed for good: records are dropped from now on */
    int saved_flags; /* the descriptor's flags before ours, -1 if untouched */
};

static struct log_stream out_log = { STDOUT_FILENO, "standard output", .saved_flags = -1 };
static struct log_stream err_log = { STDERR_FILENO, "standard error", .saved_flags = -1 };

static void log_note(const char *fmt, ...);

/* Make S non-blocking if a slow reader could block it (a pipe or a socket). */
static void log_open(struct log_stream *s)
{
    struct stat st;
    if (fstat(s->fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        return;
    int flags = fcntl(s->fd, F_GETFL);
    if (flags >= 0 && fcntl(s->fd, F_SETFL, flags | O_NONBLOCK) == 0)
        s->saved_flags = flags;
}

/* Give S's descriptor its flags back, for whoever shares it after us. */
static void log_close(struct log_stream *s)
{
    if (s->saved_flags >= 0)
        fcntl(s->fd, F_SETFL, s->saved_flags);
}

/* Write what S holds, as much as its descriptor takes now. */
static void log_flush(struct log_stream *s)
{
    size_t done = 0;
    while (done < s->len) {
        ssize_t n = write(s->fd, s->buf + done, s->len - done);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        /* EPIPE (the reader has gone: SIGPIPE is caught, see catch_signals()), a full
         * disk, ...: nothing more will be written there. */
        s->broken = true;
        s->dropped += 1;
        if (s != &err_log)
            log_note("%s: %s: lines are no longer printed, and the clients are still served",
                     s->name, strerror(errno));
        s->len = 0;
        return;
    }
    memmove(s->buf, s->buf + done, s->len - done);
    s->len -= done;
    if (s->len == 0 && s->dropped > 0 && !s->broken) {
        long dropped = s->dropped;
        s->dropped = 0;
        log_note("%ld log lines dropped: %s was not read fast enough", dropped, s->name);
    }
}

/* Queue A and B (B may be NULL) as one record on S, or drop and count it. */
static void log_write(struct log_stream *s, const char *a, size_t a_len, const char *b,
                      size_t b_len)
{
    if (s->broken || s->len + a_len + b_len > sizeof s->buf) {
        s->dropped++;
        return;
    }
    memcpy(s->buf + s->len, a, a_len);
    if (b_len > 0)
        memcpy(s->buf + s->len + a_len, b, b_len);
    s->len += a_len + b_len;
    log_flush(s);
}

/* Put "server: MESSAGE\n" on standard error. */
static void vlog_note(const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "server: ");
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* cut, but still one line */
    line[len++] = '\n';
    log_write(&err_log, line, len, NULL, 0);
}

static void log_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_note(fmt, ap);
    va_end(ap);
}

/*
 * Repeated errors are rate-limited by kind: BURST of a kind per second are
 * shown, the rest counted, and the count said when the second is over.
 */
enum limit_kind { LIMIT_CLIENT_END, LIMIT_TIMEOUT, LIMIT_EVICT, LIMIT_ACCEPT, LIMIT_KINDS };

static struct limit {
    const char *what;
    int64_t window_start;
    int shown;
    long hidden;
} limits[LIMIT_KINDS] = {
    { .what = "client errors" },
    { .what = "timeouts" },
    { .what = "evictions" },
    { .what = "accept errors" },
};

/* Say how many of each kind were hidden in a window that is over. */
static void limits_report(int64_t now)
{
    for (int k = 0; k < LIMIT_KINDS; k++) {
        struct limit *l = &limits[k];
        if (now - l->window_start < RATE_WINDOW_MS)
            continue;
        if (l->hidden > 0)
            log_note("%ld more %s in the last %.1f s, not shown one by one", l->hidden, l->what,
                     (double)(now - l->window_start) / 1000);
        l->hidden = 0;
        l->shown = 0;
        l->window_start = now;
    }
}

/* When the next hidden count is due, or -1 if none is. */
static int64_t limits_due(void)
{
    int64_t due = -1;
    for (int k = 0; k < LIMIT_KINDS; k++)
        if (limits[k].hidden > 0 && (due < 0 || limits[k].window_start + RATE_WINDOW_MS < due))
            due = limits[k].window_start + RATE_WINDOW_MS;
    return due;
}

/* log_note() for an error of KIND: shown, or counted if too many came. */
static void log_limited(enum limit_kind kind, const char *fmt, ...)
{
    struct limit *l = &limits[kind];
    limits_report(now_ms());
    if (l->shown >= BURST) {
        l->hidden++;
        return;
    }
    l->shown++;
    va_list ap;
    va_start(ap, fmt);
    vlog_note(fmt, ap);
    va_end(ap);
}

/* ======================= Starting: arguments, signals, the socket ========== */

/* Print "server: WHAT: strerror(errno) (HINT)" and exit 1. */
static _Noreturn void die(const char *what, const char *hint)
{
    fprintf(stderr, "server: %s: %s (%s)\n", what, strerror(errno), hint);
    exit(1);
}

static _Noreturn void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: server [-i IDLE] [-l LINE] [-s STOP] [-c CLIENTS] [port]\n"
            "\n"
            "Prints each line a client sends and answers it with \"done\".\n"
            "Serves many clients at once; on SIGINT or SIGTERM answers the lines it has read,\n"
            "closes every connection in order and exits 0; a second signal stops it at once.\n"
            "\n"
            "  port        TCP port to listen on, IPv6 and IPv4, every address (default %d)\n"
            "  -i IDLE     close a client that sends and receives nothing for IDLE seconds\n"
            "              (default %d)\n"
            "  -l LINE     close a client that takes more than LINE seconds to finish a line\n"
            "              (default %d)\n"
            "  -s STOP     a graceful stop ends every connection within STOP seconds (default %d)\n"
            "  -c CLIENTS  clients served at once; past that, the longest-idle one makes room\n"
            "              (default %d)\n"
            "Seconds may have a fraction (0.5).\n"
            "\n"
            "Exit status: 0 after a stop by signal, 1 on a failure, 2 on bad arguments.\n",
            DEFAULT_PORT, DEFAULT_IDLE_S, DEFAULT_LINE_S, DEFAULT_STOP_S, DEFAULT_CLIENTS);
    exit(status);
}

/* The whole number in ARG, from 1 to MAX, or -1 if ARG is anything else:
 * digits only (no sign, no space: strtol() would take " 80" and "+80"). */
static long parse_count(const char *arg, long max)
{
    long value = 0;
    if (*arg == '\0')
        return -1;
    for (const char *p = arg; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
        if (value > max)
            return -1;
    }
    return value >= 1 ? value : -1;
}

/* ARG as milliseconds ("30", "0.5": digits, an optional fraction), or -1. */
static int64_t parse_seconds(const char *arg)
{
    int64_t ms = 0, scale = 1000;
    const char *p = arg;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((ms = ms * 10 + (*p - '0')) > 86400 * 365)
            return -1;
    ms *= 1000;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ms += (scale /= 10) * (*p - '0');
    return *p == '\0' && ms > 0 ? ms : -1;
}

static _Noreturn void bad_argument(const char *what, const char *arg, const char *want)
{
    fprintf(stderr, "server: bad %s '%s': give %s (usage: server -h)\n", what, arg, want);
    exit(2);
}

/* -i, -l or -s: ARG seconds into *MS, or a usage error. */
static void set_seconds(int64_t *ms, const char *arg)
{
    if ((*ms = parse_seconds(arg)) < 0)
        bad_argument("number of seconds", arg, "a number above 0, like 30 or 0.5");
}

static struct settings parse_arguments(int argc, char *argv[])
{
    static const struct option longs[] = { { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    struct settings set = { DEFAULT_PORT, DEFAULT_CLIENTS, DEFAULT_IDLE_S * 1000,
                            DEFAULT_LINE_S * 1000, DEFAULT_STOP_S * 1000 };
    int opt;
    while ((opt = getopt_long(argc, argv, "hi:l:s:c:", longs, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(stdout, 0);
        case 'i': set_seconds(&set.idle_ms, optarg); break;
        case 'l': set_seconds(&set.line_ms, optarg); break;
        case 's': set_seconds(&set.stop_ms, optarg); break;
        case 'c':
            if ((set.max_clients = parse_count(optarg, 1000000)) < 0)
                bad_argument("number of clients", optarg, "a whole number from 1 to 1000000");
            break;
        default: usage(stderr, 2);
        }
    }
    if (argc - optind > 1)
        usage(stderr, 2);
    if (optind < argc && (set.port = (int)parse_count(argv[optind], 65535)) < 0)
        bad_argument("port", argv[optind], "a number from 1 to 65535, digits only");
    return set;
}

/*
 * poll() may be waiting when the signal arrives, or about to start waiting:
 * a flag alone could be set just after the loop checked it, and poll() would
 * sleep on. So the handler also writes a byte to a pipe that poll() watches
 * (the "self-pipe trick"), and poll() wakes up either way.
 */
static void on_stop_signal(int sig)
{
    int saved_errno = errno; /* write() may change errno under main's feet */
    stop_signal = sig;
    stop_requests = stop_requests + 1;
    ssize_t n = write(wakeup_fd, "", 1); /* full pipe: a wakeup is pending */
    (void)n;
    errno = saved_errno;
}

/* SIGPIPE from a write() to standard output whose reader has gone: do
 * nothing, so that the write() fails with EPIPE and log_flush() says so. */
static void on_sigpipe(int sig) { (void)sig; }

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Make the self-pipe, install the handlers; return the pipe's read end. */
static int catch_signals(void)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        die("pipe", "too many open files? check ulimit -n");
    if (set_nonblocking(pipefd[0]) < 0 || set_nonblocking(pipefd[1]) < 0)
        die("fcntl O_NONBLOCK on the wakeup pipe", "this should not happen; report it");
    wakeup_fd = pipefd[1];

    /* sigaction, not signal(): its behaviour is the same on every system.
     * No SA_RESTART: we want poll() interrupted. The handler is installed
     * before the first client is accepted, unlike lab 4's. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        die("sigaction", "this should not happen; report it");

    /* Sockets need no handler (MSG_NOSIGNAL), but write() on a pipe has no
     * such flag. A handler, unlike SIG_IGN or a blocked signal, goes back to
     * the default in any program exec'd from here (docs/theory.md, 6). */
    sa.sa_handler = on_sigpipe;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        die("sigaction SIGPIPE", "this should not happen; report it");
    return pipefd[0];
}

/* Raise the soft limit on open files so that NEEDED fit, as far as the hard
 * limit allows; say so if they still do not (EMFILE is then handled). */
static void raise_file_limit(long needed)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= (rlim_t)needed)
        return;
    rl.rlim_cur =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)needed ? (rlim_t)needed : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t)needed)
        log_note("at most %llu files may be open (ulimit -n), fewer than %ld clients need: "
                 "past that, new clients are turned away",
                 (unsigned long long)rl.rlim_cur, needed);
}

/* Where there is no MSG_NOSIGNAL, turn SIGPIPE off for every send on FD. */
static int no_sigpipe(int fd)
{
#ifndef MSG_NOSIGNAL
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#else
    (void)fd;
    return 0;
#endif
}

/* A listening socket on PORT: IPv6 taking IPv4 too, or IPv4 where there is no IPv6. */
static int listen_on(int port)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    bool v6 = fd >= 0;
    if (!v6 && errno != EAFNOSUPPORT)
        die("socket", "too many open files? check ulimit -n");
    if (!v6 && (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        die("socket", "too many open files? check ulimit -n");

    /* Without SO_REUSEADDR, a restarted server cannot bind the port while
     * the last run's connections sit in TIME_WAIT, for a minute or so. */
    int on = 1, off = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        die("setsockopt SO_REUSEADDR", "this should not happen; report it");
    /* IPv4 clients too, as ::ffff:a.b.c.d, whatever net.ipv6.bindv6only says. */
    if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0)
        die("setsockopt IPV6_V6ONLY", "this should not happen; report it");

    struct sockaddr_storage addr;
    socklen_t addr_len;
    memset(&addr, 0, sizeof addr);
    if (v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_any;
        a6->sin6_port = htons((unsigned short)port);
        addr_len = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        a4->sin_port = htons((unsigned short)port);
        addr_len = sizeof *a4;
    }
    if (bind(fd, (struct sockaddr *)&addr, addr_len) < 0) {
        char what[64];
        snprintf(what, sizeof what, "bind to port %d", port);
        die(what, errno == EADDRINUSE ? "another program uses it: stop it, or pick another port"
                  : errno == EACCES   ? "ports below 1024 need privileges: pick a port above 1024"
                                      : "pick another port");
    }
    if (listen(fd, BACKLOG) < 0)
        die("listen", "this should not happen; report it");

    /* Non-blocking, because a client may reset its connection between poll()
     * saying "a connection is waiting" and our accept(): a blocking accept()
     * would then wait for the next client while every other client waits. */
    if (set_nonblocking(fd) < 0)
        die("fcntl O_NONBLOCK on the listening socket", "this should not happen; report it");
    log_note("listening on port %d (%s)", port, v6 ? "IPv6 and IPv4" : "IPv4 only: no IPv6 here");
    return fd;
}

/* ======================= One client ======================================== */

/* "a.b.c.d:port" for IPv4 (and IPv4-mapped IPv6), "[v6]:port" for IPv6. */
static void name_client(struct client *c, const struct sockaddr_storage *addr)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
        port = ntohs(a6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
            inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], ip, sizeof ip);
        } else {
            inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof ip);
            snprintf(c->name, sizeof c->name, "[%s]:%u", ip, port);
            return;
        }
    } else if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;
        port = ntohs(a4->sin_port);
        inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof ip);
    }
    snprintf(c->name, sizeof c->name, "%s:%u", ip, port);
}

/* Close the client in *SLOT. Bytes it sent that we have not read would turn
 * our FIN into a RST (and its kernel would then discard our last replies), so
 * they are read and discarded first (DRAIN_MAX reads: a client that sends on
 * and on gets its RST). */
static void client_close(struct client **slot)
{
    char discard[IN_CAP];
    for (int i = 0; i < DRAIN_MAX && !(*slot)->peer_closed; i++)
        if (recv((*slot)->fd, discard, sizeof discard, 0) <= 0)
            break;
    if (close((*slot)->fd) < 0)
        log_limited(LIMIT_CLIENT_END, "client %s: close: %s", (*slot)->name, strerror(errno));
    free(*slot);
    *slot = NULL;
}

/* A whole line has arrived: print it, queue its one reply (the caller made room). */
static void client_end_line(struct client *c)
{
    log_write(&out_log, c->line, c->line_len, "\n", 1);
    if (c->line_dropped > 0)
        log_note("client %s: a line of %zu bytes: printed its first %d, discarded the rest",
                 c->name, c->line_len + c->line_dropped, LINE_MAX_BYTES);
    c->line_len = 0;
    c->line_dropped = 0;
    c->line_started = 0;
    memcpy(c->out + c->out_len, REPLY, REPLY_LEN);
    c->out_len += REPLY_LEN;
}

/* Split the received bytes into lines, as long as there is room for their
 * replies: a line may come in several pieces, and one piece may hold several
 * lines. What is left waits until the replies queued are sent. */
static void client_take(struct client *c, int64_t now)
{
    while (c->in_pos < c->in_len && c->out_len + REPLY_LEN <= OUT_CAP) {
        const char *data = c->in + c->in_pos;
        size_t n = c->in_len - c->in_pos;
        const char *newline = memchr(data, '\n', n);
        size_t part = newline ? (size_t)(newline - data) : n;
        size_t room = LINE_MAX_BYTES - c->line_len;
        size_t keep = part < room ? part : room;

        if (c->line_started == 0 && part > 0)
            c->line_started = now;
        memcpy(c->line + c->line_len, data, keep);
        c->line_len += keep;
        c->line_dropped += part - keep; /* the long-line rule */
        c->in_pos += part;
        if (newline == NULL)
            break;
        c->in_pos++;
        client_end_line(c);
    }
    if (c->in_pos == c->in_len)
        c->in_pos = c->in_len = 0;
}

/* The client's socket is readable. False when the conversation is over. */
static bool client_read(struct client *c, int64_t now)
{
    ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
    if (n > 0) {
        c->in_pos = 0;
        c->in_len = (size_t)n;
        c->last_active = now;
        return true;
    }
    if (n == 0) {
        /* The client closed its end (a FIN). Labs 2 and 3 never look, and
         * call recv() again, which returns 0 again, forever. */
        if (c->line_len + c->line_dropped > 0)
            log_limited(LIMIT_CLIENT_END,
                        "client %s: left an unfinished line of %zu bytes, "
                        "not answered",
                        c->name, c->line_len + c->line_dropped);
        log_note("client %s: closed the connection", c->name);
        c->peer_closed = true;
        return true; /* closed once the replies still queued are sent */
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return true; /* nothing after all, or a signal: poll() will say again */
    if (errno == ECONNRESET)
        log_limited(LIMIT_CLIENT_END, "client %s: reset the connection (ECONNRESET)", c->name);
    else
        log_limited(LIMIT_CLIENT_END, "client %s: recv: %s", c->name, strerror(errno));
    return false;
}

/* Stopping, our end is shut: read and discard until the client's FIN. False
 * when the conversation is over. */
static bool client_discard(struct client *c)
{
    char discard[IN_CAP];
    ssize_t n = recv(c->fd, discard, sizeof discard, 0);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
        return true;
    c->peer_closed = true; /* its FIN, or an error: either way, done */
    return false;
}

/* Send what is queued, as much as the socket takes now. False when the
 * conversation is over. */
static bool client_flush(struct client *c, int64_t now)
{
    size_t sent = 0;
    while (sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + sent, c->out_len - sent, SEND_FLAGS);
        if (n >= 0) {
            sent += (size_t)n; /* a partial send: the loop sends the rest */
            c->last_active = now;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break; /* the socket is full: poll() says when there is room */
        if (errno == EPIPE || errno == ECONNRESET)
            log_limited(LIMIT_CLIENT_END, "client %s: has gone, the reply cannot be sent (%s)",
                        c->name, errno == EPIPE ? "EPIPE" : "ECONNRESET");
        else
            log_limited(LIMIT_CLIENT_END, "client %s: send: %s", c->name, strerror(errno));
        return false;
    }
    memmove(c->out, c->out + sent, c->out_len - sent);
    c->out_len -= sent;
    return true;
}

/* Whether to read from C now: not while replies wait to be sent or received
 * bytes wait for room (back-pressure), and, once stopping, only after its
 * last reply, to see its FIN. */
static bool client_wants_input(const struct client *c, bool stopping)
{
    return !c->peer_closed && c->in_pos == c->in_len && c->out_len == 0 &&
           (!stopping || c->fin_sent);
}

/* Something happened on the client's socket (REVENTS from poll()), or the
 * server is stopping. False when the conversation is over. */
static bool client_serve(struct client *c, short revents, bool stopping, int64_t now)
{
    /* POLLHUP and POLLERR are read too: recv() then says what happened. */
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && client_wants_input(c, stopping)) {
        if (c->fin_sent)
            return client_discard(c);
        if (!client_read(c, now))
            return false;
    }
    /* Answer the lines received, as far as the replies can be sent. */
    do {
        client_take(c, now);
        if (c->out_len > 0 && !client_flush(c, now))
            return false;
    } while (c->in_pos < c->in_len && c->out_len == 0);

    bool all_answered = c->in_pos == c->in_len && c->out_len == 0;
    if (stopping && !c->fin_sent && all_answered) {
        if (c->peer_closed)
            return false;
        /* Every line read is answered: our FIN. Its FIN will end it. */
        if (shutdown(c->fd, SHUT_WR) < 0)
            return false;
        c->fin_sent = true;
    }
    return !(c->peer_closed && all_answered);
}

/* Why C is to be closed now for lack of progress, or NULL; *SINCE is how
 * long it has been so. */
static const char *client_timed_out(const struct client *c, const struct settings *set, int64_t now,
                                    int64_t *since)
{
    *since = now - c->last_active;
    if (*since >= set->idle_ms)
        return "sent and received nothing";
    *since = now - c->line_started;
    if (c->line_started > 0 && c->out_len == 0 && !c->fin_sent && *since >= set->line_ms)
        return "did not finish a line";
    return NULL;
}

/* When C's next time-out falls due, in ms. */
static int64_t client_due(const struct client *c, const struct settings *set)
{
    int64_t due = c->last_active + set->idle_ms;
    bool line_clock = c->line_started > 0 && c->out_len == 0 && !c->fin_sent;
    if (line_clock && c->line_started + set->line_ms < due)
        due = c->line_started + set->line_ms;
    return due;
}

/* ======================= Accepting ========================================= */

/* What accepting needs to remember between calls. */
struct acceptor {
    int listen_fd;     /* -1 once stopping */
    int reserve_fd;    /* a spare descriptor, given up to accept-and-close at EMFILE */
    bool short_of_fds; /* an EMFILE/ENFILE episode is going on */
    long turned_away;  /* clients closed at once during it */
    int64_t paused_until;
};

/* Make room in a full table: close the client idle the longest. */
static void evict_longest_idle(struct client *clients[], long max_clients, int64_t now)
{
    long oldest = 0;
    for (long slot = 1; slot < max_clients; slot++)
        if (clients[slot]->last_active < clients[oldest]->last_active)
            oldest = slot;
    log_limited(LIMIT_EVICT,
                "client %s: closed after %.1f s idle, to make room for a new client "
                "(all %ld places are taken; -c sets how many)",
                clients[oldest]->name, (double)(now - clients[oldest]->last_active) / 1000,
                max_clients);
    client_close(&clients[oldest]);
}

/* accept() failed with EMFILE or ENFILE: take the client on the reserve
 * descriptor and close it at once, so it hears "no" instead of waiting in the
 * backlog, and poll() does not wake us for it again and again. True if one
 * was turned away; false if nobody was waiting (accept() says EMFILE before
 * it looks), or the reserve could not be had back: then accepting pauses. */
static bool turn_away(struct acceptor *a, int64_t now)
{
    int accept_errno = errno, fd = -1;
    if (a->reserve_fd >= 0) {
        close(a->reserve_fd);
        fd = accept(a->listen_fd, NULL, NULL);
        if (fd >= 0)
            close(fd);
        a->reserve_fd = open("/dev/null", O_RDONLY);
    }
    if (a->reserve_fd < 0)
        a->paused_until = now + PAUSE_MS; /* not even that: wait, rather than spin */
    if ((fd >= 0 || a->reserve_fd < 0) && !a->short_of_fds) {
        log_note("accept: %s: closing new clients at once until a descriptor frees "
                 "(raise the limit with ulimit -n, or lower -c)",
                 strerror(accept_errno));
        a->short_of_fds = true;
        a->turned_away = 0;
    }
    a->turned_away += fd >= 0;
    return fd >= 0 && a->reserve_fd >= 0;
}

/* Accept the connections that are waiting. */
static void accept_clients(struct acceptor *a, struct client *clients[], long max_clients,
                           long *nclients, int64_t now)
{
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        int fd = accept(a->listen_fd, (struct sockaddr *)&addr, &addr_len);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return; /* nobody else is waiting */
            if (errno == EINTR || errno == ECONNABORTED)
                continue; /* that one gave up before we got to it: next */
            if (errno == EMFILE || errno == ENFILE) {
                if (turn_away(a, now))
                    continue;
                return;
            }
            log_limited(LIMIT_ACCEPT, "accept: %s (trying again in %d ms)", strerror(errno),
                        PAUSE_MS);
            a->paused_until = now + PAUSE_MS;
            return;
        }
        if (a->short_of_fds) {
            log_note("accept: descriptors are free again; %ld clients were turned away meanwhile",
                     a->turned_away);
            a->short_of_fds = false;
        }

        struct client *c = calloc(1, sizeof *c);
        if (c == NULL || set_nonblocking(fd) < 0 || no_sigpipe(fd) < 0) {
            log_limited(LIMIT_ACCEPT, "setting up a new client: %s (it is turned away)",
                        strerror(errno));
            free(c);
            close(fd);
            continue;
        }
        if (*nclients == max_clients) {
            evict_longest_idle(clients, max_clients, now);
            (*nclients)--;
        }
        long slot = 0;
        while (clients[slot] != NULL)
            slot++;
        c->fd = fd;
        c->last_active = now;
        name_client(c, &addr);
        clients[slot] = c;
        (*nclients)++;
        log_note("client %s: connected", c->name);
    }
}

/* ======================= The loop ========================================== */

/* Everything the loop works with. */
struct server {
    struct settings set;
    struct acceptor acc;
    int wakeup_read; /* read end of the self-pipe */
    struct client **clients;
    long nclients;
    struct pollfd *fds; /* 0: wakeup pipe, 1: listener, 2, 3: the logs, then clients */
    long *slot_of;      /* fds[i], from i = FIRST_CLIENT_FD, watches clients[slot_of[i]] */
    bool stopping;
    int64_t stop_deadline;
};

enum { FIRST_CLIENT_FD = 4 };

/* The first SIGINT or SIGTERM: no new clients (closing the listener makes the
 * kernel refuse them), and a deadline for the rest. */
static void server_begin_stop(struct server *sv, int64_t now)
{
    sv->stopping = true;
    sv->stop_deadline = now + sv->set.stop_ms;
    close(sv->acc.listen_fd);
    sv->acc.listen_fd = -1;
    log_note("%s: no new clients; answering the lines already read, then closing %ld connection%s "
             "(within %.1f s)",
             stop_signal == SIGINT ? "SIGINT" : "SIGTERM", sv->nclients,
             sv->nclients == 1 ? "" : "s", (double)sv->set.stop_ms / 1000);
}

/* Close the client in SLOT and forget it. */
static void server_drop(struct server *sv, long slot)
{
    client_close(&sv->clients[slot]);
    sv->nclients--;
}

/* Close the clients whose time is up, and fill sv->fds with what to watch:
 * the wakeup pipe; the listener, unless stopping or paused; the logs, while
 * they hold something; every client, for input while it may be read, for room
 * while replies wait. Return how many fds to watch; *DUE is when the next
 * time-out (or hidden-count report, or deadline) falls due, -1 if none. */
static nfds_t server_watch(struct server *sv, int64_t now, int64_t *due)
{
    struct acceptor *acc = &sv->acc;
    *due = sv->stopping ? sv->stop_deadline : limits_due();
    if (acc->paused_until > now && (*due < 0 || acc->paused_until < *due))
        *due = acc->paused_until;
    nfds_t nfds = FIRST_CLIENT_FD;
    for (long slot = 0; slot < sv->set.max_clients; slot++) {
        struct client *c = sv->clients[slot];
        if (c == NULL)
            continue;
        /* Stopping: a client with nothing in flight gets its answers and
         * our FIN now, as no event would come to make it happen. */
        if (sv->stopping && !c->fin_sent && c->out_len == 0 &&
            !client_serve(c, 0, sv->stopping, now)) {
            server_drop(sv, slot);
            continue;
        }
        int64_t since;
        const char *why = client_timed_out(c, &sv->set, now, &since);
        if (why != NULL) {
            log_limited(LIMIT_TIMEOUT, "client %s: closed: it %s for %.1f s (see -i and -l)",
                        c->name, why, (double)since / 1000);
            server_drop(sv, slot);
            continue;
        }
        int64_t c_due = client_due(c, &sv->set);
        if (*due < 0 || c_due < *due)
            *due = c_due;
        short events = (short)((client_wants_input(c, sv->stopping) ? POLLIN : 0) |
                               (c->out_len > 0 ? POLLOUT : 0));
        sv->slot_of[nfds] = slot;
        sv->fds[nfds++] = (struct pollfd){ .fd = c->fd, .events = events };
    }
    bool accepting = acc->listen_fd >= 0 && acc->paused_until <= now;
    sv->fds[0] = (struct pollfd){ .fd = sv->wakeup_read, .events = POLLIN };
    sv->fds[1] = (struct pollfd){ .fd = accepting ? acc->listen_fd : -1, .events = POLLIN };
    sv->fds[2] = (struct pollfd){ .fd = out_log.len > 0 ? out_log.fd : -1, .events = POLLOUT };
    sv->fds[3] = (struct pollfd){ .fd = err_log.len > 0 ? err_log.fd : -1, .events = POLLOUT };
    return nfds;
}

/* Act on what poll() reported in the first NFDS of sv->fds. */
static void server_serve(struct server *sv, nfds_t nfds, int64_t now)
{
    struct pollfd *fds = sv->fds;
    if (fds[0].revents & POLLIN) {
        char drain[64];
        while (read(sv->wakeup_read, drain, sizeof drain) > 0)
            continue;
    }
    if (fds[2].revents)
        log_flush(&out_log);
    if (fds[3].revents)
        log_flush(&err_log);
    for (nfds_t i = FIRST_CLIENT_FD; i < nfds; i++)
        if (fds[i].revents != 0 &&
            !client_serve(sv->clients[sv->slot_of[i]], fds[i].revents, sv->stopping, now))
            server_drop(sv, sv->slot_of[i]);
    if (fds[1].revents & POLLIN)
        accept_clients(&sv->acc, sv->clients, sv->set.max_clients, &sv->nclients, now);
}

/* The end: close what is left, say how the stop went, give the logs a last
 * chance (blocking, but bounded), and hand their descriptors back. */
static void server_end(struct server *sv, bool deadline_passed)
{
    long cut = 0;
    for (long slot = 0; slot < sv->set.max_clients; slot++)
        if (sv->clients[slot] != NULL) {
            server_drop(sv, slot);
            cut++;
        }
    const char *sig = stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
    if (stop_requests > 1)
        log_note("%s again: stopped at once, %ld connection%s cut", sig, cut, cut == 1 ? "" : "s");
    else if (deadline_passed && cut > 0)
        log_note("%s: the %.1f s to stop are over: %ld connection%s cut", sig,
                 (double)sv->set.stop_ms / 1000, cut, cut == 1 ? "" : "s");
    else
        log_note("%s: every connection closed in order, exiting", sig);
    if (sv->acc.listen_fd >= 0)
        close(sv->acc.listen_fd);
    if (sv->acc.reserve_fd >= 0)
        close(sv->acc.reserve_fd);
    close(sv->wakeup_read);
    close(wakeup_fd);
    free(sv->clients);
    free(sv->fds);
    free(sv->slot_of);

    for (int tries = 0; tries < 10 && (out_log.len > 0 || err_log.len > 0); tries++) {
        struct pollfd last[2] = { { .fd = out_log.len > 0 ? out_log.fd : -1, .events = POLLOUT },
                                  { .fd = err_log.len > 0 ? err_log.fd : -1, .events = POLLOUT } };
        if (poll(last, 2, 100) > 0) {
            log_flush(&out_log);
            log_flush(&err_log);
        }
    }
    log_close(&err_log); /* in this order: they may share one descriptor */
    log_close(&out_log);
}

int main(int argc, char *argv[])
{
    struct server sv = { .set = parse_arguments(argc, argv) };
    log_open(&out_log);
    log_open(&err_log);
    sv.wakeup_read = catch_signals();
    raise_file_limit(sv.set.max_clients + FIXED_FDS);
    sv.acc.listen_fd = listen_on(sv.set.port);
    sv.acc.reserve_fd = open("/dev/null", O_RDONLY);
    sv.clients = calloc((size_t)sv.set.max_clients, sizeof *sv.clients);
    sv.fds = calloc((size_t)sv.set.max_clients + FIRST_CLIENT_FD, sizeof *sv.fds);
    sv.slot_of = calloc((size_t)sv.set.max_clients + FIRST_CLIENT_FD, sizeof *sv.slot_of);
    if (sv.clients == NULL || sv.fds == NULL || sv.slot_of == NULL)
        die("calloc", "ask for fewer clients with -c");

    bool deadline_passed = false;
    while (stop_requests < 2) { /* a second signal: stop at once */
        int64_t now = now_ms(), due;
        if (stop_requests == 1 && !sv.stopping)
            server_begin_stop(&sv, now);
        if (sv.stopping && (deadline_passed = now >= sv.stop_deadline))
            break;
        nfds_t nfds = server_watch(&sv, now, &due);
        if (sv.stopping && sv.nclients == 0)
            break;
        int ready = poll(sv.fds, nfds, due < 0 ? -1 : due <= now ? 0 : (int)(due - now));
        if (ready < 0) {
            if (errno == EINTR)
                continue; /* a signal: the top of the loop looks at it */
            die("poll", "this should not happen; report it");
        }
        now = now_ms();
        limits_report(now);
        server_serve(&sv, nfds, now);
    }
    server_end(&sv, deadline_passed);
    return 0;
}
