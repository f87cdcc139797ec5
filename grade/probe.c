/*
 * probe: run one grading scenario against a line server, and say PASS or FAIL.
 *
 * The server under test is any program that takes a TCP port as its first
 * argument, listens on it, and answers each line a client sends with "done\n".
 * For one scenario the probe
 *
 *   1. makes a private network namespace and uses port 4242 there (so runs
 *      never clash over ports, and no traffic leaves it); with --port it uses
 *      that port in the current namespace, and where no namespace can be
 *      made, a free port of the host's loopback;
 *   2. starts the server there, with every signal at its default action (an
 *      ignored SIGPIPE survives exec and would hide the very bug we look for),
 *      in a process group of its own, and waits until it listens;
 *   3. plays the scenario's clients against it;
 *   4. checks the server afterwards: alive, not spinning (CPU time per second
 *      from /proc over half a second), and serving a fresh client;
 *   5. kills the server's whole process group and reaps everything.
 *
 * It prints "PASS NAME", or "FAIL NAME: reason" followed by indented lines of
 * evidence, and exits 0 (pass), 1 (fail), 2 (usage) or 3 (the scenario could
 * not be run at all: the probe's own failure, not the server's).
 *
 * Nothing the probe starts outlives it: the server dies with the probe
 * (PR_SET_PDEATHSIG), SIGINT, SIGTERM and SIGHUP kill the server's process
 * group before the probe dies, and the probe is a child subreaper, so a
 * forking server's orphans come back to it to be killed and reaped.
 *
 * Usage: probe [--port PORT] SCENARIO SERVER     run one scenario
 *        probe --list                            the scenarios, in order
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

enum {
    NETNS_PORT = 4242,      /* the port in a private namespace: not 3333, so a
                               server that ignores its argument is caught */
    LISTEN_WAIT_MS = 5000,  /* how long a server may take to listen */
    REPLY_MS = 1000,        /* how long a reply may take */
    SURPLUS_MS = 200,       /* how long we look for replies nobody asked for */
    CPU_WINDOW_MS = 500,    /* the window over which CPU use is measured */
    MANY_CLIENTS = 20,      /* clients connected at once */
    MANY_LINES = 3,         /* lines each of them sends */
    MANY_MS = 3000,         /* bound for all of them (a dropped SYN costs 1 s) */
    LONG_LINE_BYTES = 10000,
    MAX_FINDINGS = 6,
    MAX_EVIDENCE = 12,
    TEXT_MAX = 256,
    STDERR_KEPT = 1024,     /* bytes of the server's stderr kept as evidence */
};

#define CPU_LIMIT 0.2       /* CPU-seconds per second: above this, it spins */

/* What the signal handler kills before the probe dies. */
static volatile sig_atomic_t server_pgid;
static volatile sig_atomic_t client_pid;

/* --- one scenario run: the server, and what was found -------------------------- */

struct run {
    const char *name;
    const char *server_path;
    int port;
    int family;             /* how the server is reached: AF_INET (127.0.0.1) or AF_INET6 (::1) */
    bool private_netns;

    pid_t pid;              /* the server; also its process group */
    bool reaped;
    int status;             /* wait status, once reaped */
    int err_fd;             /* read end of the server's stderr pipe, or -1 */
    char err[STDERR_KEPT + 1];
    size_t err_len;

    bool death_reported;
    char findings[MAX_FINDINGS][TEXT_MAX];
    int nfindings;
    char evidence[MAX_EVIDENCE][TEXT_MAX];
    int nevidence;
};

/* Print "probe: WHAT: strerror(errno)" and exit 3: the scenario could not run. */
static _Noreturn void die(const char *what)
{
    fprintf(stderr, "probe: %s: %s (the scenario could not be run; this is not the server's fault)\n",
            what, strerror(errno));
    if (server_pgid > 0)
        kill(-server_pgid, SIGKILL);
    if (client_pid > 0)
        kill(client_pid, SIGKILL);
    exit(3);
}

static void vadd(char (*list)[TEXT_MAX], int *n, int max, const char *fmt, va_list ap)
{
    if (*n < max)
        vsnprintf(list[(*n)++], TEXT_MAX, fmt, ap);
}

/* A reason the scenario fails; the first ones go on the FAIL line. */
__attribute__((format(printf, 2, 3))) static void finding(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(r->findings, &r->nfindings, MAX_FINDINGS, fmt, ap);
    va_end(ap);
}

