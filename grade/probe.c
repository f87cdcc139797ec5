/*
 * probe: run one grading scenario against a line server, and say PASS or FAIL.
 *
 * The server under test is any program that takes a TCP port as its first
 * argument, listens on it, and answers each line a client sends with "done\n".
 * For one scenario the probe
 *
 *   1. makes a private network namespace and uses PORT there (so runs never
 *      clash over ports, and no traffic leaves it); with --no-netns it uses
 *      the current one, which the caller made private (sigtrace --netns);
 *      where no namespace can be made it refuses (status 3), unless
 *      --allow-host-net lets it use a free port of the host's loopback;
 *   2. starts the server there as COMMAND [ARG...] PORT, with every signal at
 *      its default action (an ignored SIGPIPE survives exec and would hide
 *      the very bug we look for), in a process group of its own, and waits
 *      until it listens. With --jailed, COMMAND is a sandbox whose first
 *      process is build/grade/jail: it reports the server's pid and how it
 *      ended on descriptor 3, and the server's processes are the jail's
 *      descendants;
 *   3. plays the scenario's clients against it;
 *   4. checks the server afterwards: alive, not spinning, and serving a fresh
 *      client. Spinning is judged from what the server's tasks (every thread
 *      of every process it started) did over half a second with nobody
 *      connected: the time they were runnable (on a CPU, or waiting for one)
 *      against the wall time, from /proc/PID/task/TID/schedstat. A task that
 *      waits for a client is runnable for none of it; a busy loop is runnable
 *      for all of it however loaded the machine is, since time spent waiting
 *      for a CPU counts as much as time on one;
 *   5. kills the server's process group, reports any process of the server's
 *      that outlived it, kills those too, and reaps everything.
 *
 * It prints "PASS NAME", or "FAIL NAME: reason" followed by indented lines of
 * evidence, and exits 0 (pass), 1 (fail), 2 (usage) or 3 (the scenario could
 * not be run at all: the probe's own failure, not the server's).
 *
 * Nothing the probe starts outlives it: the server dies with the probe
 * (PR_SET_PDEATHSIG), SIGINT, SIGTERM and SIGHUP kill the server's process
 * group before the probe dies, and the probe is a child subreaper, so a
 * forking server's orphans come back to it to be killed and reaped (in a
 * sandbox, the jail reaps them, and everything dies with it).
 *
 * Usage: probe [--port PORT] [--no-netns] [--allow-host-net] [--jailed] SCENARIO COMMAND [ARG...]
 *        probe --list [PROFILE]     the scenarios (of PROFILE: sigpipe or full), in order
 *        probe --table              name, points, profiles and description of each, tab-separated
 *        probe --escape             standard input to standard output, control bytes escaped
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/die.h"
#include "escape.h"
#include "netns.h"

enum {
    NETNS_PORT = 4242,     /* the port in a private namespace: not 3333, so a
                               server that ignores its argument is caught */
    LISTEN_WAIT_MS = 5000, /* how long a server may take to listen */
    REPLY_MS = 1000,       /* how long a reply may take */
    SURPLUS_MS = 200,      /* how long we look for replies nobody asked for */
    CPU_WINDOW_MS = 500,   /* the window over which CPU use is measured */
    MANY_CLIENTS = 20,     /* clients connected at once */
    MANY_LINES = 3,        /* lines each of them sends */
    MANY_MS = 3000,        /* bound for all of them (a dropped SYN costs 1 s) */
    LONG_LINE_BYTES = 10000,
    SERIAL_CLIENTS = 20,             /* clients one after another, for descriptors and children */
    SETTLE_MS = 3000,                /* how long a server may take to close or reap after them */
    LEAK_LIMIT = SERIAL_CLIENTS / 2, /* descriptors or zombies that mean "one per client" */
    MAX_TASKS = 8192,      /* processes on the machine, and tasks of a server, we look at */
    STATUS_FD = 3,         /* where a jail reports (--jailed) */
    LEAVE_MS = 1000,       /* how long the server's group may take to die once killed */
    SAMPLE_MS = 10,        /* how often the server's tasks' states are looked at */
    MIN_LOOKS = 10,        /* looks a window takes, however long the probe waits for a CPU */
    PF_EXITING_FLAG = 0x4, /* the kernel's PF_EXITING, in /proc/PID/stat's flags: in exit() */
    RESCAN_MS = 100,       /* how often the list of its processes is taken again */
    MAX_FINDINGS = 6,
    MAX_EVIDENCE = 12,
    TEXT_MAX = 256,
    STDERR_KEPT = 1024, /* bytes of the server's stderr kept as evidence */
};

#define RUNNABLE_LIMIT                                                                             \
    0.5 /* runnable seconds per second, over every task: at or above it, it spins */
/*
 * CPU seconds per second, over every task, below which the scheduler's
 * account of waiting is not believed: a spinning server starved by a busy
 * machine still gets a share of a CPU, far above it.
 */
#define SPIN_RUN_MIN 0.02

/* What the signal handler kills before the probe dies. */
static volatile sig_atomic_t server_pgid;
static volatile sig_atomic_t client_pid;

/* --- one scenario run: the server, and what was found -------------------------- */

struct run {
    const char *name;
    int port;
    int family; /* how the server is reached: AF_INET (127.0.0.1) or AF_INET6 (::1) */
    bool private_netns;
    char **command; /* how to start the server: COMMAND [ARG...], PORT appended */
    bool jailed;    /* COMMAND is a sandbox whose jail reports on STATUS_FD */

