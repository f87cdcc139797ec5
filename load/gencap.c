/*
 * gencap: write a large, realistic TCP capture for benchmarking readers of
 * captures (sigtrace -r, tcpdump, tshark).
 *
 * The capture is classic pcap (microsecond timestamps, Ethernet link type)
 * of the labs' conversation, many times over: CONCURRENCY connections are
 * open at once, their packets interleaved. Each connection opens with a
 * three-way handshake, exchanges a few lines ("line N\n" answered by
 * "done\n", each acknowledged), and closes in one of three ways:
 *
 *   - orderly: FIN from the client, FIN from the server, last ACK;
 *   - reset: the client aborts with RST;
 *   - lab 1's ending: the client's FIN, the server's late reply, the RST
 *     that answers it.
 *
 * When a connection ends, a new one (new client address and port) takes its
 * place, so the number of open connections stays at CONCURRENCY however long
 * the capture. IP and TCP checksums are correct. The output is the same for
 * the same arguments (a fixed pseudo-random sequence).
 *
 * Usage: gencap -o FILE [-n PACKETS] [-c CONCURRENCY]
 * Try:   gencap -o /tmp/big.pcap -n 1000000 -c 200 && tcpdump -nn -r /tmp/big.pcap | head
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/die.h"

#define PROG "gencap"

enum {
    ETH_LEN = 14,
    IP_LEN = 20,
    TCP_LEN = 20,
    MAX_PAYLOAD = 32,
    MAX_LINES = 8, /* lines per connection, at most */
    SERVER_PORT = 3333,
    STEP_USEC = 50, /* capture time between packets */
};

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };
enum close_kind { CLOSE_ORDERLY, CLOSE_RESET, CLOSE_LATE_REPLY, CLOSE_KINDS };

/* One connection in flight: its endpoints, where each side's sequence is,
 * and how far through its script it is. */
struct conn {
    uint32_t client_ip;
    uint16_t client_port;
    uint32_t client_seq, server_seq; /* next sequence number each side sends */
    int lines;                       /* lines this connection exchanges */
    enum close_kind close;
    int step; /* next packet of its script */
};

struct gen {
    FILE *out;
    const char *path;
    uint64_t rng;
    uint64_t usec;        /* capture clock */
    uint32_t next_client; /* counter that makes each connection's endpoint */
    uint32_t server_ip;
    unsigned long packets; /* written so far */
};

static _Noreturn void usage(FILE *to, int status)
{
    fprintf(to,
            "usage: " PROG " -o FILE [-n PACKETS] [-c CONCURRENCY]\n"
            "\n"
            "Writes a classic pcap file of many TCP connections, CONCURRENCY of them open\n"
            "at once and interleaved: handshakes, lines and replies, orderly and reset closes.\n"
            "\n"
            "  -o FILE          where to write the capture (\"-\" for standard output)\n"
            "  -n PACKETS       how many packets (default 1000000)\n"
            "  -c CONCURRENCY   connections open at once (default 200, at most 100000)\n");
    exit(status);
}

/* xorshift64*: small, fast, and the same sequence everywhere. */
static uint32_t rng_next(struct gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * 2685821657736338717ULL) >> 32);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
/* The pcap headers are in the writer's byte order, which the magic tells. */
static void put32_host(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }
static void put16_host(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof v); }

/* The Internet checksum's running sum over LEN bytes. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void write_all(struct gen *g, const void *buf, size_t len)
{
    if (fwrite(buf, 1, len, g->out) != len)
        die_hint("is the disk full?", "%s: %s", g->path, strerror(errno));
}

static void write_file_header(struct gen *g)
{
    uint8_t h[24];
    put32_host(h, 0xa1b2c3d4); /* classic pcap, microseconds */
    put16_host(h + 4, 2);
    put16_host(h + 6, 4);
    put32_host(h + 8, 0);      /* thiszone */
    put32_host(h + 12, 0);     /* sigfigs */
    put32_host(h + 16, 65535); /* snaplen */
    put32_host(h + 20, 1);     /* LINKTYPE_ETHERNET */
    write_all(g, h, sizeof h);
}

