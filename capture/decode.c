/*
 * decode: from a captured frame to the TCP segment inside it.
 *
 * One function per layer, each given the bytes that are left (p, caplen) and
 * checking caplen before every read, as tcpdump's ND_TCHECK does: a frame cut
 * by the snap length is reported as truncated, never read past its end.
 * Lengths written in the headers (IP total length, TCP data offset) are
 * checked against each other and against the layer they sit in, so a damaged
 * frame is "malformed" rather than a wild pointer.
 */
#include "decode.h"

#include "vocab.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Raw IP has three numbers: DLT_RAW is 12 here and 14 on OpenBSD, and files
 * store LINKTYPE_RAW, 101. Callers may hand us any of them.
 */
enum { LINKTYPE_RAW = 101, DLT_RAW_OPENBSD = 14 };

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

/* The UDP ports whose payload is a tunnel, as Zeek's analyzers are registered for them. */
enum {
    UDP_PORT_GTPU = 2152,   /* GTP-U, 3GPP TS 29.281 */
    UDP_PORT_TEREDO = 3544, /* Teredo, RFC 4380 */
    UDP_PORT_VXLAN = 4789,  /* VXLAN, RFC 7348 */
    UDP_PORT_AYIYA = 5072,  /* AYIYA, draft-massar-v6ops-ayiya */
    UDP_PORT_GENEVE = 6081, /* Geneve, RFC 8926 */
};

/*
 * Tunnels inside tunnels are decoded to this depth: a frame of nested
 * headers cannot make the decoder go on without end.
 */
enum { TUNNELS_MAX = 4 };

/* The address family words BSD loopback headers use for IPv6. */
enum {
    BSD_AF_INET = 2,
    BSD_AF_INET6_BSD = 24,
    BSD_AF_INET6_FREEBSD = 28,
    BSD_AF_INET6_DARWIN = 30
};

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

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Every layer ends through one of these, so *why is always set on failure. */
static enum decode_result fail(enum decode_result r, const char *reason, const char **why)
{
    if (why)
        *why = reason;
    return r;
}

/* A layer's decoder: the bytes left (p, caplen) into *seg, or why not. */
typedef enum decode_result (*layer_fn)(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                       const char **why);

static enum decode_result decode_ipv4(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why);
static enum decode_result decode_ipv6(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why);
static enum decode_result decode_ip(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                    const char **why);
static enum decode_result decode_ethernet(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                          const char **why);
static enum decode_result decode_ethertype(uint16_t type, const uint8_t *p, uint32_t caplen,
                                           struct tcp_seg *seg, const char **why);

/*
 * Into a tunnel of this kind: the outermost one is kept (its kind and the
 * addresses of the IP packet that carries it, which the inner IP header
 * then overwrites in *seg). DECODE_TCP means go on.
 */
static enum decode_result enter_tunnel(struct tcp_seg *seg, const char *kind, const char **why)
{
    if (seg->tunnels == TUNNELS_MAX)
        return fail(DECODE_OTHER, "tunnels nested too deep", why);
    if (seg->tunnels++ == 0) {
        seg->tunnel = kind;
        seg->outer_family = seg->family;
        memcpy(seg->outer_src, seg->src, sizeof seg->outer_src);
        memcpy(seg->outer_dst, seg->dst, sizeof seg->outer_dst);
    }
    return DECODE_TCP;
}

/*
 * The TCP header at p. seg_len is the segment's length from the IP header
 * (the wire), caplen what was captured of it (never more than seg_len).
 */
static enum decode_result decode_tcp(const uint8_t *p, uint32_t caplen, uint32_t seg_len,
                                     struct tcp_seg *seg, const char **why)
{
    if (seg_len < 20)
        return fail(DECODE_MALFORMED, "IP length too short for a TCP header", why);
    if (caplen < 20)
        return fail(DECODE_TRUNCATED, "TCP header cut by the snap length", why);
    uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
    if (hlen < 20)
        return fail(DECODE_MALFORMED, "TCP data offset below 5", why);
    if (hlen > seg_len)
        return fail(DECODE_MALFORMED, "TCP data offset beyond the IP length", why);
    if (caplen < hlen)
        return fail(DECODE_TRUNCATED, "TCP options cut by the snap length", why);