    pid_t pid;           /* the probe's child: the server, or the sandbox; also a process group */
    pid_t jail;          /* the jail's pid (--jailed), once known, else 0 */
    pid_t server;        /* the server's pid, once known: its process group */
    int jail_server_pid; /* the server's pid inside the sandbox, as the jail reported it */
    int status_fd;       /* read end of the jail's reports, or -1 */
    char status_text[128];
    size_t status_len;
    bool reaped;       /* the server has ended (reaped by us, or reported by the jail) */
    bool child_reaped; /* the probe's own child has been reaped */
    int status;        /* wait status, once reaped */
    int err_fd;        /* read end of the server's stderr pipe, or -1 */
    char err[STDERR_KEPT + 1];
    size_t err_len;

    bool death_reported;
    char findings[MAX_FINDINGS][TEXT_MAX];
    int nfindings;
    char evidence[MAX_EVIDENCE][TEXT_MAX];
    int nevidence;
};

/* Before the probe gives up (exit 3): nothing it started may outlive it. */
static void kill_started(void)
{
    if (server_pgid > 0)
        kill(-server_pgid, SIGKILL);
    if (client_pid > 0)
        kill(client_pid, SIGKILL);
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

/*
 * Printable form of N bytes, on one line, as the tracer shows what programs
 * wrote (capture/escape.h): text as it is, control bytes escaped.
 */
static void printable(char *out, size_t cap, const char *in, size_t n)
{
    escape_text((const uint8_t *)in, n, 0, out, cap);
}

/* probe --escape: standard input to standard output, escaped for a terminal; lines kept. */
static int escape_stream(void)
{
    char in[4096 + 4], out[4 * sizeof in + 8];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, in + have, sizeof in - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 1;
        have += (size_t)n;
        /* Hold back a character cut at the end of the buffer, unless input has ended. */
        size_t usable = have;
        for (size_t k = 1; n > 0 && k <= 3 && k <= have; k++) {
            unsigned char c = (unsigned char)in[have - k];
            if (c >= 0xc0)
                usable = have - k;
            if (c >= 0xc0 || c < 0x80)
                break;
        }
        size_t took = escape_text((const uint8_t *)in, usable, ESCAPE_KEEP_LINES, out, sizeof out);
        if (fputs(out, stdout) == EOF)
            return 1;
        memmove(in, in + took, have - took);
        have -= took;
        if (n == 0 && have == 0)
            return fflush(stdout) == EOF;
    }
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
        die_hint(NULL, "wait_fds: too many descriptors");
    }
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        if (nfds > 0)
            memcpy(all, fds, (size_t)nfds * sizeof *fds);
        int n = nfds;
        if (r->err_fd >= 0)
            all[n++] = (struct pollfd){ .fd = r->err_fd, .events = POLLIN };
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
    static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    static const int table_family[] = { AF_INET, AF_INET6 };
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
        int port = 20000 + (int)(((unsigned)getpid() * 7919u + (unsigned)now_ms() * 31u +
                                  (unsigned)attempt * 104729u) %
                                 12768u);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
            die("socket");
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_ANY) };
        int rc = bind(s, (struct sockaddr *)&a, sizeof a);
        close(s);
        if (rc == 0)
            return port;
    }
    errno = EADDRINUSE;
    die_hint(NULL, "no free port between 20000 and 32767");
}

/* --- the server process ------------------------------------------------------------------ */

static void describe_status(int status, char *out, size_t cap)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *name = sigabbrev_np(sig);
        snprintf(out, cap, "was killed by SIG%s (status %d)", name ? name : "?", 128 + sig);
    } else {
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    }
}

/*
 * Read what the jail has reported so far: "pid N" (the server's pid in the
 * sandbox), then "exit N" or "signal N" once the server has ended.
 */
static void read_jail_reports(struct run *r)
{
    while (r->status_fd >= 0 && r->status_len < sizeof r->status_text - 1) {
        ssize_t n = read(r->status_fd, r->status_text + r->status_len,
                         sizeof r->status_text - 1 - r->status_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                close(r->status_fd);
                r->status_fd = -1;
            }
            break;
        }
        r->status_len += (size_t)n;
    }
    r->status_text[r->status_len] = '\0';
    int value;
    const char *line = r->status_text;
    while (line && *line) {
        if (sscanf(line, "pid %d\n", &value) == 1)
            r->jail_server_pid = value;
        else if (sscanf(line, "exit %d\n", &value) == 1 && strchr(line, '\n'))
            r->reaped = true, r->status = (value & 0xff) << 8;
        else if (sscanf(line, "signal %d\n", &value) == 1 && strchr(line, '\n'))
            r->reaped = true, r->status = value & 0x7f;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
}