/* Write one Ethernet/IPv4/TCP frame from the client (to_server) or to it. */
static void emit(struct gen *g, struct conn *c, int to_server, uint8_t flags, const char *payload)
{
    size_t plen = payload ? strlen(payload) : 0;
    uint8_t frame[ETH_LEN + IP_LEN + TCP_LEN + MAX_PAYLOAD];
    uint8_t *eth = frame, *ip = frame + ETH_LEN, *tcp = ip + IP_LEN;
    uint32_t src = to_server ? c->client_ip : g->server_ip;
    uint32_t dst = to_server ? g->server_ip : c->client_ip;
    uint16_t sport = to_server ? c->client_port : SERVER_PORT;
    uint16_t dport = to_server ? SERVER_PORT : c->client_port;
    uint32_t *seq = to_server ? &c->client_seq : &c->server_seq;
    uint32_t ack = to_server ? c->server_seq : c->client_seq;

    /* Ethernet: locally administered addresses, one per side. */
    static const uint8_t mac_client[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    static const uint8_t mac_server[6] = { 0x02, 0, 0, 0, 0, 0x02 };
    memcpy(eth, to_server ? mac_server : mac_client, 6);
    memcpy(eth + 6, to_server ? mac_client : mac_server, 6);
    put16(eth + 12, 0x0800);

    memset(ip, 0, IP_LEN);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(IP_LEN + TCP_LEN + plen));
    put16(ip + 4, (uint16_t)g->packets);
    put16(ip + 6, 0x4000); /* don't fragment */
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, fold(sum16(0, ip, IP_LEN)));

    memset(tcp, 0, TCP_LEN);
    put16(tcp, sport);
    put16(tcp + 2, dport);
    put32(tcp + 4, *seq);
    put32(tcp + 8, (flags & F_ACK) ? ack : 0);
    tcp[12] = (TCP_LEN / 4) << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65483);
    if (plen > 0)
        memcpy(tcp + TCP_LEN, payload, plen);
    uint32_t sum = sum16(0, ip + 12, 8); /* pseudo-header: addresses, protocol, length */
    sum += 6 + (uint32_t)(TCP_LEN + plen);
    put16(tcp + 16, fold(sum16(sum, tcp, TCP_LEN + plen)));

    /* SYN and FIN take one sequence number, like a byte. */
    *seq += (uint32_t)plen + ((flags & (F_SYN | F_FIN)) ? 1 : 0);

    uint8_t rec[16];
    uint32_t caplen = (uint32_t)(ETH_LEN + IP_LEN + TCP_LEN + plen);
    put32_host(rec, (uint32_t)(g->usec / 1000000));
    put32_host(rec + 4, (uint32_t)(g->usec % 1000000));
    put32_host(rec + 8, caplen);
    put32_host(rec + 12, caplen);
    write_all(g, rec, sizeof rec);
    write_all(g, frame, caplen);
    g->packets++;
    g->usec += STEP_USEC / 2 + rng_next(g) % STEP_USEC;
}

static void conn_start(struct gen *g, struct conn *c)
{
    uint32_t n = g->next_client++;
    c->client_ip = 0x0a000000u | (1u + n / 28000 % 65000) << 8 | (1u + n % 250);
    c->client_port = (uint16_t)(32768 + n % 28000);
    c->client_seq = rng_next(g);
    c->server_seq = rng_next(g);
    c->lines = 1 + (int)(rng_next(g) % MAX_LINES);
    c->close = (enum close_kind)(rng_next(g) % CLOSE_KINDS);
    c->step = 0;
}