    seg->sport = get16(p);
    seg->dport = get16(p + 2);
    seg->seq = get32(p + 4);
    seg->ack = get32(p + 8);
    seg->flags = p[13];
    seg->window = get16(p + 14);
    seg->payload_len = seg_len - hlen;
    seg->payload_caplen = caplen - hlen;
    seg->payload = p + hlen;
    return DECODE_TCP;
}

/* PPP's protocol field, then IP (PPPoE and enhanced GRE carry PPP). */
static enum decode_result decode_ppp(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                     const char **why)
{
    if (caplen < 2)
        return fail(DECODE_TRUNCATED, "PPP header cut by the snap length", why);
    switch (get16(p)) {
    case PPP_IPV4: return decode_ipv4(p + 2, caplen - 2, seg, why);
    case PPP_IPV6: return decode_ipv6(p + 2, caplen - 2, seg, why);
    default: return fail(DECODE_OTHER, "PPP but not IP", why);
    }
}

/*
 * GRE (RFC 2784, with RFC 2890's key and sequence number), and version 1,
 * PPTP's enhanced GRE (RFC 2637), which carries PPP.
 */
static enum decode_result decode_gre(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                     const char **why)
{
    enum { GRE_CSUM = 0x80, GRE_ROUTING = 0x40, GRE_KEY = 0x20, GRE_SEQ = 0x10, GRE_ACK = 0x80 };
    if (caplen < 4)
        return fail(DECODE_TRUNCATED, "GRE header cut by the snap length", why);
    int version = p[1] & 0x07;
    uint16_t type = get16(p + 2);
    uint32_t hlen = 4;
    if (p[0] & GRE_ROUTING)
        return fail(DECODE_OTHER, "GRE with source routing (RFC 1701)", why);
    if (version == 0) {
        hlen += (p[0] & GRE_CSUM) ? 4 : 0;
        hlen += (p[0] & GRE_KEY) ? 4 : 0;
        hlen += (p[0] & GRE_SEQ) ? 4 : 0;
    } else if (version == 1 && type == ETHERTYPE_PPP && (p[0] & GRE_KEY)) {
        hlen += 4; /* the key: payload length and call ID */
        hlen += (p[0] & GRE_SEQ) ? 4 : 0;
        hlen += (p[1] & GRE_ACK) ? 4 : 0;
    } else {
        return fail(DECODE_OTHER, "GRE of a version other than 0 or PPTP's 1", why);
    }
    if (caplen < hlen)
        return fail(DECODE_TRUNCATED, "GRE header cut by the snap length", why);
    enum decode_result r = enter_tunnel(seg, "GRE", why);
    if (r != DECODE_TCP)
        return r;
    p += hlen;
    caplen -= hlen;
    switch (type) {
    case ETHERTYPE_PPP: return decode_ppp(p, caplen, seg, why);
    case ETHERTYPE_BRIDGED: return decode_ethernet(p, caplen, seg, why);
    default: return decode_ethertype(type, p, caplen, seg, why);
    }
}

/* VXLAN: 8 bytes, then an Ethernet frame. */
static enum decode_result decode_vxlan(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                       const char **why)
{
    enum { VXLAN_VNI_VALID = 0x08 };
    if (caplen < 8)
        return fail(DECODE_TRUNCATED, "VXLAN header cut by the snap length", why);
    if (!(p[0] & VXLAN_VNI_VALID))
        return fail(DECODE_MALFORMED, "VXLAN header without its I flag", why);
    enum decode_result r = enter_tunnel(seg, "VXLAN", why);
    return r != DECODE_TCP ? r : decode_ethernet(p + 8, caplen - 8, seg, why);
}