/* Has the server ended? Reaps it if so (or learns it from the jail). */
static bool server_gone(struct run *r)
{
    if (r->reaped)
        return true;
    if (!r->child_reaped) {
        pid_t w;
        int status;
        do
            w = waitpid(r->pid, &status, WNOHANG);
        while (w < 0 && errno == EINTR);
        if (w < 0)
            die("waitpid (server)");
        if (w == r->pid) {
            r->child_reaped = true;
            if (!r->jailed) {
                r->reaped = true;
                r->status = status;
            }
        }
    }
    if (r->jailed) {
        read_jail_reports(r);
        if (!r->reaped && r->child_reaped && r->status_fd < 0 && r->jail_server_pid) {
            r->reaped = true; /* the sandbox ended under the server: it died with it */
            r->status = SIGKILL;
        } else if (!r->reaped && r->child_reaped && r->status_fd < 0) {
            /* The sandbox ended without a word from the jail: it could not be made. */
            drain_stderr(r);
            char shown[400];
            printable(shown, sizeof shown, r->err, r->err_len < 300 ? r->err_len : 300);
            fprintf(
                stderr,
                "probe: the sandbox did not start: %s (the scenario could not be run; this is not the "
                "server's fault)\n",
                shown[0] ? shown : "it said nothing");
            exit(3);
        }
    }
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
    snprintf(r->findings[0], TEXT_MAX, "the server %s %s", fate, when);
    r->nfindings++;
    evidence(r, "server: %s", strncmp(fate, "was ", 4) == 0 ? fate + 4 : fate);
    if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGPIPE)
        evidence(
            r,
            "why: it wrote to a connection whose peer had gone, and SIGPIPE's default action ends the process");
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
    int statusfd[2] = { -1, -1 };
    if (r->jailed && pipe2(statusfd, O_CLOEXEC) < 0)
        die("pipe2");
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
        /* Only the three standard descriptors (and the jail's), whatever the probe inherited. */
        int first_closed = STATUS_FD;
        if (r->jailed) {
            if (dup2(statusfd[1], STATUS_FD) < 0)
                _exit(127);
            first_closed = STATUS_FD + 1;
        }
        if (close_range((unsigned)first_closed, ~0u, 0) < 0)
            for (int fd = first_closed; fd < 1024; fd++)
                close(fd);
        int argc = 0;
        while (r->command[argc])
            argc++;
        char **argv = calloc((size_t)argc + 2, sizeof *argv);
        if (!argv)
            _exit(127);
        memcpy(argv, r->command, (size_t)argc * sizeof *argv);
        argv[argc] = port_arg;
        execvp(argv[0], argv);
        dprintf(STDERR_FILENO, "probe: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (r->jailed) {
        close(statusfd[1]);
        r->status_fd = statusfd[0];
        int fl = fcntl(r->status_fd, F_GETFL);
        if (fl < 0 || fcntl(r->status_fd, F_SETFL, fl | O_NONBLOCK) < 0)
            die("fcntl O_NONBLOCK");
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

static void describe_hang(struct run *r);

/* Wait until the server listens on its port. False (with findings) if it does not. */
static bool await_listening(struct run *r)
{
    int64_t deadline = now_ms() + LISTEN_WAIT_MS;
    while (!(r->family = listening_family(r->port))) {
        if (report_death(r, "before it listened")) {
            evidence(r, "it was started as: server %d", r->port);
            return false;
        }
        if (now_ms() >= deadline) {
            finding(r, "the server did not listen on port %d (its first argument) within %d s",
                    r->port, LISTEN_WAIT_MS / 1000);
            if (r->private_netns) {
                int ports[16];
                int n = listening_ports(ports, NULL, 16);
                for (int i = 0; i < n; i++)
                    evidence(r, "it listens on port %d instead: it must take the port from argv[1]",
                             ports[i]);
                if (n == 0)
                    describe_hang(r);
            }
            return false;
        }
        pause_ms(r, 10);
    }
    return true;
}

/* --- the server's processes and threads ------------------------------------------ */

/* One process, from /proc/PID/stat. */
struct proc_entry {
    pid_t pid, ppid, pgrp;
    char state;            /* R, S, D, Z, ... */
    char comm[16 * 4 + 1]; /* escaped: the server names its processes as it likes */
};

/* Every process on the machine, into PROCS (up to MAX_TASKS); returns how many. */
static int scan_procs(struct proc_entry *procs)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        die("opendir /proc");
    int n = 0;
    struct dirent *de;
    while ((de = readdir(proc)) && n < MAX_TASKS) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* it ended meanwhile */
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* "pid (comm) state ppid pgrp ...": comm may hold anything, even ") ". */
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        struct proc_entry *e = &procs[n];
        int ppid, pgrp;
        if (!open_paren || !close_paren || close_paren < open_paren ||
            sscanf(close_paren + 1, " %c %d %d", &e->state, &ppid, &pgrp) != 3)
            continue;
        e->pid = atoi(de->d_name);
        e->ppid = ppid;
        e->pgrp = pgrp;
        printable(e->comm, sizeof e->comm, open_paren + 1, (size_t)(close_paren - open_paren - 1));
        n++;
    }
    closedir(proc);
    return n;
}

/* Is PID's last NSpid (its pid in its own PID namespace) WANT? */
static bool ns_pid_is(pid_t pid, int want)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool match = false;
    while (fgets(buf, sizeof buf, f)) {
        if (strncmp(buf, "NSpid:", 6) == 0) {
            char *last = strrchr(buf, '\t');
            match = last && atoi(last + 1) == want;
            break;
        }
    }
    fclose(f);
    return match;
}

/*
 * The server's processes (its whole tree: children, orphans the jail
 * adopted, or, unjailed, orphans that came back to us), into OUT; returns
 * how many. Neither the jail nor the sandbox's own process is among them,
 * nor a client the probe forked. Learns the jail's and the server's pids.
 */
static int server_procs(struct run *r, struct proc_entry *out)
{
    static struct proc_entry all[MAX_TASKS];
    int n = scan_procs(all);
    if (r->jailed) {
        read_jail_reports(r);
        for (int i = 0; i < n && !r->jail; i++)
            if (all[i].ppid == r->pid)
                r->jail = all[i].pid;
        if (!r->jail)
            return 0;
    }
    pid_t root = r->jailed ? r->jail : r->pid;
    /* Breadth first from the root, over the parent links; one pass per generation. */
    int nout = 0;
    bool grown = true;
    while (grown) {
        grown = false;
        for (int i = 0; i < n; i++) {
            if (all[i].pid == 0)
                continue;
            bool ours = all[i].ppid == root || (!r->jailed && all[i].pid == r->pid) ||
                        (!r->jailed && all[i].ppid == getpid() && all[i].pid != client_pid);
            for (int k = 0; k < nout && !ours; k++)
                ours = all[i].ppid == out[k].pid;
            if (ours) {
                out[nout++] = all[i];
                all[i].pid = 0; /* taken */
                grown = true;
            }
        }
    }
    if (!r->server) {
        if (!r->jailed)
            r->server = r->pid;
        for (int k = 0; k < nout && r->jailed && r->jail_server_pid; k++)
            if (out[k].ppid == r->jail && ns_pid_is(out[k].pid, r->jail_server_pid))
                r->server = out[k].pid;
    }
    return nout;
}