/* A line of evidence, printed under the FAIL line. */
__attribute__((format(printf, 2, 3))) static void evidence(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(r->evidence, &r->nevidence, MAX_EVIDENCE, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        die("clock_gettime");
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Printable form of N bytes: escapes for anything not plain ASCII. */
static void printable(char *out, size_t cap, const char *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\n')
            o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (isprint(c) && c != '\\' && c != '"')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

/* --- the server's standard error, drained while we wait -------------------------- */

/*
 * The server's stderr is a pipe that every wait below drains, so a server
 * that writes a lot never blocks on it (which would hide a busy loop) and
 * never fills a disk; the first STDERR_KEPT bytes are kept as evidence.
 */
static void drain_stderr(struct run *r)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(r->err_fd, buf, sizeof buf);
        if (n > 0) {
            size_t keep = STDERR_KEPT - r->err_len;
            if ((size_t)n < keep)
                keep = (size_t)n;
            memcpy(r->err + r->err_len, buf, keep);
            r->err_len += keep;
            r->err[r->err_len] = '\0';
            continue;
        }
        if (n == 0 || (n < 0 && errno != EINTR)) {
            if (n == 0 || errno != EAGAIN) {
                close(r->err_fd);
                r->err_fd = -1;
            }
            return;
        }
    }
}

/*
 * Wait until one of FDS has an event or DEADLINE (now_ms) passes, draining
 * the server's stderr meanwhile. Returns the number of FDS with events (0 on
 * timeout). With no FDS it is a sleep that keeps draining.
 */
static int wait_fds(struct run *r, struct pollfd *fds, int nfds, int64_t deadline)
{
    struct pollfd all[MANY_CLIENTS + 2];
    if (nfds > MANY_CLIENTS + 1) {
        errno = EINVAL;
        die("wait_fds: too many descriptors");
    }
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        if (nfds > 0)
            memcpy(all, fds, (size_t)nfds * sizeof *fds);
        int n = nfds;
        if (r->err_fd >= 0)
            all[n++] = (struct pollfd){.fd = r->err_fd, .events = POLLIN};
        int ready = poll(all, (nfds_t)n, (int)left);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (n > nfds && all[nfds].revents)
            drain_stderr(r);
        int mine = 0;
        for (int i = 0; i < nfds; i++) {
            fds[i].revents = all[i].revents;
            mine += fds[i].revents != 0;
        }
        if (mine > 0 || left == 0)
            return mine;
    }
}

static void pause_ms(struct run *r, int ms) { wait_fds(r, NULL, 0, now_ms() + ms); }

/* --- the network namespace ------------------------------------------------------------ */

/*
 * The TCP ports in state LISTEN in this namespace (from /proc/net/tcp and
 * tcp6), into PORTS (up to CAP), each with its address family in FAMILIES
 * (when not NULL); returns how many there are.
 */
static int listening_ports(int *ports, int *families, int cap)
{
    static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    static const int table_family[] = {AF_INET, AF_INET6};
    int n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        FILE *f = fopen(tables[t], "re");
        if (!f)
            continue; /* no IPv6 on this system */
        char line[512];
        while (fgets(line, sizeof line, f)) {
            unsigned port, state;
            if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &port, &state) != 2)
                continue; /* the header line */
            if (state == 0x0A && n < cap) {
                if (families)
                    families[n] = table_family[t];
                ports[n++] = (int)port;
            }
        }
        fclose(f);
    }
    return n;
}

/*
 * The family to reach a server listening on PORT by: AF_INET (127.0.0.1)
 * if it listens on IPv4, else AF_INET6 (::1) if it listens on IPv6 only;
 * 0 if it does not listen.
 */
static int listening_family(int port)
{
    int ports[256], families[256], found = 0;
    int n = listening_ports(ports, families, 256);
    for (int i = 0; i < n; i++)
        if (ports[i] == port && (!found || families[i] == AF_INET))
            found = families[i];
    return found;
}

/* A port in 20000-32767 (below the ephemeral range) that nothing uses now. */
static int pick_free_port(void)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        int port = 20000 + (int)(((unsigned)getpid() * 7919u + (unsigned)now_ms() * 31u + (unsigned)attempt * 104729u) % 12768u);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            die("socket");
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_ANY)};
        int rc = bind(s, (struct sockaddr *)&a, sizeof a);
        close(s);
        if (rc == 0)
            return port;
    }
    errno = EADDRINUSE;
    die("no free port between 20000 and 32767");
}

/* --- the server process ------------------------------------------------------------------ */

static void describe_status(int status, char *out, size_t cap)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *name = sigabbrev_np(sig);
        snprintf(out, cap, "killed by SIG%s (status %d)", name ? name : "?", 128 + sig);
    } else {
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    }
}

/* Has the server ended? Reaps it if so. */
static bool server_gone(struct run *r)
{
    if (r->reaped)
        return true;
    pid_t w;
    do
        w = waitpid(r->pid, &r->status, WNOHANG);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        die("waitpid (server)");
    if (w == r->pid)
        r->reaped = true;
    return r->reaped;
}

/* If the server has died, say so once, first among the findings. */
static bool report_death(struct run *r, const char *when)
{
    if (!server_gone(r))
        return false;
    if (r->death_reported)
        return true;
    r->death_reported = true;
    char fate[64];
    describe_status(r->status, fate, sizeof fate);
    /* The death explains everything after it: put it first. */
    if (r->nfindings == MAX_FINDINGS)
        r->nfindings--;
    memmove(r->findings[1], r->findings[0], (size_t)r->nfindings * TEXT_MAX);
    snprintf(r->findings[0], TEXT_MAX, "the server was %s %s", fate, when);
    r->nfindings++;
    evidence(r, "server: %s", fate);
    if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGPIPE)
        evidence(r, "why: it wrote to a connection whose peer had gone, and SIGPIPE's default action ends the process");
    return true;
}

