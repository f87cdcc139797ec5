/*
 * pingpong: N one-byte round trips over one TCP connection on loopback, the
 * smallest unit of work a traced server does (a receive and a send on each
 * side), to measure what tracing costs per system call: run it alone, under
 * strace -f, and under sigtrace, and compare the rates.
 *
 * One process listens on 127.0.0.1 (a port the kernel picks) and forks an
 * echo child; the parent connects, then writes one byte and reads it back,
 * N times. It prints one line on standard error:
 *
 *   pingpong: round_trips=N seconds=S per_s=R
 *
 * where S is the time the round trips took (setting up is not counted).
 *
 * Usage: pingpong [-n N]   (default 100000); pingpong -h
 *
 * Exit status: 0 when every byte came back; 1 on failure; 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/die.h"

#define PROG "pingpong"
#define DEFAULT_ROUND_TRIPS 100000L
#define MAX_ROUND_TRIPS 1000000000L

/* The echo side: every byte back, until the peer closes. */
static void echo(int listener)
{
    int fd = accept(listener, NULL, NULL);
    if (fd < 0)
        die("accept");
    char byte;
    ssize_t n;
    while ((n = read(fd, &byte, 1)) == 1)
        if (write(fd, &byte, 1) != 1)
            die("write (echo)");
    if (n < 0)
        die("read (echo)");
    _exit(0);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    long round_trips = DEFAULT_ROUND_TRIPS;
    die_init(PROG);
    int opt;
    while ((opt = getopt(argc, argv, "n:h")) != -1) {
        char *end;
        if (opt == 'h') {
            printf("usage: " PROG " [-n N]   N one-byte round trips on loopback (default %ld)\n",
                   DEFAULT_ROUND_TRIPS);
            return 0;
        }
        if (opt != 'n')
            usage_error("unknown option");
        errno = 0;
        round_trips = strtol(optarg, &end, 10);
        if (errno || *end || round_trips < 1 || round_trips > MAX_ROUND_TRIPS)
            usage_error("bad count '%s': give a number from 1 to %ld", optarg, MAX_ROUND_TRIPS);
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        listen(listener, 1) < 0 || getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
        die("cannot listen on 127.0.0.1");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0)
        echo(listener);
    close(listener);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("cannot connect to the echo side");
    /* One byte a segment, at once: no Nagle delay between a round trip and the next. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char byte = 'x';
    for (long i = 0; i < round_trips; i++) {
        if (write(fd, &byte, 1) != 1)
            die("write");
        ssize_t n = read(fd, &byte, 1);
        if (n != 1) {
            if (n == 0)
                errno = ECONNRESET;
            die("read, round trip %ld of %ld", i + 1, round_trips);
        }
    }
    double took = seconds_since(&start);
    close(fd);
    int status;
    if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die_hint(NULL, "the echo side failed");
    fprintf(stderr, PROG ": round_trips=%ld seconds=%.3f per_s=%.0f\n", round_trips, took,
            round_trips / took);
    return 0;
}