/* Evidence for a server that runs but does not listen: what each of its processes is doing. */
static void describe_hang(struct run *r)
{
    static struct proc_entry procs[MAX_TASKS];
    int n = server_procs(r, procs);
    for (int i = 0; i < n && i < 3; i++) {
        char path[64], wchan[64] = "", shown[64 * 4 + 1];
        snprintf(path, sizeof path, "/proc/%d/wchan", (int)procs[i].pid);
        FILE *f = fopen(path, "re");
        if (f) {
            if (!fgets(wchan, sizeof wchan, f))
                wchan[0] = '\0';
            fclose(f);
        }
        printable(shown, sizeof shown, wchan, strlen(wchan));
        evidence(r, "it runs, listening nowhere: pid %d \"%s\", state %c%s%s", (int)procs[i].pid,
                 procs[i].comm, procs[i].state,
                 shown[0] && strcmp(shown, "0") != 0 ? ", waiting in the kernel's " : "",
                 strcmp(shown, "0") != 0 ? shown : "");
    }
    if (n > 3)
        evidence(r, "it runs %d processes in all", n);
}

/* What the scheduler says of one task (a thread), or of several summed: times in ns, switches. */
struct sched_sample {
    pid_t tid;
    long long run_ns, wait_ns, voluntary, involuntary;
};

/* One task's (/proc/PID/task/TID) schedstat and context switches into S; false if it has gone. */
static bool sample_task(const char *dir, struct sched_sample *s)
{
    char path[80], buf[512];
    snprintf(path, sizeof path, "%s/schedstat", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    int got = fscanf(f, "%lld %lld", &s->run_ns, &s->wait_ns);
    fclose(f);
    if (got != 2)
        return false;
    snprintf(path, sizeof path, "%s/status", dir);
    f = fopen(path, "re");
    if (!f)
        return false;
    long long v;
    while (fgets(buf, sizeof buf, f)) {
        if (sscanf(buf, "voluntary_ctxt_switches: %lld", &v) == 1)
            s->voluntary = v;
        else if (sscanf(buf, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
            s->involuntary = v;
    }
    fclose(f);
    return true;
}

/* Every thread of every live process of the server's, into OUT (up to MAX_TASKS); returns how many. */
static int sample_server(struct run *r, struct sched_sample *out)
{
    static struct proc_entry procs[MAX_TASKS];
    int n = server_procs(r, procs), nout = 0;
    for (int i = 0; i < n; i++) {
        if (procs[i].state == 'Z')
            continue;
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/task", (int)procs[i].pid);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) && nout < MAX_TASKS) {
            if (!isdigit((unsigned char)de->d_name[0]))
                continue;
            char task[64];
            snprintf(task, sizeof task, "/proc/%d/task/%.20s", (int)procs[i].pid, de->d_name);
            out[nout].tid = atoi(de->d_name);
            nout += sample_task(task, &out[nout]);
        }
        closedir(d);
    }
    return nout;
}

/* How often the server's tasks were found runnable (state R), looking every SAMPLE_MS. */
struct state_count {
    int looks;   /* times we looked */
    int running; /* tasks found in state R, summed over the looks */
};

/* Add the tasks of process PID in state R to *RUNNING. */
static void count_running_tasks(pid_t pid, int *running)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        char path[96], buf[512];
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/stat", (int)pid, de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        /* After "pid (comm) ": state, then flags as field 9; a task on its way out is not spinning. */
        char *p = strrchr(buf, ')');
        char state;
        unsigned flags;
        if (p && sscanf(p + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) == 2)
            *running += state == 'R' && !(flags & PF_EXITING_FLAG);
    }
    closedir(d);
}

/*
 * Look at the state of every task of the server's every SAMPLE_MS until
 * DEADLINE, and at least MIN_LOOKS times, draining its stderr meanwhile. The list of its processes is
 * taken again every RESCAN_MS, to see the ones it starts.
 */
static struct state_count count_states(struct run *r, int64_t deadline)
{
    static struct proc_entry procs[MAX_TASKS];
    struct state_count c = { 0 };
    int n = 0;
    int64_t rescan = 0;
    /*
     * On a loaded machine the probe itself can wait for a CPU past the
     * deadline, having looked once or not at all: a window with fewer than
     * MIN_LOOKS looks is no measure (a spinning server once read as 0).
     */
    while (now_ms() < deadline || c.looks < MIN_LOOKS) {
        if (now_ms() >= rescan) {
            n = server_procs(r, procs);
            rescan = now_ms() + RESCAN_MS;
        }
        for (int i = 0; i < n; i++)
            count_running_tasks(procs[i].pid, &c.running);
        c.looks++;
        pause_ms(r, SAMPLE_MS);
    }
    return c;
}

/*
 * What the server's tasks did between two samples, summed: each task's
 * growth since BEFORE (from nothing if it is new there). Tasks that ended
 * in between are left out. Sets *TASKS to how many took part.
 */
static struct sched_sample sched_growth(const struct sched_sample *before, int nbefore,
                                        const struct sched_sample *after, int nafter, int *tasks)
{
    struct sched_sample sum = { 0 };
    *tasks = nafter;
    for (int i = 0; i < nafter; i++) {
        struct sched_sample base = { 0 };
        for (int k = 0; k < nbefore; k++)
            if (before[k].tid == after[i].tid)
                base = before[k];
        sum.run_ns += after[i].run_ns - base.run_ns;
        sum.wait_ns += after[i].wait_ns - base.wait_ns;
        sum.voluntary += after[i].voluntary - base.voluntary;
        sum.involuntary += after[i].involuntary - base.involuntary;
    }
    return sum;
}