/* Geneve: 8 bytes and the options' length, then what the protocol type says. */
static enum decode_result decode_geneve(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                        const char **why)
{
    if (caplen < 8)
        return fail(DECODE_TRUNCATED, "Geneve header cut by the snap length", why);
    if (p[0] >> 6 != 0)
        return fail(DECODE_OTHER, "Geneve of a version other than 0", why);
    uint32_t hlen = 8 + (uint32_t)(p[0] & 0x3f) * 4;
    if (caplen < hlen)
        return fail(DECODE_TRUNCATED, "Geneve options cut by the snap length", why);
    enum decode_result r = enter_tunnel(seg, "Geneve", why);
    if (r != DECODE_TCP)
        return r;
    uint16_t type = get16(p + 2);
    if (type == ETHERTYPE_BRIDGED)
        return decode_ethernet(p + hlen, caplen - hlen, seg, why);
    return decode_ethertype(type, p + hlen, caplen - hlen, seg, why);
}

/*
 * GTP-U: a G-PDU (message type 255) of version 1 carries an IP packet, after
 * 8 bytes, 4 more when any of the E, S and PN flags is set, and the
 * extension headers the E flag announces (each its length in 4-byte words
 * first, the next one's type last).
 */
static enum decode_result decode_gtpu(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why)
{
    enum { GTP_PT = 0x10, GTP_E = 0x04, GTP_OPTIONAL = 0x07, GTP_GPDU = 0xff };
    if (caplen < 8)
        return fail(DECODE_TRUNCATED, "GTP-U header cut by the snap length", why);
    if (p[0] >> 5 != 1 || !(p[0] & GTP_PT))
        return fail(DECODE_OTHER, "GTP of a version other than 1", why);
    if (p[1] != GTP_GPDU)
        return fail(DECODE_OTHER, "GTP-U message that carries no packet", why);
    uint32_t hlen = 8;
    if (p[0] & GTP_OPTIONAL) {
        if (caplen < 12)
            return fail(DECODE_TRUNCATED, "GTP-U header cut by the snap length", why);
        hlen = 12;
        uint8_t next = (p[0] & GTP_E) ? p[11] : 0;
        /* Each extension is at least 4 bytes and must be captured: the walk ends. */
        while (next) {
            if (caplen < hlen + 1)
                return fail(DECODE_TRUNCATED, "GTP-U extension header cut by the snap length", why);
            uint32_t ext = (uint32_t)p[hlen] * 4;
            if (ext == 0)
                return fail(DECODE_MALFORMED, "GTP-U extension header of length 0", why);
            if (caplen < hlen + ext)
                return fail(DECODE_TRUNCATED, "GTP-U extension header cut by the snap length", why);
            next = p[hlen + ext - 1];
            hlen += ext;
        }
    }
    enum decode_result r = enter_tunnel(seg, "GTP-U", why);
    return r != DECODE_TCP ? r : decode_ip(p + hlen, caplen - hlen, seg, why);
}

/*
 * Teredo: IPv6 in UDP, perhaps after an authentication header (type 1:
 * client id and authentication value lengths, then 13 bytes) and an origin
 * indication (type 0, 8 bytes).
 */
static enum decode_result decode_teredo(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                        const char **why)
{
    if (caplen >= 4 && get16(p) == 1) {
        uint32_t alen = 4 + (uint32_t)p[2] + p[3] + 9;
        if (caplen < alen)
            return fail(DECODE_TRUNCATED, "Teredo authentication cut by the snap length", why);
        p += alen;
        caplen -= alen;
    }
    if (caplen >= 2 && get16(p) == 0) {
        if (caplen < 8)
            return fail(DECODE_TRUNCATED, "Teredo origin indication cut by the snap length", why);
        p += 8;
        caplen -= 8;
    }
    if (caplen < 1 || p[0] >> 4 != 6)
        return fail(DECODE_OTHER, "UDP port 3544 but not Teredo", why);
    enum decode_result r = enter_tunnel(seg, "Teredo", why);
    return r != DECODE_TCP ? r : decode_ipv6(p, caplen, seg, why);
}

