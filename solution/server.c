/*
 * The solution: the labs' line server, written so that nothing a client does
 * can kill it, stall it, or make it spin.
 *
 * The service is the original's: receive a line, print it on standard output,
 * reply "done\n". What changed, and which lab's failure each change prevents
 * (solution/README.md tells the whole story):
 *
 *   - Every return value is checked. recv() == 0 means the client closed its
 *     end: that conversation is over (labs 2 and 3 call recv() again forever).
 *   - send() passes MSG_NOSIGNAL (SO_NOSIGPIPE on systems without it), so a
 *     send to a client that has gone fails with EPIPE instead of raising
 *     SIGPIPE (lab 1 dies of it; lab 4 too, if its first client resets early).
 *     EPIPE and ECONNRESET end that one client, with a line on stderr.
 *   - One poll() loop serves every client at once on non-blocking sockets,
 *     each client with its own input and output buffer, so a client that is
 *     idle, slow, or never reads its replies holds up nobody else (the labs
 *     serve one client at a time). A client that leaves more than OUT_CAP
 *     bytes of replies unread is dropped.
 *   - SIGINT and SIGTERM end the server cleanly, exit status 0: the handler
 *     sets a volatile sig_atomic_t flag and wakes poll() through a pipe.
 *
 * The protocol is lines. Each '\n'-terminated line is printed and answered
 * with exactly one "done\n", in order, however the network splits the bytes.
 * A line longer than LINE_MAX_BYTES (4096, the original's buffer) still counts
 * as one line and gets one "done\n": the server keeps its first 4096 bytes,
 * discards the rest as it streams in, and says so on stderr.
 *
 * Usage: server [port]            (default port 3333)
 * Try:   build/solution/server 3333 &  and then  build/solution/client 3333
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    DEFAULT_PORT = 3333,
    /* Connections the kernel completes and queues before accept() takes them.
     * The original's 10 overflows when many clients arrive at once: the
     * kernel then drops their handshakes, and they wait for retransmissions,
     * seconds each. SOMAXCONN is the most the kernel allows (it caps the value
     * at net.core.somaxconn). */
    BACKLOG = SOMAXCONN,
    LINE_MAX_BYTES = 4096, /* bytes of a line kept, the original's buffer */
    OUT_CAP = 16384,       /* bytes of replies a client may leave unread */
    MAX_CLIENTS = 1000,    /* below the usual limit of 1024 open files */
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
static volatile sig_atomic_t stop_signal;    /* the signal that asked us to stop */
static volatile sig_atomic_t wakeup_fd = -1; /* write end of the self-pipe */

/* One connected client. */
struct client {
    int fd;
    char name[INET_ADDRSTRLEN + sizeof ":65535"]; /* "127.0.0.1:51000" */
    char line[LINE_MAX_BYTES]; /* the line being received, without its '\n' */
    size_t line_len;           /* bytes kept in line[] */
    size_t line_dropped;       /* bytes of this line discarded past line[] */
    char out[OUT_CAP];         /* replies not yet sent */
    size_t out_len;
    bool peer_closed;          /* recv() returned 0: send what is left, close */
};

/* --- errors ---------------------------------------------------------------- */

/* Print "server: WHAT: strerror(errno) (HINT)" and exit 1. */
static _Noreturn void die(const char *what, const char *hint)
{
    fprintf(stderr, "server: %s: %s (%s)\n", what, strerror(errno), hint);
    exit(1);
}

static _Noreturn void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: server [port]\n"
            "\n"
            "Prints each line a client sends and answers it with \"done\".\n"
            "Serves many clients at once; stops cleanly on SIGINT or SIGTERM.\n"
            "\n"
            "  port   TCP port to listen on, on every IPv4 address (default %d)\n",
            DEFAULT_PORT);
    exit(status);
}

/* The port number in ARG, or -1 if ARG is not a number from 1 to 65535. */
static int parse_port(const char *arg)
{
    char *end;
    errno = 0;
    long port = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || port < 1 || port > 65535)
        return -1;
    return (int)port;
}

/* --- stopping on SIGINT and SIGTERM ------------------------------------------ */

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
    ssize_t n = write(wakeup_fd, "", 1); /* full pipe: a wakeup is pending */
    (void)n;
    errno = saved_errno;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Make the self-pipe, install the handlers; return the pipe's read end. */
static int catch_stop_signals(void)
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
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        die("sigaction", "this should not happen; report it");
    return pipefd[0];
}

/* --- sockets ------------------------------------------------------------------ */

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

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket", "too many open files? check ulimit -n");

    /* Without SO_REUSEADDR, a restarted server cannot bind the port while
     * the last run's connections sit in TIME_WAIT, for a minute or so. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        die("setsockopt SO_REUSEADDR", "this should not happen; report it");

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons((unsigned short)port);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        char what[64];
        snprintf(what, sizeof what, "bind to port %d", port);
        die(what, errno == EADDRINUSE ? "another program uses it: stop it, or pick another port"
                  : errno == EACCES       ? "ports below 1024 need privileges: pick a port above 1024"
                                          : "pick another port");
    }
    if (listen(fd, BACKLOG) < 0)
        die("listen", "this should not happen; report it");

    /* Non-blocking, because a client may reset its connection between poll()
     * saying "a connection is waiting" and our accept(): a blocking accept()
     * would then wait for the next client while every other client waits. */
    if (set_nonblocking(fd) < 0)
        die("fcntl O_NONBLOCK on the listening socket", "this should not happen; report it");
    return fd;
}