/* Open descriptors of the server's live processes; -1 if they cannot be read. */
static int server_descriptors(struct run *r)
{
    static struct proc_entry procs[MAX_TASKS];
    int n = server_procs(r, procs), total = 0;
    for (int i = 0; i < n; i++) {
        if (procs[i].state == 'Z')
            continue;
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/fd", (int)procs[i].pid);
        DIR *d = opendir(dir);
        if (!d) {
            if (errno == ENOENT)
                continue;
            return -1;
        }
        struct dirent *de;
        while ((de = readdir(d)))
            total += isdigit((unsigned char)de->d_name[0]) != 0;
        closedir(d);
    }
    return total;
}

/*
 * The server's children that ended and were never reaped (zombies whose
 * parent is one of the server's processes, not the jail), into ZOMBIES (up to
 * CAP) when not NULL; returns how many.
 */
static int server_zombies(struct run *r, struct proc_entry *zombies, int cap)
{
    static struct proc_entry procs[MAX_TASKS];
    int n = server_procs(r, procs), count = 0;
    for (int i = 0; i < n; i++) {
        bool parent_is_server = false;
        for (int k = 0; k < n && !parent_is_server; k++)
            parent_is_server = procs[k].pid == procs[i].ppid;
        if (procs[i].state == 'Z' && parent_is_server) {
            if (zombies && count < cap)
                zombies[count] = procs[i];
            count++;
        }
    }
    return count;
}

/* Connections to PORT in this namespace in state CLOSE-WAIT: the client closed, the server not. */
static int close_wait_count(int port)
{
    static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    int n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        FILE *f = fopen(tables[t], "re");
        if (!f)
            continue;
        char line[512];
        while (fgets(line, sizeof line, f)) {
            unsigned local_port, state;
            if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &local_port, &state) ==
                    2 &&
                (int)local_port == port && state == TCP_CLOSE_WAIT)
                n++;
        }
        fclose(f);
    }
    return n;
}

/*
 * Kill the server's process group, as a supervisor stopping it would; then
 * report every process of the server's that outlived it (it left the group:
 * setsid, setpgid, a double fork), kill those, and reap everything. In a
 * sandbox, killing the jail ends every process in it at once. Bounded.
 */