/* A pipe (both ends close on exec), then fork(): the child's pid, or 0 in the child. */
static pid_t fork_with_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        die("pipe2");
    if (fflush(stdout) == EOF) /* or the child would print it again */
        die("fflush");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

static void start_server(struct run *r)
{
    char port_arg[16];
    snprintf(port_arg, sizeof port_arg, "%d", r->port);
    pid_t parent = getpid();
    int pipefd[2];
    pid_t pid = fork_with_pipe(pipefd);
    if (pid == 0) {
        /* Its own process group, so the whole of it can be killed at once. */
        setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(127);
        /* Every signal at its default action and unblocked, as from a fresh shell. */
        for (int sig = 1; sig < NSIG; sig++)
            signal(sig, SIG_DFL); /* fails harmlessly for SIGKILL, SIGSTOP, and realtime gaps */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0 ||
            dup2(pipefd[1], STDERR_FILENO) < 0)
            _exit(127);
        /* Only the three standard descriptors, whatever the probe inherited. */
        if (close_range(3, ~0u, 0) < 0)
            for (int fd = 3; fd < 1024; fd++)
                close(fd);
        char *argv[] = {(char *)r->server_path, port_arg, NULL};
        execv(r->server_path, argv);
        dprintf(STDERR_FILENO, "probe: cannot run %s: %s\n", r->server_path, strerror(errno));
        _exit(127);
    }
    if (setpgid(pid, pid) < 0 && errno != EACCES && errno != ESRCH)
        die("setpgid"); /* EACCES: the child has already exec'd, having done it itself */
    r->pid = pid;
    server_pgid = pid;
    close(pipefd[1]);
    r->err_fd = pipefd[0];
    int flags = fcntl(r->err_fd, F_GETFL);
    if (flags < 0 || fcntl(r->err_fd, F_SETFL, flags | O_NONBLOCK) < 0)
        die("fcntl O_NONBLOCK");
}

/* Wait until the server listens on its port. False (with findings) if it does not. */
static bool await_listening(struct run *r)
{
    int64_t deadline = now_ms() + LISTEN_WAIT_MS;
    while (!(r->family = listening_family(r->port))) {
        if (report_death(r, "before it listened")) {
            evidence(r, "it was started as: %s %d", r->server_path, r->port);
            return false;
        }
        if (now_ms() >= deadline) {
            finding(r, "the server did not listen on port %d (its first argument) within %d s", r->port,
                    LISTEN_WAIT_MS / 1000);
            if (r->private_netns) {
                int ports[16];
                int n = listening_ports(ports, NULL, 16);
                for (int i = 0; i < n; i++)
                    evidence(r, "it listens on port %d instead: it must take the port from argv[1]", ports[i]);
            }
            return false;
        }
        pause_ms(r, 10);
    }
    return true;
}

/*
 * From /proc/PID/stat (PID a directory name under /proc): state, parent,
 * process group, and CPU ticks (user + system). False if it has gone.
 */
static bool proc_stat(const char *pid, char *state, int *ppid, int *pgrp, long long *ticks)
{
    char path[300], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false; /* it ended meanwhile */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* After "pid (comm) ": state ppid pgrp ...; utime is field 14, stime 15. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 1, " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", state, ppid, pgrp, &utime,
                     &stime) != 5)
        return false;
    *ticks = (long long)(utime + stime);
    return true;
}

/* CPU ticks (user + system) of every live process in the server's group. */
static long long group_ticks(pid_t pgid)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        die("opendir /proc");
    long long total = 0;
    struct dirent *de;
    while ((de = readdir(proc))) {
        char state;
        int ppid, pgrp;
        long long ticks;
        if (isdigit((unsigned char)de->d_name[0]) && proc_stat(de->d_name, &state, &ppid, &pgrp, &ticks) &&
            pgrp == pgid && state != 'Z')
            total += ticks;
    }
    closedir(proc);
    return total;
}

/*
 * Kill the server's process group, any orphan of it that came back to us
 * (we are a subreaper), and reap them all. Bounded: 2 s at most.
 */
static void stop_server(struct run *r)
{
    if (r->pid > 0)
        kill(-r->pid, SIGKILL);
    int64_t deadline = now_ms() + 2000;
    while (now_ms() < deadline) {
        /* Descendants that left the group (setsid) are still our children. */
        DIR *proc = opendir("/proc");
        if (proc) {
            struct dirent *de;
            while ((de = readdir(proc))) {
                char state;
                int ppid, pgrp;
                long long ticks;
                if (isdigit((unsigned char)de->d_name[0]) &&
                    proc_stat(de->d_name, &state, &ppid, &pgrp, &ticks) && ppid == getpid())
                    kill(atoi(de->d_name), SIGKILL);
            }
            closedir(proc);
        }
        int status;
        pid_t w = waitpid(-1, &status, WNOHANG);
        if (w < 0 && errno == ECHILD)
            break;
        if (w == r->pid && !r->reaped) {
            r->reaped = true;
            r->status = status;
        }
        if (w <= 0)
            pause_ms(r, 10);
    }
    server_pgid = 0;
    if (r->err_fd >= 0) {
        drain_stderr(r);
        if (r->err_fd >= 0)
            close(r->err_fd);
        r->err_fd = -1;
    }
}