/* --- one client ------------------------------------------------------------- */

static void client_close(struct client **slot)
{
    if (close((*slot)->fd) < 0)
        fprintf(stderr, "server: client %s: close: %s\n", (*slot)->name, strerror(errno));
    free(*slot);
    *slot = NULL;
}

/* Print the line on stdout, one write per line. A failing stdout (a full
 * disk, say) is reported once; serving the clients matters more than the log. */
static void print_line(const struct client *c)
{
    static bool warned;
    if ((c->line_len > 0 && fwrite(c->line, c->line_len, 1, stdout) != 1) ||
        putchar('\n') == EOF || fflush(stdout) == EOF) {
        if (!warned)
            fprintf(stderr, "server: writing standard output: %s (lines are no longer all printed)\n",
                    strerror(errno));
        warned = true;
        clearerr(stdout);
    }
}

/* A whole line has arrived: print it, queue its one reply. False if the client
 * is to be dropped because it leaves too many replies unread. */
static bool client_end_line(struct client *c)
{
    print_line(c);
    if (c->line_dropped > 0)
        fprintf(stderr, "server: client %s: a line of %zu bytes: printed its first %d, discarded the rest\n",
                c->name, c->line_len + c->line_dropped, LINE_MAX_BYTES);
    c->line_len = 0;
    c->line_dropped = 0;

    if (c->out_len + REPLY_LEN > OUT_CAP) {
        fprintf(stderr, "server: client %s: dropped: it sends but does not read, %zu bytes of replies are waiting\n",
                c->name, c->out_len);
        return false;
    }
    memcpy(c->out + c->out_len, REPLY, REPLY_LEN);
    c->out_len += REPLY_LEN;
    return true;
}

/* Split N received bytes into lines: a line may come in several pieces, and
 * one piece may hold several lines. */
static bool client_take(struct client *c, const char *data, size_t n)
{
    while (n > 0) {
        const char *newline = memchr(data, '\n', n);
        size_t part = newline ? (size_t)(newline - data) : n;
        size_t room = LINE_MAX_BYTES - c->line_len;
        size_t keep = part < room ? part : room;

        memcpy(c->line + c->line_len, data, keep);
        c->line_len += keep;
        c->line_dropped += part - keep; /* the long-line rule */
        if (newline == NULL)
            break;
        if (!client_end_line(c))
            return false;
        data += part + 1;
        n -= part + 1;
    }
    return true;
}

/* The client's socket is readable. False when the conversation is over. */
static bool client_read(struct client *c)
{
    char buf[LINE_MAX_BYTES];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);

    if (n > 0)
        return client_take(c, buf, (size_t)n);
    if (n == 0) {
        /* The client closed its end (a FIN). Labs 2 and 3 never look, and
         * call recv() again, which returns 0 again, forever. */
        if (c->line_len + c->line_dropped > 0)
            fprintf(stderr, "server: client %s: left an unfinished line of %zu bytes, not answered\n",
                    c->name, c->line_len + c->line_dropped);
        fprintf(stderr, "server: client %s: closed the connection\n", c->name);
        c->peer_closed = true;
        return true; /* main() closes once the replies still queued are sent */
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return true; /* nothing after all, or a signal: poll() will say again */
    if (errno == ECONNRESET)
        fprintf(stderr, "server: client %s: reset the connection (ECONNRESET)\n", c->name);
    else
        fprintf(stderr, "server: client %s: recv: %s\n", c->name, strerror(errno));
    return false;
}

/* Send what is queued, as much as the socket takes now. False when the
 * conversation is over. */
static bool client_flush(struct client *c)
{
    size_t sent = 0;
    while (sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + sent, c->out_len - sent, SEND_FLAGS);
        if (n >= 0) {
            sent += (size_t)n; /* a partial send: the loop sends the rest */
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break; /* the socket is full: poll() says when there is room */
        if (errno == EPIPE || errno == ECONNRESET)
            fprintf(stderr, "server: client %s: has gone, the reply cannot be sent (%s)\n",
                    c->name, errno == EPIPE ? "EPIPE" : "ECONNRESET");
        else
            fprintf(stderr, "server: client %s: send: %s\n", c->name, strerror(errno));
        return false;
    }
    memmove(c->out, c->out + sent, c->out_len - sent);
    c->out_len -= sent;
    return true;
}

/* Something happened on the client's socket (REVENTS from poll()). False when
 * the conversation is over and the client is to be closed. */
static bool client_serve(struct client *c, short revents)
{
    /* POLLHUP and POLLERR are read too: recv() then says what happened. */
    if (!c->peer_closed && (revents & (POLLIN | POLLHUP | POLLERR)) && !client_read(c))
        return false;
    /* Send at once what the read queued; what does not fit waits for POLLOUT. */
    if (c->out_len > 0 && !client_flush(c))
        return false;
    return !(c->peer_closed && c->out_len == 0);
}

