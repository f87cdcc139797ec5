/*
 * decode_tunnel: the tunnels Zeek decodes, each to the packet it carries:
 * IP in IP and GRE by their IP protocol (decode.c hands them over), VXLAN,
 * Geneve, GTP-U, Teredo and AYIYA by their UDP ports. The outermost tunnel
 * is noted in the segment (its kind and outer addresses), as Zeek's
 * tunnel_parents names the connection that carried one.
 */
#include "decode_int.h"

#include <string.h>
#include <sys/socket.h>

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

/*
 * Into a tunnel of this kind: the outermost one is kept (its kind and the
 * addresses of the IP packet that carries it, which the inner IP header
 * then overwrites in *seg). DECODE_TCP means go on.
 */
enum decode_result decode_enter_tunnel(struct tcp_seg *seg, const char *kind, const char **why)
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
 * GRE (RFC 2784, with RFC 2890's key and sequence number), and version 1,
 * PPTP's enhanced GRE (RFC 2637), which carries PPP.
 */
enum decode_result decode_gre(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
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
    enum decode_result r = decode_enter_tunnel(seg, "GRE", why);
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
    enum decode_result r = decode_enter_tunnel(seg, "VXLAN", why);
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
    enum decode_result r = decode_enter_tunnel(seg, "Geneve", why);
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
    enum decode_result r = decode_enter_tunnel(seg, "GTP-U", why);
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
    enum decode_result r = decode_enter_tunnel(seg, "Teredo", why);
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
    enum decode_result r = decode_enter_tunnel(seg, "AYIYA", why);
    if (r != DECODE_TCP)
        return r;
    switch (p[3]) {
    case IPPROTO_IPIP_NUM: return decode_ipv4(p + hlen, caplen - hlen, seg, why);
    case IPPROTO_IPV6_NUM: return decode_ipv6(p + hlen, caplen - hlen, seg, why);
    default: return fail(DECODE_OTHER, "AYIYA but not IP", why);
    }
}

/* UDP: only as the carrier of a tunnel, by either port. */
enum decode_result decode_udp(const uint8_t *p, uint32_t caplen, uint32_t len, struct tcp_seg *seg,
                              const char **why)
{
    static const struct {
        uint16_t port;
        layer_fn decode;
    } tunnels[] = {
        { UDP_PORT_GTPU, decode_gtpu },     { UDP_PORT_TEREDO, decode_teredo },
        { UDP_PORT_VXLAN, decode_vxlan },   { UDP_PORT_AYIYA, decode_ayiya },
        { UDP_PORT_GENEVE, decode_geneve },
    };
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
    return not_tcp(seg, why);
}