/* --- clients ------------------------------------------------------------------------------ */

/* One client connection and what came back on it. */
struct conn {
    int fd;
    char line[128];         /* the reply line being received */
    size_t line_len;
    int dones;              /* "done" lines received */
    bool eof;               /* the server closed the connection */
    int err;                /* errno of a failed call, or 0 */
    const char *failed;     /* which call failed */
    char bad[TEXT_MAX / 2]; /* the first reply that was not "done" */
};

static void conn_fail(struct conn *c, const char *call)
{
    if (!c->err) {
        c->err = errno;
        c->failed = call;
    }
}

/* Start connecting C to the server: 1 connected, 0 in progress, -1 failed (c->err). */
static int conn_start(const struct run *r, struct conn *c)
{
    memset(c, 0, sizeof *c);
    int family = r->family ? r->family : AF_INET;
    c->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket");
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)r->port),
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int rc = family == AF_INET6 ? connect(c->fd, (struct sockaddr *)&a6, sizeof a6)
                                : connect(c->fd, (struct sockaddr *)&a4, sizeof a4);
    if (rc == 0)
        return 1;
    if (errno == EINPROGRESS)
        return 0;
    conn_fail(c, "connect");
    return -1;
}

/* Once a connect in progress is writable: did it succeed? (c->err if not) */
static bool conn_connected(struct conn *c)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        die("getsockopt SO_ERROR");
    if (soerr == 0)
        return true;
    errno = soerr;
    conn_fail(c, "connect");
    return false;
}

/* Wait for EVENTS on C by DEADLINE; false (c->err ETIMEDOUT in CALL) if they do not come. */
static bool conn_wait(struct run *r, struct conn *c, short events, int64_t deadline, const char *call)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    if (wait_fds(r, &p, 1, deadline) > 0)
        return true;
    errno = ETIMEDOUT;
    conn_fail(c, call);
    return false;
}

/* Connect to the server; false (with c->err) if that fails by DEADLINE. */
static bool conn_open(struct run *r, struct conn *c, int64_t deadline)
{
    int started = conn_start(r, c);
    return started > 0 || (started == 0 && conn_wait(r, c, POLLOUT, deadline, "connect") && conn_connected(c));
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0 && close(c->fd) < 0 && errno != EINTR)
        die("close");
    c->fd = -1;
}

/* Close with SO_LINGER {1, 0}: the kernel sends RST instead of FIN. */
static void conn_abort(struct conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        die("setsockopt SO_LINGER");
    conn_close(c);
}

/* Send all of BUF by DEADLINE; false (with c->err) if that fails. */
static bool conn_send(struct run *r, struct conn *c, const char *buf, size_t len, int64_t deadline)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(c->fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            conn_fail(c, "send");
            return false;
        }
        if (!conn_wait(r, c, POLLOUT, deadline, "send"))
            return false;
    }
    return true;
}

/* Take what has arrived on C without waiting, counting "done" lines. */
static void conn_take(struct conn *c)
{
    char buf[4096];
    while (!c->eof && !c->err) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n == 0) {
            c->eof = true;
        } else if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                conn_fail(c, "recv");
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (c->line_len < sizeof c->line)
                    c->line[c->line_len] = buf[i];
                c->line_len++;
                continue;
            }
            if (c->line_len == 4 && memcmp(c->line, "done", 4) == 0)
                c->dones++;
            else if (!c->bad[0])
                printable(c->bad, sizeof c->bad, c->line,
                          c->line_len < sizeof c->line ? c->line_len : sizeof c->line);
            c->line_len = 0;
        }
    }
}

/* Read replies until C has WANT "done" lines, or EOF, an error or DEADLINE. */
static void conn_expect(struct run *r, struct conn *c, int want, int64_t deadline)
{
    for (;;) {
        conn_take(c);
        if (c->dones >= want || c->eof || c->err)
            return;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (wait_fds(r, &p, 1, deadline) == 0)
            return; /* a timeout is not an error here: the caller counts replies */
    }
}

/* Why C did not get WANT replies within MS, in a few words. */
static const char *conn_why(const struct conn *c, int want, int ms, char *out, size_t cap)
{
    if (c->bad[0])
        snprintf(out, cap, "it replied \"%s\" where \"done\" was due", c->bad);
    else if (c->err && strcmp(c->failed, "connect") == 0)
        snprintf(out, cap, "connect failed: %s", strerror(c->err));
    else if (c->err)
        snprintf(out, cap, "%s failed: %s after %d of %d replies", c->failed, strerror(c->err), c->dones, want);
    else if (c->eof)
        snprintf(out, cap, "the server closed the connection after %d of %d replies", c->dones, want);
    else
        snprintf(out, cap, "%d of %d replies within %.1f s", c->dones, want, ms / 1000.0);
    return out;
}

