/*
 * The solution's client: sends each line of standard input to the server,
 * waits for the reply ("done\n") and prints it.
 *
 * What it does that the labs' client does not:
 *   - it checks every call, and says clearly when it cannot connect;
 *   - it reads until it has the whole reply line, however the network splits
 *     it (one recv() may return part of a reply);
 *   - it sends with MSG_NOSIGNAL (SO_NOSIGPIPE where that is missing), so a
 *     server that has gone is an error message, not a death by SIGPIPE;
 *   - when its input ends it tells the server with shutdown(SHUT_WR), then
 *     reads until the server closes: no reply is lost, and it never closes
 *     with unread data, which would make its close() send a RST.
 * Lines of any length are sent whole; a last line without '\n' gets one.
 *
 * Usage: client [port [host]]     (defaults 3333 and 127.0.0.1)
 * Try:   printf 'hello\nworld\n' | build/solution/client 3333
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

enum { DEFAULT_PORT = 3333, REPLY_MAX = 4096 };
#define DEFAULT_HOST "127.0.0.1"

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#elif defined(SO_NOSIGPIPE)
#define SEND_FLAGS 0
#else
#error "neither MSG_NOSIGNAL nor SO_NOSIGPIPE: ignore SIGPIPE with sigaction() instead"
#endif

/* Bytes received from the server and not yet printed. */
struct inbox {
    char buf[REPLY_MAX];
    size_t len;
};

/* Print "client: WHAT: WHY (HINT)" and exit 1. */
static _Noreturn void die_because(const char *what, const char *why, const char *hint)
{
    fprintf(stderr, "client: %s: %s (%s)\n", what, why, hint);
    exit(1);
}

/* Print "client: WHAT: strerror(errno) (HINT)" and exit 1. */
static _Noreturn void die(const char *what, const char *hint)
{
    die_because(what, strerror(errno), hint);
}

static _Noreturn void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: client [port [host]]\n"
            "\n"
            "Sends each line of standard input to the server and prints its reply.\n"
            "\n"
            "  port   the server's TCP port (default %d)\n"
            "  host   the server's address or name (default %s)\n",
            DEFAULT_PORT, DEFAULT_HOST);
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

/* Connect to HOST:PORT, trying each address the name has; die if none works. */
static int connect_to(const char *host, int port)
{
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints, *addrs;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, service, &hints, &addrs);
    if (rc != 0) {
        char what[300];
        snprintf(what, sizeof what, "looking up host '%s'", host);
        die_because(what, gai_strerror(rc),
                    "give an address such as 127.0.0.1, or a name that resolves");
    }

    int fd = -1, connect_errno = 0;
    for (struct addrinfo *a = addrs; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            connect_errno = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            connect_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(addrs);
    if (fd < 0) {
        char what[300], hint[100];
        snprintf(what, sizeof what, "connect to %s port %d", host, port);
        snprintf(hint, sizeof hint, "is the server running? start it with: server %d", port);
        errno = connect_errno;
        die(what, hint);
    }

#ifndef MSG_NOSIGNAL
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0)
        die("setsockopt SO_NOSIGPIPE", "this should not happen; report it");
#endif
    return fd;
}

/* Send all N bytes: send() may take fewer, or be interrupted by a signal. */
static void send_all(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t sent = send(fd, data, n, SEND_FLAGS);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            die("sending to the server", "the server has gone: it stopped, or dropped this client");
        }
        data += sent;
        n -= (size_t)sent;
    }
}

/* Receive more bytes into the inbox; the number received, 0 at end of file. */
static size_t receive(int fd, struct inbox *in)
{
    for (;;) {
        ssize_t n = recv(fd, in->buf + in->len, sizeof in->buf - in->len, 0);
        if (n >= 0) {
            in->len += (size_t)n;
            return (size_t)n;
        }
        if (errno != EINTR)
            die("receiving from the server",
                "the server has gone: it stopped, or dropped this client");
    }
}

/* Print the first N bytes of the inbox and remove them from it. */
static void print_and_drop(struct inbox *in, size_t n)
{
    if (fwrite(in->buf, 1, n, stdout) != n || fflush(stdout) == EOF)
        die("writing standard output", "is the disk full, or the reader gone?");
    memmove(in->buf, in->buf + n, in->len - n);
    in->len -= n;
}

/* Read until a whole reply line has arrived, and print it. */
static void print_reply(int fd, struct inbox *in)
{
    for (;;) {
        char *newline = memchr(in->buf, '\n', in->len);
        if (newline != NULL) {
            print_and_drop(in, (size_t)(newline - in->buf) + 1);
            return;
        }
        if (in->len == sizeof in->buf)
            print_and_drop(in, in->len); /* a reply longer than ours: pass it on */
        if (receive(fd, in) == 0)
            die_because("waiting for the reply", "the server closed the connection",
                        "it stopped, or dropped this client");
    }
}

int main(int argc, char *argv[])
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
        usage(stdout, 0);
    if (argc > 3)
        usage(stderr, 2);
    int port = argc > 1 ? parse_port(argv[1]) : DEFAULT_PORT;
    if (port < 0) {
        fprintf(
            stderr,
            "client: bad port '%s': give a number from 1 to 65535 (usage: client [port [host]])\n",
            argv[1]);
        return 2;
    }
    const char *host = argc > 2 ? argv[2] : DEFAULT_HOST;

    int fd = connect_to(host, port);

    /* getline(), not fgets() into a fixed buffer: it returns the length (a
     * line may hold '\0' bytes) and reads a line of any length whole. */
    struct inbox in = { .len = 0 };
    char *line = NULL;
    size_t line_size = 0;
    ssize_t len;
    while ((len = getline(&line, &line_size, stdin)) > 0) {
        if (line[len - 1] != '\n')
            line[len++] = '\n'; /* getline() left room for its '\0' */
        send_all(fd, line, (size_t)len);
        print_reply(fd, &in);
    }
    if (!feof(stdin)) /* getline() failed for another reason than the end */
        die("reading standard input", "check what is connected to it");
    free(line);

    /* Tell the server we are done (a FIN), and read until it closes: the
     * conversation ends in order, and nothing is left unread. */
    if (shutdown(fd, SHUT_WR) < 0)
        die("shutdown", "the server has gone: it stopped, or dropped this client");
    if (in.len > 0)
        print_and_drop(&in, in.len);
    while (receive(fd, &in) > 0)
        print_and_drop(&in, in.len);
    if (close(fd) < 0)
        die("close", "this should not happen; report it");
    return 0;
}