/* Write the next packet of C's script; 0 when the script has ended. */
static int conn_step(struct gen *g, struct conn *c)
{
    int step = c->step++;
    if (step == 0) {
        emit(g, c, 1, F_SYN, NULL);
        return 1;
    }
    if (step == 1) {
        emit(g, c, 0, F_SYN | F_ACK, NULL);
        return 1;
    }
    if (step == 2) {
        emit(g, c, 1, F_ACK, NULL);
        return 1;
    }
    step -= 3;
    if (step < 3 * c->lines) {
        char line[MAX_PAYLOAD];
        switch (step % 3) {
        case 0:
            snprintf(line, sizeof line, "line %d\n", step / 3 + 1);
            emit(g, c, 1, F_PSH | F_ACK, line);
            break;
        case 1: emit(g, c, 0, F_PSH | F_ACK, "done\n"); break;
        default: emit(g, c, 1, F_ACK, NULL); break;
        }
        return 1;
    }
    step -= 3 * c->lines;
    switch (c->close) {
    case CLOSE_ORDERLY:
        if (step == 0) {
            emit(g, c, 1, F_FIN | F_ACK, NULL);
            return 1;
        }
        if (step == 1) {
            emit(g, c, 0, F_FIN | F_ACK, NULL);
            return 1;
        }
        if (step == 2) {
            emit(g, c, 1, F_ACK, NULL);
            return 1;
        }
        return 0;
    case CLOSE_RESET:
        if (step == 0) {
            emit(g, c, 1, F_RST | F_ACK, NULL);
            return 1;
        }
        return 0;
    case CLOSE_LATE_REPLY:
    default:
        if (step == 0) {
            emit(g, c, 1, F_FIN | F_ACK, NULL);
            return 1;
        }
        if (step == 1) {
            emit(g, c, 0, F_PSH | F_ACK, "done\n");
            return 1;
        }
        if (step == 2) {
            emit(g, c, 1, F_RST, NULL);
            return 1;
        }
        return 0;
    }
}

static unsigned long parse_count(const char *arg, const char *what, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < 1 || v > max) {
        fprintf(stderr, PROG ": bad %s '%s': give a whole number from 1 to %lu\n", what, arg, max);
        usage(stderr, 2);
    }
    return v;
}

int main(int argc, char *argv[])
{
    die_init(PROG);
    const char *path = NULL;
    unsigned long packets = 1000000, concurrency = 200;
    int opt;
    while ((opt = getopt(argc, argv, "o:n:c:h")) != -1) {
        switch (opt) {
        case 'o': path = optarg; break;
        case 'n': packets = parse_count(optarg, "packet count", 1000000000UL); break;
        case 'c': concurrency = parse_count(optarg, "concurrency", 100000); break;
        case 'h': usage(stdout, 0);
        default: usage(stderr, 2);
        }
    }
    if (path == NULL || optind != argc)
        usage(stderr, 2);

    struct gen g = { .path = path,
                     .rng = 0x9e3779b97f4a7c15ULL,
                     .usec = 1764000000ULL * 1000000,
                     .server_ip = 0x0a640001u /* 10.100.0.1 */ };
    g.out = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (g.out == NULL)
        die_hint("check the directory exists and is writable", "%s: %s", path, strerror(errno));
    static char buf[1 << 20];
    if (setvbuf(g.out, buf, _IOFBF, sizeof buf) != 0)
        die_hint("this should not happen; report it", "setvbuf: %s", "cannot set a buffer");

    struct conn *conns = calloc(concurrency, sizeof *conns);
    if (conns == NULL)
        die_hint("ask for fewer connections with -c", "calloc: %s", strerror(errno));
    for (unsigned long i = 0; i < concurrency; i++)
        conn_start(&g, &conns[i]);

    write_file_header(&g);
    while (g.packets < packets) {
        struct conn *c = &conns[rng_next(&g) % concurrency];
        if (!conn_step(&g, c)) {
            conn_start(&g, c);
            if (!conn_step(&g, c))
                die_hint("report it", "internal: %s", "a new connection has no packets");
        }
    }
    free(conns);
    if (fflush(g.out) != 0 || (g.out != stdout && fclose(g.out) != 0))
        die_hint("is the disk full?", "%s: %s", path, strerror(errno));
    return 0;
}
