/*
 * pcaploop: read a capture with libpcap and do nothing with its packets:
 * the floor under any reader of captures, what libpcap alone costs. The
 * bench times it next to `sigtrace -r FILE --summary` on the same file.
 *
 * It opens the file as sigtrace does (pcap_open_offline, nanosecond
 * timestamps) and takes the packets as sigtrace does (pcap_dispatch, a
 * callback per packet), the callback only counting them and their bytes, so
 * that the loop is not optimised away. It prints one line on standard error:
 *
 *   pcaploop: packets=N bytes=B
 *
 * Usage: pcaploop FILE; pcaploop -h
 *
 * Exit status: 0 when the whole file was read; 1 on failure; 2 on bad arguments.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "../lib/die.h"

#define PROG "pcaploop"

struct count {
    unsigned long long packets, bytes;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct count *c = (struct count *)user;
    (void)bytes;
    c->packets++;
    c->bytes += h->caplen;
}

int main(int argc, char *argv[])
{
    die_init(PROG);
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: " PROG " FILE   read a capture with libpcap, doing nothing with it\n");
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-')
        usage_error("give one capture file");
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p)
        die_hint("give a pcap or pcapng file", "cannot read %s: %s", argv[1], err);
    struct count c = { 0, 0 };
    int n;
    while ((n = pcap_dispatch(p, 256, on_packet, (u_char *)&c)) > 0)
        ;
    if (n == PCAP_ERROR) {
        char why[PCAP_ERRBUF_SIZE + 1];
        snprintf(why, sizeof why, "%s", pcap_geterr(p));
        pcap_close(p);
        die_hint(NULL, "cannot read %s: %s", argv[1], why);
    }
    pcap_close(p);
    fprintf(stderr, PROG ": packets=%llu bytes=%llu\n", c.packets, c.bytes);
    return 0;
}
