/*
 * decode_int: what the decoder's layers (decode.c: links, IP, TCP;
 * decode_tunnel.c: the tunnels) share. Every read of frame bytes is checked
 * against what is left of the capture first.
 */
#ifndef SIGTRACE_DECODE_INT_H
#define SIGTRACE_DECODE_INT_H

#include "decode.h"

#include <sys/socket.h>

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_VLAN = 0x8100,          /* 802.1Q */
    ETHERTYPE_QINQ = 0x88a8,          /* 802.1ad */
    ETHERTYPE_QINQ_OLD = 0x9100,      /* pre-standard stacked tags, still seen */
    ETHERTYPE_MPLS = 0x8847,          /* MPLS unicast */
    ETHERTYPE_MPLS_MULTI = 0x8848,    /* MPLS multicast */
    ETHERTYPE_PPPOE_SESSION = 0x8864, /* PPPoE, session stage (RFC 2516) */
    ETHERTYPE_BRIDGED = 0x6558,       /* an Ethernet frame inside GRE or Geneve */
    ETHERTYPE_PPP = 0x880b,           /* PPP inside enhanced GRE (PPTP, RFC 2637) */
};

/* PPP's protocol numbers for IP (RFC 1332, RFC 5072). */
enum { PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057 };

enum {
    IPPROTO_IPIP_NUM = 4, /* IPv4 in IP */
    IPPROTO_TCP_NUM = 6,
    IPPROTO_UDP_NUM = 17,
    IPPROTO_IPV6_NUM = 41, /* IPv6 in IP */
    IPPROTO_GRE_NUM = 47,
    IP6_HOPOPTS = 0,
    IP6_ROUTING = 43,
    IP6_FRAGMENT = 44,
    IP6_DSTOPTS = 60
};

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every layer ends through one of these, so *why is always set on failure. */
static inline enum decode_result fail(enum decode_result r, const char *reason, const char **why)
{
    if (why)
        *why = reason;
    return r;
}

/* A layer's decoder: the bytes left (p, caplen) into *seg, or why not. */
typedef enum decode_result (*layer_fn)(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                       const char **why);

/* An IP packet (the segment's family says which) that carries neither TCP nor a tunnel. */
static inline enum decode_result not_tcp(const struct tcp_seg *seg, const char **why)
{
    return fail(DECODE_OTHER, seg->family == AF_INET6 ? "IPv6 but not TCP" : "IPv4 but not TCP",
                why);
}

/* The layers each file gives the other: the bytes left (p, caplen) into *seg, or why not. */
enum decode_result decode_ipv4(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                               const char **why);
enum decode_result decode_ipv6(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                               const char **why);
enum decode_result decode_ip(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                             const char **why);
enum decode_result decode_ethernet(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                   const char **why);
enum decode_result decode_ethertype(uint16_t type, const uint8_t *p, uint32_t caplen,
                                    struct tcp_seg *seg, const char **why);
enum decode_result decode_ppp(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                              const char **why);

/* Tunnels (decode_tunnel.c). GRE and UDP take len, the length from the IP header, too. */
enum decode_result decode_enter_tunnel(struct tcp_seg *seg, const char *kind, const char **why);
enum decode_result decode_gre(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                              const char **why);
enum decode_result decode_udp(const uint8_t *p, uint32_t caplen, uint32_t len, struct tcp_seg *seg,
                              const char **why);

#endif