/*
 * AYIYA: 8 bytes (identity length and type, signature length and hash,
 * authentication and operation, next header, epoch), then the identity
 * (2^n bytes) and the signature (4n bytes); operation 1 forwards a packet.
 */
static enum decode_result decode_ayiya(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                       const char **why)
{
    enum { AYIYA_FORWARD = 1 };
    if (caplen < 8)
        return fail(DECODE_TRUNCATED, "AYIYA header cut by the snap length", why);
    if ((p[2] & 0x0f) != AYIYA_FORWARD)
        return fail(DECODE_OTHER, "AYIYA message that carries no packet", why);
    uint32_t hlen = 8 + (1u << (p[0] >> 4)) + (uint32_t)(p[1] >> 4) * 4;
    if (caplen < hlen)
        return fail(DECODE_TRUNCATED, "AYIYA header cut by the snap length", why);
    enum decode_result r = enter_tunnel(seg, "AYIYA", why);
    if (r != DECODE_TCP)
        return r;
    switch (p[3]) {
    case IPPROTO_IPIP_NUM: return decode_ipv4(p + hlen, caplen - hlen, seg, why);
    case IPPROTO_IPV6_NUM: return decode_ipv6(p + hlen, caplen - hlen, seg, why);
    default: return fail(DECODE_OTHER, "AYIYA but not IP", why);
    }
}

/* UDP: only as the carrier of a tunnel, by either port. */
static enum decode_result decode_udp(const uint8_t *p, uint32_t caplen, uint32_t len,
                                     struct tcp_seg *seg, const char **why)
{
    static const struct {
        uint16_t port;
        layer_fn decode;
    } tunnels[] = {
        { UDP_PORT_GTPU, decode_gtpu },     { UDP_PORT_TEREDO, decode_teredo },
        { UDP_PORT_VXLAN, decode_vxlan },   { UDP_PORT_AYIYA, decode_ayiya },
        { UDP_PORT_GENEVE, decode_geneve },
    };
    const char *not_tcp = seg->family == AF_INET6 ? "IPv6 but not TCP" : "IPv4 but not TCP";
    if (len < 8)
        return fail(DECODE_MALFORMED, "IP length too short for a UDP header", why);
    if (caplen < 8)
        return fail(DECODE_TRUNCATED, "UDP header cut by the snap length", why);
    uint16_t sport = get16(p), dport = get16(p + 2);
    uint32_t ulen = get16(p + 4);
    if (ulen == 0) /* a jumbogram's, or an offloaded capture's */
        ulen = len;
    if (ulen < 8 || ulen > len)
        return fail(DECODE_MALFORMED, "UDP length beyond the IP length", why);
    uint32_t have = (caplen < ulen ? caplen : ulen) - 8;
    for (size_t i = 0; i < sizeof tunnels / sizeof tunnels[0]; i++)
        if (dport == tunnels[i].port || sport == tunnels[i].port)
            return tunnels[i].decode(p + 8, have, seg, why);
    return fail(DECODE_OTHER, not_tcp, why);
}

/*
 * What an IP header carries: TCP, or a tunnel (IP in IP, GRE, a UDP one).
 * caplen is what was captured of it, len its length from the IP header.
 */
static enum decode_result decode_ip_payload(uint8_t proto, const uint8_t *p, uint32_t caplen,
                                            uint32_t len, struct tcp_seg *seg, const char **why)
{
    enum decode_result r;
    switch (proto) {
    case IPPROTO_TCP_NUM: return decode_tcp(p, caplen, len, seg, why);
    case IPPROTO_UDP_NUM: return decode_udp(p, caplen, len, seg, why);
    case IPPROTO_GRE_NUM: return decode_gre(p, caplen, seg, why);
    case IPPROTO_IPIP_NUM:
        r = enter_tunnel(seg, "IP in IP", why);
        return r != DECODE_TCP ? r : decode_ipv4(p, caplen, seg, why);
    case IPPROTO_IPV6_NUM:
        r = enter_tunnel(seg, "IPv6 in IP", why);
        return r != DECODE_TCP ? r : decode_ipv6(p, caplen, seg, why);
    default:
        return fail(DECODE_OTHER, seg->family == AF_INET6 ? "IPv6 but not TCP" : "IPv4 but not TCP",
                    why);
    }
}