/*
 * Connect C, send the one line LINE, and wait for its "done": true if exactly
 * that came back within REPLY_MS (C stays open either way).
 */
static bool conn_line(struct run *r, struct conn *c, const char *line)
{
    int64_t deadline = now_ms() + REPLY_MS;
    if (conn_open(r, c, deadline) && conn_send(r, c, line, strlen(line), deadline))
        conn_expect(r, c, 1, deadline);
    return c->dones == 1 && !c->bad[0];
}

/*
 * One whole conversation: connect, send LINE, expect one "done", close.
 * False (with a finding that starts with WHO) if anything goes wrong.
 */
static bool served(struct run *r, const char *who, const char *line)
{
    struct conn c;
    char why[TEXT_MAX];
    bool ok = conn_line(r, &c, line);
    if (!ok)
        finding(r, "%s was not served: %s", who, conn_why(&c, 1, REPLY_MS, why, sizeof why));
    conn_close(&c);
    return ok;
}

/* --- after every scenario: alive, not spinning, serving ------------------------------------------ */

static void check_after(struct run *r, const char *what_happened)
{
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        die("sysconf _SC_CLK_TCK");
    /* The window also gives a server that is about to die the time to do so. */
    int64_t t0 = now_ms();
    long long ticks0 = group_ticks(r->pid);
    pause_ms(r, CPU_WINDOW_MS);
    long long ticks1 = group_ticks(r->pid);
    int64_t t1 = now_ms();
    char when[TEXT_MAX];
    snprintf(when, sizeof when, "after %s", what_happened);
    if (report_death(r, when))
        return;
    double cpu = ((double)(ticks1 - ticks0) / (double)hz) / ((double)(t1 - t0) / 1000.0);
    if (cpu >= CPU_LIMIT) {
        finding(r, "the server spins after %s: %.2f CPU-seconds per second with no client connected", what_happened,
                cpu);
        evidence(r, "cpu: %lld ticks at %ld Hz in %.2f s = %.2f s/s (a waiting server uses about 0; limit %.2f)",
                 ticks1 - ticks0, hz, (double)(t1 - t0) / 1000.0, cpu, CPU_LIMIT);
        return; /* the verdict is in; a next client would only add a second to wait */
    }
    if (!served(r, "the next client", "next client\n"))
        report_death(r, "when the next client came");
}

/* --- the scenarios ---------------------------------------------------------------------- */

/* 1. A client that sends a line, reads its "done" and closes. */
static void sc_leaves_normally(struct run *r)
{
    if (!served(r, "a client", "hello\n"))
        report_death(r, "while serving the first client");
    check_after(r, "a client left normally");
}

/* 2. A client that sends a line and closes at once, before the reply. */
static void sc_leaves_mid_reply(struct run *r)
{
    struct conn c;
    if (conn_open(r, &c, now_ms() + REPLY_MS))
        conn_send(r, &c, "hello\n", 6, now_ms() + REPLY_MS);
    char why[TEXT_MAX];
    if (c.err)
        finding(r, "the client could not send its line: %s", conn_why(&c, 0, REPLY_MS, why, sizeof why));
    conn_close(&c);
    check_after(r, "a client left before its reply");
}

/* The client process of scenario 3: it reports on PIPE, then waits to be killed. */
static _Noreturn void killed_client(struct run *r, int report_fd)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    server_pgid = 0; /* the server is the parent's to kill, not ours */
    if (r->err_fd >= 0)
        close(r->err_fd);
    r->err_fd = -1;
    struct conn c;
    char msg[TEXT_MAX] = "ok\n";
    if (!conn_line(r, &c, "hello\n")) {
        char why[TEXT_MAX - 8];
        snprintf(msg, sizeof msg, "%s\n", conn_why(&c, 1, REPLY_MS, why, sizeof why));
    }
    if (write(report_fd, msg, strlen(msg)) < 0)
        _exit(1);
    for (;;)
        pause(); /* connected, until SIGKILL */
}