static void stop_server(struct run *r)
{
    static struct proc_entry procs[MAX_TASKS];
    int n = server_procs(r, procs);
    server_gone(r);
    if (r->server > 0) {
        kill(-r->server, SIGKILL);
        /* Wait until nothing of its group is left (zombies aside). */
        int64_t deadline = now_ms() + LEAVE_MS;
        for (;;) {
            n = server_procs(r, procs);
            bool left = false;
            for (int i = 0; i < n; i++)
                left |= procs[i].pgrp == r->server && procs[i].state != 'Z';
            if (!left || now_ms() >= deadline)
                break;
            pause_ms(r, 10);
        }
    }
    int outlived = 0;
    for (int i = 0; i < n; i++) {
        if (procs[i].state == 'Z' || procs[i].pgrp == r->server)
            continue;
        if (outlived++ == 0)
            finding(
                r, "a process the server started outlived it (it left the server's process group)");
        evidence(r,
                 "left behind: pid %d \"%s\" (state %c, process group %d, parent %d), killed now",
                 (int)procs[i].pid, procs[i].comm, procs[i].state, (int)procs[i].pgrp,
                 (int)procs[i].ppid);
    }
    if (outlived > 1)
        evidence(r, "left behind: %d processes in all", outlived);

    /* Now everything: the jail (and with it the sandbox), the group, our children. */
    if (r->jail > 0)
        kill(r->jail, SIGKILL);
    if (r->pid > 0)
        kill(-r->pid, SIGKILL);
    int64_t deadline = now_ms() + 2000;
    while (now_ms() < deadline) {
        /* Descendants that left the group (setsid) are still our children. */
        n = scan_procs(procs);
        for (int i = 0; i < n; i++)
            if (procs[i].ppid == getpid() && procs[i].pid != client_pid)
                kill(procs[i].pid, SIGKILL);
        int status;
        pid_t w = waitpid(-1, &status, WNOHANG);
        if (w < 0 && errno == ECHILD)
            break;
        if (w == r->pid && !r->child_reaped) {
            r->child_reaped = true;
            if (!r->jailed && !r->reaped) {
                r->reaped = true;
                r->status = status;
            }
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
    if (r->status_fd >= 0)
        close(r->status_fd);
    r->status_fd = -1;
}

/* --- clients ------------------------------------------------------------------------------ */

/* One client connection and what came back on it. */
struct conn {
    int fd;
    char line[128]; /* the reply line being received */
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
    struct sockaddr_in a4 = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)r->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
                               .sin6_port = htons((uint16_t)r->port),
                               .sin6_addr = IN6ADDR_LOOPBACK_INIT };
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
static bool conn_wait(struct run *r, struct conn *c, short events, int64_t deadline,
                      const char *call)
{
    struct pollfd p = { .fd = c->fd, .events = events };
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
    return started > 0 ||
           (started == 0 && conn_wait(r, c, POLLOUT, deadline, "connect") && conn_connected(c));
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
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
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
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
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
        snprintf(out, cap, "%s failed: %s after %d of %d replies", c->failed, strerror(c->err),
                 c->dones, want);
    else if (c->eof)
        snprintf(out, cap, "the server closed the connection after %d of %d replies", c->dones,
                 want);
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

/* What the server's tasks did over one window: the numbers a spinning verdict rests on. */
struct runnable_window {
    double wall;      /* seconds */
    double accounted; /* runnable seconds per second, from schedstat */
    double seen;      /* tasks found runnable per look, from their states */
    int tasks, looks;
    struct sched_sample grew; /* run and wait times, context switches */
};

/* Watch the server's tasks for CPU_WINDOW_MS; returns the larger of the two measures. */
static double watch_runnable(struct run *r, struct runnable_window *w)
{
    static struct sched_sample before[MAX_TASKS], after[MAX_TASKS];
    int64_t t0 = now_ms();
    int nbefore = sample_server(r, before);
    struct state_count states = count_states(r, t0 + CPU_WINDOW_MS);
    int nafter = sample_server(r, after);
    w->wall = (double)(now_ms() - t0) / 1000.0;
    w->grew = sched_growth(before, nbefore, after, nafter, &w->tasks);
    w->accounted = ((double)(w->grew.run_ns + w->grew.wait_ns) / 1e9) / w->wall;
    w->looks = states.looks;
    w->seen = states.looks ? (double)states.running / states.looks : 0;
    /*
     * The scheduler accounts a task's wait only once it runs: under load,
     * seen can be the surer. And that account can come from before the
     * window (a child that waited long for a CPU, ran a moment and slept):
     * with next to no CPU time in the window, only the states count.
     */
    if ((double)w->grew.run_ns / 1e9 / w->wall < SPIN_RUN_MIN)
        return w->seen;
    return w->accounted > w->seen ? w->accounted : w->seen;
}

static void check_after(struct run *r, const char *what_happened)
{
    /* The window also gives a server that is about to die the time to do so. */
    struct runnable_window w;
    double runnable = watch_runnable(r, &w);
    char when[TEXT_MAX];
    snprintf(when, sizeof when, "after %s", what_happened);
    if (report_death(r, when))
        return;
    /*
     * A burst of work at the window's start (forked children waking to
     * exit, on a loaded machine) can look like spinning: a spinning server
     * is still runnable over a second window.
     */
    if (runnable >= RUNNABLE_LIMIT)
        runnable = watch_runnable(r, &w);
    if (report_death(r, when))
        return;
    if (runnable >= RUNNABLE_LIMIT) {
        finding(
            r,
            "the server spins after %s: runnable %.2f s of every second with no client connected",
            what_happened, runnable);
        evidence(
            r,
            "cpu: over %.2f s its %d task%s ran %.2f s and waited %.2f s for a CPU: runnable %.2f s/s "
            "(a waiting server: 0; limit %.2f)",
            w.wall, w.tasks, w.tasks == 1 ? "" : "s", (double)w.grew.run_ns / 1e9,
            (double)w.grew.wait_ns / 1e9, w.accounted, RUNNABLE_LIMIT);
        evidence(
            r,
            "state: looked %d times, found %.2f tasks running or ready to run each time, on average "
            "(a waiting server: 0)",
            w.looks, w.seen);
        evidence(
            r,
            "context switches: %lld voluntary (it waited for something), %lld involuntary (the CPU was taken "
            "from it)%s",
            w.grew.voluntary, w.grew.involuntary,
            w.grew.voluntary <= w.grew.involuntary ? ": its system calls return at once" : "");
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
        finding(r, "the client could not send its line: %s",
                conn_why(&c, 0, REPLY_MS, why, sizeof why));
    conn_close(&c);
    check_after(r, "a client left before its reply");
}

/* The client process of scenario 3: it reports on PIPE, then waits to be killed. */
static _Noreturn void killed_client(struct run *r, int report_fd)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };
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
    struct pollfd p = { .fd = report[0], .events = POLLIN };
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
        finding(r, "the client got no reply before it was killed: %s",
                msg[0] ? msg : "it did not say why");
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
        finding(r, "the client could not send its line: %s",
                conn_why(&c, 0, REPLY_MS, why, sizeof why));
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
            finding(r, "the line after %s was not answered: %s", what,
                    conn_why(&c, 2, REPLY_MS, why, sizeof why));
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
            p[i] = (struct pollfd){ .fd = -1 };
            if (k->err || k->eof || k->bad[0] || k->dones >= MANY_LINES) {
                finished++;
                continue;
            }
            if (!connected[i]) {
                p[i] = (struct pollfd){ .fd = k->fd, .events = POLLOUT };
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
            p[i] = (struct pollfd){ .fd = k->fd, .events = POLLIN };
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
    int by_replies[MANY_LINES + 1] = { 0 };
    for (int i = 0; i < MANY_CLIENTS; i++) {
        if (!connected[i])
            never_connected++;
        else if (c[i].dones >= MANY_LINES && !c[i].bad[0])
            complete++;
        by_replies[c[i].dones > MANY_LINES ? MANY_LINES : c[i].dones]++;
    }
    if (complete < MANY_CLIENTS) {
        finding(
            r,
            "%d of %d clients connected at once got their %d replies within %.1f s (clients served one at a time?)",
            complete, MANY_CLIENTS, MANY_LINES, MANY_MS / 1000.0);
        char tally[TEXT_MAX];
        size_t o = (size_t)snprintf(tally, sizeof tally, "replies per client:");
        for (int k = MANY_LINES; k >= 0; k--)
            if (by_replies[k] && o < sizeof tally)
                o += (size_t)snprintf(tally + o, sizeof tally - o, " %d client%s got %d;",
                                      by_replies[k], by_replies[k] == 1 ? "" : "s", k);
        evidence(r, "%s", tally);
        if (never_connected)
            evidence(r, "%d client%s could not even connect in time", never_connected,
                     never_connected == 1 ? "" : "s");
        for (int i = 0; i < MANY_CLIENTS; i++) {
            char why[TEXT_MAX];
            if (c[i].bad[0] || (c[i].err && connected[i])) {
                evidence(r, "client %d: %s", i + 1,
                         conn_why(&c[i], MANY_LINES, MANY_MS, why, sizeof why));
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
        finding(r, "the first client was not served: %s",
                conn_why(&first, 1, REPLY_MS, why, sizeof why));
        report_death(r, "while serving the first client");
    } else {
        if (!conn_line(r, &second, "second\n")) {
            finding(r,
                    "a second client got no reply while the first stayed connected and idle: %s "
                    "(clients served one at a time?)",
                    conn_why(&second, 1, REPLY_MS, why, sizeof why));
            report_death(r, "while two clients were connected");
        }
        conn_close(&second);
    }
    conn_close(&first);
    check_after(r, "two clients left");
}

/*
 * SERIAL_CLIENTS clients one after another, each served and gone before the
 * next comes. False (with a finding) if one of them is not served.
 */
static bool serial_clients(struct run *r)
{
    for (int i = 0; i < SERIAL_CLIENTS; i++) {
        char who[32];
        snprintf(who, sizeof who, "client %d of %d", i + 1, SERIAL_CLIENTS);
        if (!served(r, who, "hello\n")) {
            report_death(r, "while clients came one after another");
            return false;
        }
    }
    return true;
}

/* 11. Clients one after another: the server's open descriptors must not grow with them. */
static void sc_descriptors_closed(struct run *r)
{
    int before = server_descriptors(r);
    if (before < 0)
        die("reading the server's descriptors (/proc/PID/fd)");
    if (!serial_clients(r))
        return;
    /* The last close may still be on its way: wait for the count to settle. */
    int64_t deadline = now_ms() + SETTLE_MS;
    int now;
    while ((now = server_descriptors(r)) >= before + LEAK_LIMIT && now_ms() < deadline)
        pause_ms(r, 20);
    if (now >= before + LEAK_LIMIT) {
        finding(
            r,
            "the server keeps a descriptor per client: %d open after %d clients came and went, %d before",
            now, SERIAL_CLIENTS, before);
        evidence(
            r,
            "descriptors: %d before the clients, %d after (+%d for %d clients; limit +%d): close() each "
            "client's socket when its conversation ends",
            before, now, now - before, SERIAL_CLIENTS, LEAK_LIMIT - 1);
        evidence(
            r, "connections to port %d in CLOSE-WAIT (the client closed, the server never did): %d",
            r->port, close_wait_count(r->port));
    }
    check_after(r, "clients came and went one after another");
}

/* 12. Clients one after another: the server must reap the children it forked for them. */
static void sc_children_reaped(struct run *r)
{
    if (!serial_clients(r))
        return;
    int64_t deadline = now_ms() + SETTLE_MS;
    int zombies;
    while ((zombies = server_zombies(r, NULL, 0)) >= 2 && now_ms() < deadline)
        pause_ms(r, 20);
    if (zombies >= 2) {
        struct proc_entry z[3];
        int shown = server_zombies(r, z, 3);
        finding(
            r, "the server leaves its children unreaped: %d zombies after %d clients came and went",
            zombies, SERIAL_CLIENTS);
        for (int i = 0; i < shown && i < 3; i++)
            evidence(r, "zombie: pid %d \"%s\", child of pid %d, which never waited for it",
                     (int)z[i].pid, z[i].comm, (int)z[i].ppid);
        evidence(
            r,
            "zombies: %d (limit 1): wait for each child (waitpid in a SIGCHLD handler, or SIGCHLD set to "
            "SIG_IGN)",
            zombies);
    }
    check_after(r, "clients came and went one after another");
}

/* The profiles a scenario belongs to. */
enum profile {
    SIGPIPE_PROFILE = 1, /* what the labs teach: survive a client leaving in every way */
    FULL_PROFILE = 2,    /* everything */
};

static const struct {
    const char *name;
    unsigned bit;
} PROFILES[] = {
    { "sigpipe", SIGPIPE_PROFILE },
    { "full", FULL_PROFILE },
};

static const struct scenario {
    const char *name;
    void (*run)(struct run *);
    int points;
    unsigned profiles;
    const char *what;
} SCENARIOS[] = {
    { "leaves-normally", sc_leaves_normally, 10, SIGPIPE_PROFILE | FULL_PROFILE,
      "a client sends a line, reads its done, and closes" },
    { "leaves-mid-reply", sc_leaves_mid_reply, 10, SIGPIPE_PROFILE | FULL_PROFILE,
      "a client sends a line and closes at once, before the reply" },
    { "client-killed", sc_client_killed, 10, SIGPIPE_PROFILE | FULL_PROFILE,
      "a client process is killed (SIGKILL) while connected" },
    { "unread-reply-rst", sc_unread_reply_rst, 10, SIGPIPE_PROFILE | FULL_PROFILE,
      "a client closes with its reply unread: its kernel sends RST" },
    { "abort-before-send", sc_abort_before_send, 10, SIGPIPE_PROFILE | FULL_PROFILE,
      "a client resets (SO_LINGER {1,0}) right after connecting" },
    { "abort-after-send", sc_abort_after_send, 10, SIGPIPE_PROFILE | FULL_PROFILE,
      "a client resets after a line and its reply" },
    { "long-line", sc_long_line, 5, FULL_PROFILE,
      "a 10000-byte line gets exactly one done; the next line is answered" },
    { "binary-bytes", sc_binary_bytes, 5, FULL_PROFILE,
      "a line with NUL and 0xff bytes gets one done; the next line too" },
    { "many-clients", sc_many_clients, 5, FULL_PROFILE,
      "20 clients connected at once, 3 lines each, all answered within 3 s" },
    { "second-client", sc_second_client, 5, FULL_PROFILE,
      "a second client is served within 1 s while the first sits idle" },
    { "descriptors-closed", sc_descriptors_closed, 5, FULL_PROFILE,
      "20 clients one after another leave the server's open descriptors as they were" },
    { "children-reaped", sc_children_reaped, 5, FULL_PROFILE,
      "20 clients one after another leave no zombie child behind" },
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
    fprintf(
        to,
        "usage: probe [--port PORT] [--no-netns] [--allow-host-net] [--jailed] SCENARIO COMMAND [ARG...]\n"
        "       probe --list [PROFILE] | --table | --escape\n"
        "\n"
        "Runs one grading scenario against a server started as COMMAND [ARG...] PORT (it\n"
        "must listen on PORT and answer each line with \"done\"), in a private network\n"
        "namespace (PORT %d unless given), or in the current one with --no-netns.\n"
        "Prints PASS or FAIL and the evidence; exit 0 pass, 1 fail, 2 usage, 3 the\n"
        "scenario could not be run.\n"
        "\n"
        "scenarios (points, profiles):\n",
        NETNS_PORT);
    for (size_t i = 0; i < NSCENARIOS; i++)
        fprintf(to, "  %-18s %2d %-12s %s\n", SCENARIOS[i].name, SCENARIOS[i].points,
                SCENARIOS[i].profiles & SIGPIPE_PROFILE ? "sigpipe,full" : "full",
                SCENARIOS[i].what);
    fprintf(to,
            "After each, the server must be alive, not spin (its tasks runnable under %.1f s of\n"
            "every second with nobody connected, measured over %.1f s), and serve a fresh\n"
            "client within %.0f s; no process of it may outlive it.\n",
            RUNNABLE_LIMIT, CPU_WINDOW_MS / 1000.0, REPLY_MS / 1000.0);
    exit(status);
}

/* probe --list [PROFILE]: the names, one a line. */
static int list_scenarios(const char *profile)
{
    unsigned want = FULL_PROFILE;
    if (profile) {
        want = 0;
        for (size_t i = 0; i < sizeof PROFILES / sizeof *PROFILES; i++)
            if (strcmp(profile, PROFILES[i].name) == 0)
                want = PROFILES[i].bit;
        if (!want) {
            fprintf(stderr, "probe: no profile '%s' (the profiles are sigpipe and full)\n",
                    profile);
            return 2;
        }
    }
    for (size_t i = 0; i < NSCENARIOS; i++)
        if (SCENARIOS[i].profiles & want)
            printf("%s\n", SCENARIOS[i].name);
    return fflush(stdout) == EOF ? 1 : 0;
}

/* probe --table: name, points, profiles, description; tab-separated, one scenario a line. */
static int table_scenarios(void)
{
    for (size_t i = 0; i < NSCENARIOS; i++)
        printf("%s\t%d\t%s\t%s\n", SCENARIOS[i].name, SCENARIOS[i].points,
               SCENARIOS[i].profiles & SIGPIPE_PROFILE ? "sigpipe,full" : "full",
               SCENARIOS[i].what);
    return fflush(stdout) == EOF ? 1 : 0;
}

int main(int argc, char *argv[])
{
    die_init("probe");
    die_failure(3, "the scenario could not be run; this is not the server's fault", kill_started);
    int port = NETNS_PORT;
    bool use_netns = true, allow_host_net = false, jailed = false;
    int argi = 1;
    if (argc >= 2 && strcmp(argv[1], "--list") == 0 && argc <= 3)
        return list_scenarios(argc == 3 ? argv[2] : NULL);
    if (argc == 2 && strcmp(argv[1], "--table") == 0)
        return table_scenarios();
    if (argc == 2 && strcmp(argv[1], "--escape") == 0)
        return escape_stream();
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        usage(stdout, 0);
    for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
        if (strcmp(argv[argi], "--port") == 0 && argi + 1 < argc) {
            char *end;
            errno = 0;
            long p = strtol(argv[++argi], &end, 10);
            if (errno || end == argv[argi] || *end || p < 1 || p > 65535) {
                fprintf(stderr, "probe: bad port '%s': give a number from 1 to 65535\n",
                        argv[argi]);
                return 2;
            }
            port = (int)p;
        } else if (strcmp(argv[argi], "--no-netns") == 0) {
            use_netns = false;
        } else if (strcmp(argv[argi], "--allow-host-net") == 0) {
            allow_host_net = true;
        } else if (strcmp(argv[argi], "--jailed") == 0) {
            jailed = true;
        } else {
            fprintf(stderr, "probe: unknown option '%s' (probe --help lists them)\n", argv[argi]);
            return 2;
        }
    }
    if (argc - argi < 2)
        usage(stderr, 2);
    const struct scenario *sc = NULL;
    for (size_t i = 0; i < NSCENARIOS; i++)
        if (strcmp(argv[argi], SCENARIOS[i].name) == 0)
            sc = &SCENARIOS[i];
    if (!sc) {
        fprintf(stderr, "probe: no scenario '%s' (probe --list names them)\n", argv[argi]);
        return 2;
    }
    if (strchr(argv[argi + 1], '/') && access(argv[argi + 1], X_OK) < 0) {
        fprintf(stderr, "probe: cannot run %s: %s (give an executable)\n", argv[argi + 1],
                strerror(errno));
        return 2;
    }

    static struct run r; /* large: keep it off the stack */
    char netns_err[512];
    r.name = sc->name;
    r.command = argv + argi + 1;
    r.jailed = jailed;
    r.err_fd = -1;
    r.status_fd = -1;

    struct sigaction sa = { .sa_handler = on_fatal_signal };
    sigemptyset(&sa.sa_mask);
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigemptyset(&ign.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGHUP, &sa, NULL) < 0 || sigaction(SIGPIPE, &ign, NULL) < 0)
        die("sigaction");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        die("prctl PR_SET_CHILD_SUBREAPER");

    r.port = port;
    if (!use_netns) {
        r.private_netns = true; /* the caller's word */
    } else if (netns_enter(netns_err, sizeof netns_err) == 0) {
        r.private_netns = true;
    } else if (allow_host_net) {
        r.port = pick_free_port(); /* no namespaces here: share the host's ports */
        fprintf(stderr, "probe: warning: %s; the server runs on the host's loopback, port %d\n",
                netns_err, r.port);
    } else {
        fprintf(
            stderr,
            "probe: %s (the scenario could not be run: the server would share the host's network; "
            "--allow-host-net allows that)\n",
            netns_err);
        return 3;
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