static enum decode_result decode_ipv4(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why)
{
    if (caplen < 20)
        return fail(DECODE_TRUNCATED, "IPv4 header cut by the snap length", why);
    if (p[0] >> 4 != 4)
        return fail(DECODE_MALFORMED, "IP version is not 4", why);
    uint32_t hlen = (uint32_t)(p[0] & 0x0f) * 4;
    if (hlen < 20)
        return fail(DECODE_MALFORMED, "IPv4 header length below 5", why);
    uint32_t total = get16(p + 2);
    /*
     * A total length of 0 is what a capture of a segmentation-offloaded
     * packet shows: the real length is then only known from what we have.
     */
    if (total == 0)
        total = caplen;
    if (total < hlen)
        return fail(DECODE_MALFORMED, "IPv4 total length below its header length", why);
    if (caplen < hlen)
        return fail(DECODE_TRUNCATED, "IPv4 options cut by the snap length", why);

    /* A fragment (more to come, or not the first) holds part of a segment: never read as one. */
    uint16_t frag = get16(p + 6);
    if ((frag & 0x3fff) != 0)
        return fail(DECODE_OTHER, "IPv4 fragment, not reassembled", why);

    seg->family = AF_INET;
    memset(seg->src, 0, sizeof seg->src);
    memset(seg->dst, 0, sizeof seg->dst);
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    /* Bytes past the total length are link padding (short Ethernet frames), not TCP. */
    uint32_t have = caplen < total ? caplen : total;
    return decode_ip_payload(p[9], p + hlen, have - hlen, total - hlen, seg, why);
}

static enum decode_result decode_ipv6(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why)
{
    if (caplen < 40)
        return fail(DECODE_TRUNCATED, "IPv6 header cut by the snap length", why);
    if (p[0] >> 4 != 6)
        return fail(DECODE_MALFORMED, "IP version is not 6", why);
    uint32_t plen = get16(p + 4);
    /* 0 is a jumbogram or an offloaded capture: the length is what we have. */
    if (plen == 0)
        plen = caplen - 40;
    uint32_t have = caplen - 40 < plen ? caplen - 40 : plen;
    uint8_t next = p[6];

    seg->family = AF_INET6;
    memcpy(seg->src, p + 8, 16);
    memcpy(seg->dst, p + 24, 16);

    /*
     * Walk the extension headers. Each is at least 8 bytes long and must fit
     * in the payload length, so the walk ends within plen / 8 steps.
     */
    const uint8_t *h = p + 40;
    for (;;) {
        uint32_t ext_len;
        switch (next) {
        case IP6_HOPOPTS:
        case IP6_ROUTING:
        case IP6_DSTOPTS:
            if (plen < 8)
                return fail(DECODE_MALFORMED, "IPv6 extension header beyond the payload length",
                            why);
            if (have < 2)
                return fail(DECODE_TRUNCATED, "IPv6 extension header cut by the snap length", why);
            ext_len = ((uint32_t)h[1] + 1) * 8;
            break;
        case IP6_FRAGMENT:
            if (plen < 8)
                return fail(DECODE_MALFORMED, "IPv6 extension header beyond the payload length",
                            why);
            if (have < 8)
                return fail(DECODE_TRUNCATED, "IPv6 fragment header cut by the snap length", why);
            /* An offset, or more to come: part of a segment, never read as one. */
            if ((get16(h + 2) & 0xfff9) != 0)
                return fail(DECODE_OTHER, "IPv6 fragment, not reassembled", why);
            ext_len = 8;
            break;
        default: return decode_ip_payload(next, h, have, plen, seg, why);
        }
        if (ext_len > plen)
            return fail(DECODE_MALFORMED, "IPv6 extension header beyond the payload length", why);
        if (ext_len > have)
            return fail(DECODE_TRUNCATED, "IPv6 extension header cut by the snap length", why);
        next = h[0];
        h += ext_len;
        plen -= ext_len;
        have -= ext_len;
    }
}