/* --- accepting --------------------------------------------------------------- */

static int free_slot(struct client *clients[])
{
    for (int slot = 0; slot < MAX_CLIENTS; slot++)
        if (clients[slot] == NULL)
            return slot;
    return -1;
}

/* Accept the connections that are waiting, into free slots. False if accept()
 * failed in a way that may last (out of file descriptors, say): main() then
 * stops accepting for a second instead of retrying at once, forever. */
static bool accept_clients(int listen_fd, struct client *clients[])
{
    int slot;
    while ((slot = free_slot(clients)) >= 0) {
        struct sockaddr_in addr;
        socklen_t addr_len = sizeof addr;
        int fd = accept(listen_fd, (struct sockaddr *)&addr, &addr_len);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true; /* nobody else is waiting */
            if (errno == EINTR || errno == ECONNABORTED)
                continue; /* that one gave up before we got to it: next */
            fprintf(stderr, "server: accept: %s (new clients wait%s)\n", strerror(errno),
                    errno == EMFILE || errno == ENFILE ? "; raise the limit with ulimit -n" : "");
            return false;
        }

        struct client *c = calloc(1, sizeof *c);
        if (c == NULL || set_nonblocking(fd) < 0 || no_sigpipe(fd) < 0) {
            fprintf(stderr, "server: setting up a new client: %s (it is turned away)\n", strerror(errno));
            free(c);
            close(fd);
            continue;
        }
        c->fd = fd;
        char ip[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip) == NULL)
            snprintf(ip, sizeof ip, "?");
        snprintf(c->name, sizeof c->name, "%s:%u", ip, (unsigned)ntohs(addr.sin_port));
        clients[slot] = c;
        fprintf(stderr, "server: client %s: connected\n", c->name);
    }
    return true; /* every slot taken: the rest wait in the listen backlog */
}

/* --- main ------------------------------------------------------------------ */

int main(int argc, char *argv[])
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        usage(stdout, 0);
    if (argc > 2)
        usage(stderr, 2);
    int port = argc > 1 ? parse_port(argv[1]) : DEFAULT_PORT;
    if (port < 0) {
        fprintf(stderr, "server: bad port '%s': give a number from 1 to 65535 (usage: server [port])\n",
                argv[1]);
        return 2;
    }

    int wakeup_read = catch_stop_signals();
    int listen_fd = listen_on(port);
    fprintf(stderr, "server: listening on port %d\n", port);

    struct client *clients[MAX_CLIENTS] = {NULL};
    struct pollfd fds[2 + MAX_CLIENTS];
    int slot_of[2 + MAX_CLIENTS]; /* fds[i], from i = 2, watches clients[slot_of[i]] */
    bool accepting = true;

    while (!stop_signal) {
        /* Who to watch: the wakeup pipe; the listening socket, unless every
         * slot is taken or accept() just failed (poll() skips a negative fd);
         * and every client: for input until it closed its end, for room to
         * send while replies wait. */
        int nfds = 2, nclients = 0;
        for (int slot = 0; slot < MAX_CLIENTS; slot++) {
            struct client *c = clients[slot];
            if (c == NULL)
                continue;
            nclients++;
            short events = (c->peer_closed ? 0 : POLLIN) | (c->out_len > 0 ? POLLOUT : 0);
            slot_of[nfds] = slot;
            fds[nfds++] = (struct pollfd){.fd = c->fd, .events = events};
        }
        fds[0] = (struct pollfd){.fd = wakeup_read, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = accepting && nclients < MAX_CLIENTS ? listen_fd : -1, .events = POLLIN};

        int ready = poll(fds, (nfds_t)nfds, accepting ? -1 : 1000);
        if (ready < 0) {
            if (errno == EINTR)
                continue; /* a signal: the loop condition looks at it */
            die("poll", "this should not happen; report it");
        }
        accepting = true;

        if (fds[0].revents & POLLIN) {
            char drain[64];
            while (read(wakeup_read, drain, sizeof drain) > 0)
                continue;
        }
        for (int i = 2; i < nfds; i++) {
            if (fds[i].revents == 0)
                continue;
            struct client **slot = &clients[slot_of[i]];
            if (!client_serve(*slot, fds[i].revents))
                client_close(slot);
        }
        if (fds[1].revents & POLLIN)
            accepting = accept_clients(listen_fd, clients);
    }

    int open_clients = 0;
    for (int slot = 0; slot < MAX_CLIENTS; slot++) {
        if (clients[slot] != NULL) {
            client_close(&clients[slot]);
            open_clients++;
        }
    }
    fprintf(stderr, "server: %s: closed %d connection%s, exiting\n",
            stop_signal == SIGINT ? "SIGINT" : "SIGTERM", open_clients, open_clients == 1 ? "" : "s");
    if (close(listen_fd) < 0 || close(wakeup_read) < 0 || close(wakeup_fd) < 0)
        die("close", "this should not happen; report it");
    return 0;
}