/* 3. A client process that is killed with SIGKILL while connected. */
static void sc_client_killed(struct run *r)
{
    int report[2];
    pid_t pid = fork_with_pipe(report);
    if (pid == 0) {
        close(report[0]);
        killed_client(r, report[1]);
    }
    client_pid = pid;
    close(report[1]);
    char msg[TEXT_MAX] = "";
    size_t len = 0;
    int64_t deadline = now_ms() + 2 * REPLY_MS;
    struct pollfd p = {.fd = report[0], .events = POLLIN};
    while (len < sizeof msg - 1 && !memchr(msg, '\n', len) && wait_fds(r, &p, 1, deadline) > 0) {
        ssize_t n = read(report[0], msg + len, sizeof msg - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        msg[len] = '\0';
    }
    close(report[0]);
    if (kill(pid, SIGKILL) < 0)
        die("kill (client)");
    while (waitpid(pid, NULL, 0) < 0)
        if (errno != EINTR)
            die("waitpid (client)");
    client_pid = 0;
    msg[strcspn(msg, "\n")] = '\0';
    if (strcmp(msg, "ok") != 0) {
        finding(r, "the client got no reply before it was killed: %s", msg[0] ? msg : "it did not say why");
        report_death(r, "while the client was connected");
    }
    check_after(r, "a client was killed with SIGKILL");
}

/* 4. A client that leaves its reply unread and closes: its kernel sends RST. */
static void sc_unread_reply_rst(struct run *r)
{
    struct conn c;
    char why[TEXT_MAX];
    int64_t deadline = now_ms() + REPLY_MS;
    if (conn_open(r, &c, deadline) && conn_send(r, &c, "hello\n", 6, deadline)) {
        if (!conn_wait(r, &c, POLLIN, deadline, "waiting for the reply"))
            finding(r, "no reply arrived within %.1f s", REPLY_MS / 1000.0);
    } else {
        finding(r, "the client could not send its line: %s", conn_why(&c, 0, REPLY_MS, why, sizeof why));
    }
    conn_close(&c); /* the reply is still unread: RST, not FIN */
    check_after(r, "a client closed with its reply unread (RST)");
}

/* 5. An abortive close (SO_LINGER {1, 0}: RST) right after connecting. */
static void sc_abort_before_send(struct run *r)
{
    struct conn c;
    char why[TEXT_MAX];
    if (!conn_open(r, &c, now_ms() + REPLY_MS))
        finding(r, "the client could not connect: %s", conn_why(&c, 0, REPLY_MS, why, sizeof why));
    else
        conn_abort(&c);
    conn_close(&c);
    check_after(r, "a client reset the connection before sending anything");
}

/* 6. An abortive close after a line and its reply. */
static void sc_abort_after_send(struct run *r)
{
    struct conn c;
    char why[TEXT_MAX];
    if (!conn_line(r, &c, "hello\n")) {
        finding(r, "the client was not served: %s", conn_why(&c, 1, REPLY_MS, why, sizeof why));
        conn_close(&c);
    } else {
        conn_abort(&c);
    }
    check_after(r, "a client reset the connection after its reply");
}

/*
 * Send LINE (WHAT says what it is) and expect exactly one "done": one must
 * come, and no second in the little while after it. Then the line "after\n"
 * must be answered too: the server is still in step with its client.
 */
static void one_reply(struct run *r, const char *line, size_t len, const char *what)
{
    struct conn c;
    char why[TEXT_MAX];
    int64_t deadline = now_ms() + REPLY_MS;
    if (conn_open(r, &c, deadline) && conn_send(r, &c, line, len, deadline)) {
        conn_expect(r, &c, 1, deadline);
        if (c.dones == 1 && !c.eof && !c.err)
            conn_expect(r, &c, INT_MAX, now_ms() + SURPLUS_MS); /* count them all */
    }
    if (c.bad[0] || c.dones < 1) {
        finding(r, "%s: %s", what, conn_why(&c, 1, REPLY_MS, why, sizeof why));
        report_death(r, "while serving that client");
    } else if (c.dones > 1) {
        finding(r, "%s got %d replies (one \"done\" a line, however long)", what, c.dones);
        evidence(r, "replies: %d \"done\" for the one line of %zu bytes", c.dones, len);
    } else {
        deadline = now_ms() + REPLY_MS;
        if (conn_send(r, &c, "after\n", 6, deadline))
            conn_expect(r, &c, 2, deadline);
        if (c.bad[0] || c.dones < 2) {
            finding(r, "the line after %s was not answered: %s", what, conn_why(&c, 2, REPLY_MS, why, sizeof why));
            report_death(r, "while serving that client");
        }
    }
    conn_close(&c);
}

/* 7. A line longer than any sensible buffer. */
static void sc_long_line(struct run *r)
{
    static char line[LONG_LINE_BYTES + 1];
    memset(line, 'x', LONG_LINE_BYTES);
    line[LONG_LINE_BYTES] = '\n';
    one_reply(r, line, sizeof line, "a line of 10000 bytes");
    check_after(r, "a client sent a 10000-byte line");
}

/* 8. NUL and non-ASCII bytes in a line. */
static void sc_binary_bytes(struct run *r)
{
    static const char line[] = "bin\0ary \xff\xfe\x01 bytes\n";
    one_reply(r, line, sizeof line - 1, "a line with NUL and 0xff bytes");
    check_after(r, "a client sent NUL and 0xff bytes");
}

/*
 * 9. MANY_CLIENTS clients connected at the same time, each sending MANY_LINES
 * lines one after the other (the next once the last was answered). All stay
 * connected until every one is done, so a server that serves one client at a
 * time serves only the first.
 */
static void sc_many_clients(struct run *r)
{
    struct conn c[MANY_CLIENTS];
    bool connected[MANY_CLIENTS];
    int sent[MANY_CLIENTS];
    int64_t deadline = now_ms() + MANY_MS;
    for (int i = 0; i < MANY_CLIENTS; i++) {
        connected[i] = conn_start(r, &c[i]) > 0;
        sent[i] = 0;
    }
    for (;;) {
        struct pollfd p[MANY_CLIENTS];
        int finished = 0;
        for (int i = 0; i < MANY_CLIENTS; i++) {
            struct conn *k = &c[i];
            p[i] = (struct pollfd){.fd = -1};
            if (k->err || k->eof || k->bad[0] || k->dones >= MANY_LINES) {
                finished++;
                continue;
            }
            if (!connected[i]) {
                p[i] = (struct pollfd){.fd = k->fd, .events = POLLOUT};
                continue;
            }
            if (sent[i] == k->dones) {
                char line[32];
                int n = snprintf(line, sizeof line, "client %d line %d\n", i + 1, sent[i] + 1);
                /* A short line on a fresh socket: the send buffer takes it whole. */
                if (!conn_send(r, k, line, (size_t)n, deadline))
                    continue;
                sent[i]++;
            }
            p[i] = (struct pollfd){.fd = k->fd, .events = POLLIN};
        }
        if (finished == MANY_CLIENTS || wait_fds(r, p, MANY_CLIENTS, deadline) == 0)
            break;
        for (int i = 0; i < MANY_CLIENTS; i++) {
            if (!p[i].revents)
                continue;
            if (!connected[i])
                connected[i] = conn_connected(&c[i]);
            else
                conn_take(&c[i]);
        }
    }

    /* Tally: how many got everything, and what the others got. */
    int complete = 0, never_connected = 0;
    int by_replies[MANY_LINES + 1] = {0};
    for (int i = 0; i < MANY_CLIENTS; i++) {
        if (!connected[i])
            never_connected++;
        else if (c[i].dones >= MANY_LINES && !c[i].bad[0])
            complete++;
        by_replies[c[i].dones > MANY_LINES ? MANY_LINES : c[i].dones]++;
    }
    if (complete < MANY_CLIENTS) {
        finding(r, "%d of %d clients connected at once got their %d replies within %.1f s (clients served one at a time?)",
                complete, MANY_CLIENTS, MANY_LINES, MANY_MS / 1000.0);
        char tally[TEXT_MAX];
        size_t o = (size_t)snprintf(tally, sizeof tally, "replies per client:");
        for (int k = MANY_LINES; k >= 0; k--)
            if (by_replies[k] && o < sizeof tally)
                o += (size_t)snprintf(tally + o, sizeof tally - o, " %d client%s got %d;", by_replies[k],
                                      by_replies[k] == 1 ? "" : "s", k);
        evidence(r, "%s", tally);
        if (never_connected)
            evidence(r, "%d client%s could not even connect in time", never_connected,
                     never_connected == 1 ? "" : "s");
        for (int i = 0; i < MANY_CLIENTS; i++) {
            char why[TEXT_MAX];
            if (c[i].bad[0] || (c[i].err && connected[i])) {
                evidence(r, "client %d: %s", i + 1, conn_why(&c[i], MANY_LINES, MANY_MS, why, sizeof why));
                break;
            }
        }
        report_death(r, "while many clients were connected");
    }
    for (int i = 0; i < MANY_CLIENTS; i++)
        conn_close(&c[i]);
    check_after(r, "many clients left");
}

/* 10. A second client while the first is connected and idle. */
static void sc_second_client(struct run *r)
{
    struct conn first, second;
    char why[TEXT_MAX];
    if (!conn_line(r, &first, "first\n")) {
        finding(r, "the first client was not served: %s", conn_why(&first, 1, REPLY_MS, why, sizeof why));
        report_death(r, "while serving the first client");
    } else {
        if (!conn_line(r, &second, "second\n")) {
            finding(r, "a second client got no reply while the first stayed connected and idle: %s "
                       "(clients served one at a time?)",
                    conn_why(&second, 1, REPLY_MS, why, sizeof why));
            report_death(r, "while two clients were connected");
        }
        conn_close(&second);
    }
    conn_close(&first);
    check_after(r, "two clients left");
}

static const struct scenario {
    const char *name;
    void (*run)(struct run *);
    const char *what;
} SCENARIOS[] = {
    {"leaves-normally", sc_leaves_normally, "a client sends a line, reads its done, and closes"},
    {"leaves-mid-reply", sc_leaves_mid_reply, "a client sends a line and closes at once, before the reply"},
    {"client-killed", sc_client_killed, "a client process is killed (SIGKILL) while connected"},
    {"unread-reply-rst", sc_unread_reply_rst, "a client closes with its reply unread: its kernel sends RST"},
    {"abort-before-send", sc_abort_before_send, "a client resets (SO_LINGER {1,0}) right after connecting"},
    {"abort-after-send", sc_abort_after_send, "a client resets after a line and its reply"},
    {"long-line", sc_long_line, "a 10000-byte line gets exactly one done; the next line is answered"},
    {"binary-bytes", sc_binary_bytes, "a line with NUL and 0xff bytes gets one done; the next line too"},
    {"many-clients", sc_many_clients, "20 clients connected at once, 3 lines each, all answered within 3 s"},
    {"second-client", sc_second_client, "a second client is served within 1 s while the first sits idle"},
};
#define NSCENARIOS (sizeof SCENARIOS / sizeof *SCENARIOS)

/* --- main ------------------------------------------------------------------------------------ */

static void on_fatal_signal(int sig)
{
    if (server_pgid > 0)
        kill(-server_pgid, SIGKILL);
    if (client_pid > 0)
        kill(client_pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig); /* delivered when the handler returns: we end as the signal says */
}

static _Noreturn void usage(FILE *to, int status)
{
    fprintf(to, "usage: probe [--port PORT] SCENARIO SERVER\n"
                "       probe --list\n"
                "\n"
                "Runs one grading scenario against SERVER (an executable that takes a TCP port\n"
                "as its first argument and answers each line with \"done\"), in a private\n"
                "network namespace on port %d, or on PORT in the current one.\n"
                "Prints PASS or FAIL and the evidence; exit 0 pass, 1 fail, 2 usage, 3 the\n"
                "scenario could not be run.\n"
                "\n"
                "scenarios:\n",
            NETNS_PORT);
    for (size_t i = 0; i < NSCENARIOS; i++)
        fprintf(to, "  %-18s %s\n", SCENARIOS[i].name, SCENARIOS[i].what);
    fprintf(to, "After each, the server must be alive, use under %.1f CPU-seconds per second\n"
                "with nobody connected (measured over %.1f s), and serve a fresh client within %.0f s.\n",
            CPU_LIMIT, CPU_WINDOW_MS / 1000.0, REPLY_MS / 1000.0);
    exit(status);
}

int main(int argc, char *argv[])
{
    int port = 0;
    int argi = 1;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < NSCENARIOS; i++)
            printf("%s\n", SCENARIOS[i].name);
        return fflush(stdout) == EOF ? 1 : 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        usage(stdout, 0);
    if (argc >= 3 && strcmp(argv[1], "--port") == 0) {
        char *end;
        errno = 0;
        long p = strtol(argv[2], &end, 10);
        if (errno || end == argv[2] || *end || p < 1 || p > 65535) {
            fprintf(stderr, "probe: bad port '%s': give a number from 1 to 65535\n", argv[2]);
            return 2;
        }
        port = (int)p;
        argi = 3;
    }
    if (argc - argi != 2)
        usage(stderr, 2);
    const struct scenario *sc = NULL;
    for (size_t i = 0; i < NSCENARIOS; i++)
        if (strcmp(argv[argi], SCENARIOS[i].name) == 0)
            sc = &SCENARIOS[i];
    if (!sc) {
        fprintf(stderr, "probe: no scenario '%s' (probe --list names them)\n", argv[argi]);
        return 2;
    }
    if (access(argv[argi + 1], X_OK) < 0) {
        fprintf(stderr, "probe: cannot run %s: %s (give an executable)\n", argv[argi + 1], strerror(errno));
        return 2;
    }

    static struct run r; /* large: keep it off the stack */
    char netns_err[512];
    r.name = sc->name;
    r.server_path = argv[argi + 1];
    r.err_fd = -1;

    struct sigaction sa = {.sa_handler = on_fatal_signal};
    sigemptyset(&sa.sa_mask);
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGHUP, &sa, NULL) < 0 || sigaction(SIGPIPE, &ign, NULL) < 0)
        die("sigaction");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        die("prctl PR_SET_CHILD_SUBREAPER");

    if (port) {
        r.port = port;
    } else if (netns_enter(netns_err, sizeof netns_err) == 0) {
        r.port = NETNS_PORT;
        r.private_netns = true;
    } else {
        r.port = pick_free_port(); /* no namespaces here: share the host's ports */
    }

    start_server(&r);
    if (await_listening(&r))
        sc->run(&r);
    stop_server(&r);

    if (r.nfindings == 0) {
        printf("PASS %s\n", r.name);
    } else {
        printf("FAIL %s: %s", r.name, r.findings[0]);
        for (int i = 1; i < r.nfindings && i < 3; i++)
            printf("; %s", r.findings[i]);
        printf("\n");
        for (int i = 0; i < r.nevidence; i++)
            printf("    %s\n", r.evidence[i]);
        if (r.err_len) {
            /* The start of the server's stderr: often why it failed to start. */
            char shown[200];
            printable(shown, sizeof shown, r.err, r.err_len < 120 ? r.err_len : 120);
            printf("    server's stderr: %s\n", shown);
        }
    }
    if (fflush(stdout) == EOF) {
        fprintf(stderr, "probe: writing the result: %s\n", strerror(errno));
        return 3;
    }
    return r.nfindings == 0 ? 0 : 1;
}