/* Raw IP: the version nibble says which. */
static enum decode_result decode_ip(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                    const char **why)
{
    if (caplen < 1)
        return fail(DECODE_TRUNCATED, "IP header cut by the snap length", why);
    switch (p[0] >> 4) {
    case 4: return decode_ipv4(p, caplen, seg, why);
    case 6: return decode_ipv6(p, caplen, seg, why);
    default: return fail(DECODE_MALFORMED, "IP version is neither 4 nor 6", why);
    }
}

/*
 * MPLS: 4-byte labels up to the one with the bottom-of-stack bit, then IP,
 * as its version nibble says (an MPLS header does not say what it carries).
 */
static enum decode_result decode_mpls(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why)
{
    enum { MPLS_BOTTOM = 0x01 };
    for (;;) {
        if (caplen < 4)
            return fail(DECODE_TRUNCATED, "MPLS label cut by the snap length", why);
        int bottom = p[2] & MPLS_BOTTOM;
        p += 4;
        caplen -= 4;
        if (bottom)
            break;
    }
    if (caplen < 1)
        return fail(DECODE_TRUNCATED, "IP header cut by the snap length", why);
    if (p[0] >> 4 != 4 && p[0] >> 4 != 6)
        return fail(DECODE_OTHER, "MPLS but not IP", why);
    return decode_ip(p, caplen, seg, why);
}

/* PPPoE session stage (RFC 2516): 6 bytes, then PPP. */
static enum decode_result decode_pppoe(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                       const char **why)
{
    if (caplen < 6)
        return fail(DECODE_TRUNCATED, "PPPoE header cut by the snap length", why);
    if (p[0] != 0x11 || p[1] != 0)
        return fail(DECODE_OTHER, "PPPoE but not a session packet", why);
    return decode_ppp(p + 6, caplen - 6, seg, why);
}

/*
 * An EtherType and what follows it, after Ethernet or a cooked header:
 * VLAN tags (802.1Q, 802.1ad, stacked) are skipped, 4 bytes each.
 */
static enum decode_result decode_ethertype(uint16_t type, const uint8_t *p, uint32_t caplen,
                                           struct tcp_seg *seg, const char **why)
{
    while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
        if (caplen < 4)
            return fail(DECODE_TRUNCATED, "VLAN tag cut by the snap length", why);
        type = get16(p + 2);
        p += 4;
        caplen -= 4;
    }
    switch (type) {
    case ETHERTYPE_IPV4: return decode_ipv4(p, caplen, seg, why);
    case ETHERTYPE_IPV6: return decode_ipv6(p, caplen, seg, why);
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MULTI: return decode_mpls(p, caplen, seg, why);
    case ETHERTYPE_PPPOE_SESSION: return decode_pppoe(p, caplen, seg, why);
    default: return fail(DECODE_OTHER, "not IP", why);
    }
}

static enum decode_result decode_ethernet(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                          const char **why)
{
    if (caplen < 14)
        return fail(DECODE_TRUNCATED, "Ethernet header cut by the snap length", why);
    return decode_ethertype(get16(p + 12), p + 14, caplen - 14, seg, why);
}

/* Linux cooked capture v1: 16 bytes, the protocol last. */
static enum decode_result decode_sll(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                     const char **why)
{
    if (caplen < 16)
        return fail(DECODE_TRUNCATED, "Linux cooked header cut by the snap length", why);
    return decode_ethertype(get16(p + 14), p + 16, caplen - 16, seg, why);
}

