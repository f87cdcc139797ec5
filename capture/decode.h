/*
 * decode: from a captured frame to the TCP segment inside it.
 *
 * Every read of frame bytes is checked against the captured length first:
 * the bytes we have are caplen, not the length the packet had on the wire.
 * Pure functions, no allocation: this is the fuzzing target.
 */
#ifndef SIGTRACE_DECODE_H
#define SIGTRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* TCP flag bits, as in the header's flags byte. */
enum {
    TCPF_FIN = 0x01,
    TCPF_SYN = 0x02,
    TCPF_RST = 0x04,
    TCPF_PSH = 0x08,
    TCPF_ACK = 0x10,
    TCPF_URG = 0x20,
    TCPF_ECE = 0x40,
    TCPF_CWR = 0x80,
};

struct tcp_seg {
    int family;      /* AF_INET or AF_INET6 */
    uint8_t src[16]; /* network order; IPv4 uses the first 4 bytes */
    uint8_t dst[16];
    uint16_t sport, dport; /* host order */
    uint32_t seq, ack;
    uint8_t flags; /* TCPF_* */
    uint16_t window;
    uint32_t payload_len;    /* from the IP header: the length on the wire */
    const uint8_t *payload;  /* points into the frame */
    uint32_t payload_caplen; /* how much of the payload was captured */
    /*
     * The IP packet's length from its header (IPv4's total length, IPv6's
     * payload length and its 40 bytes), of the innermost IP header through
     * tunnels: what Zeek's orig_ip_bytes and resp_ip_bytes add up.
     */
    uint32_t ip_len;
    /*
     * A segment that came through tunnels: how many (0 for none), the kind
     * of the outermost ("GRE", "VXLAN" ...), and the addresses of the IP
     * packet that carried it, as Zeek's tunnel_parents names the outer
     * connection.
     */
    int tunnels;
    const char *tunnel;
    int outer_family;
    uint8_t outer_src[16], outer_dst[16];
};

enum decode_result {
    DECODE_TCP,       /* *seg is filled in */
    DECODE_OTHER,     /* a well-formed frame that is not TCP over IPv4/IPv6: skip, count */
    DECODE_TRUNCATED, /* cut by the snap length before the TCP header ended */
    DECODE_MALFORMED, /* impossible lengths or versions */
};

/*
 * Decode one frame of the given DLT_/LINKTYPE_ value. Supported: Ethernet
 * (with 802.1Q/802.1ad tags, MPLS labels, PPPoE sessions), Linux cooked SLL
 * and SLL2, BSD loopback (NULL and LOOP), raw IP (DLT_RAW, LINKTYPE_RAW 101,
 * IPV4 228, IPV6 229); IPv6 extension headers; the tunnels IP in IP, GRE
 * (and PPTP's), VXLAN, Geneve, GTP-U, Teredo and AYIYA, to a depth of 4.
 * IP fragments are not reassembled: each is skipped, with its reason.
 * On anything but DECODE_TCP, *why (if why is not NULL) says what was wrong
 * in a few words.
 */
enum decode_result decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
                                struct tcp_seg *seg, const char **why);

/* 1 if decode_frame knows this link type. */
int decode_linktype_supported(int linktype);

/* "127.0.0.1:3333" or "[::1]:3333" into buf; returns buf. */
char *decode_endpoint_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len);

/* "SYN,ACK" style list of set flags, tcpdump's order; returns buf. */
char *decode_flags_str(uint8_t flags, char *buf, size_t len);

#endif