/* Linux cooked capture v2: 20 bytes, the protocol first. */
static enum decode_result decode_sll2(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
                                      const char **why)
{
    if (caplen < 20)
        return fail(DECODE_TRUNCATED, "Linux cooked v2 header cut by the snap length", why);
    return decode_ethertype(get16(p), p + 20, caplen - 20, seg, why);
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte order
 * for NULL and in network order for LOOP. Files travel between hosts, so
 * either order is accepted: a family is small, and only one order makes it so.
 */
static enum decode_result decode_bsd_loopback(const uint8_t *p, uint32_t caplen,
                                              struct tcp_seg *seg, const char **why)
{
    if (caplen < 4)
        return fail(DECODE_TRUNCATED, "loopback header cut by the snap length", why);
    uint32_t family = get32(p);
    if ((family & 0xffff0000u) != 0)
        family = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    switch (family) {
    case BSD_AF_INET: return decode_ipv4(p + 4, caplen - 4, seg, why);
    case BSD_AF_INET6_BSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN: return decode_ipv6(p + 4, caplen - 4, seg, why);
    default: return fail(DECODE_OTHER, "loopback family is not IP", why);
    }
}

/* The link types decode_frame knows, each with the decoder of its first layer. */
static const struct {
    int linktype;
    layer_fn decode;
} link_layers[] = {
    { DLT_EN10MB, decode_ethernet },   { DLT_LINUX_SLL, decode_sll },
    { DLT_LINUX_SLL2, decode_sll2 },   { DLT_NULL, decode_bsd_loopback },
    { DLT_LOOP, decode_bsd_loopback }, { DLT_RAW, decode_ip },
    { DLT_RAW_OPENBSD, decode_ip },    { LINKTYPE_RAW, decode_ip },
    { DLT_IPV4, decode_ipv4 },         { DLT_IPV6, decode_ipv6 },
};

/* The decoder of a link type's first layer, or NULL. */
static layer_fn link_layer(int linktype)
{
    for (size_t i = 0; i < sizeof link_layers / sizeof link_layers[0]; i++)
        if (link_layers[i].linktype == linktype)
            return link_layers[i].decode;
    return NULL;
}

enum decode_result decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
                                struct tcp_seg *seg, const char **why)
{
    memset(seg, 0, sizeof *seg);
    if (why)
        *why = "";
    layer_fn decode = link_layer(linktype);
    if (!decode)
        return fail(DECODE_OTHER, "unsupported link type", why);
    return decode(frame, caplen, seg, why);
}

int decode_linktype_supported(int linktype) { return link_layer(linktype) != NULL; }

/* Decimal digits of v at p, returns the end. */
static char *put_decimal(char *p, unsigned v)
{
    char digits[10];
    size_t n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = digits[--n];
    return p;
}

char *decode_endpoint_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (len == 0)
        return buf;
    if (family == AF_INET) {
        /* What inet_ntop and snprintf would write, without them: every packet needs two. */
        char text[sizeof("255.255.255.255:65535")], *p = text;
        for (int i = 0; i < 4; i++) {
            p = put_decimal(p, addr[i]);
            *p++ = i < 3 ? '.' : ':';
        }
        p = put_decimal(p, port);
        size_t n = (size_t)(p - text) < len - 1 ? (size_t)(p - text) : len - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
        return buf;
    }
    if (!inet_ntop(family, addr, host, sizeof host))
        snprintf(host, sizeof host, "?");
    if (family == AF_INET6)
        snprintf(buf, len, "[%s]:%u", host, (unsigned)port);
    else
        snprintf(buf, len, "%s:%u", host, (unsigned)port);
    return buf;
}

/* Bit to name, in the order of the header's bits, as tcpdump's tcp_flag_values[]. */
char *decode_flags_str(uint8_t flags, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (const struct tok *flag = tcp_flag_names; flag->name; flag++) {
        if (!(flags & flag->value))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", flag->name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return buf;
}
