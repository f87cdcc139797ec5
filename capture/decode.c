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
#include "decode_int.h"

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

/* The address family words BSD loopback headers use for IPv6. */
enum {
    BSD_AF_INET = 2,
    BSD_AF_INET6_BSD = 24,
    BSD_AF_INET6_FREEBSD = 28,
    BSD_AF_INET6_DARWIN = 30
};

/*
 * The TCP header's fields at p (its data offset hlen checked by the caller),
 * and the payload after it: seg_len bytes on the wire, caplen captured.
 */
static void tcp_fields(const uint8_t *p, uint32_t hlen, uint32_t seg_len, uint32_t caplen,
                       struct tcp_seg *seg)
{
    seg->sport = get16(p);
    seg->dport = get16(p + 2);
    seg->seq = get32(p + 4);
    seg->ack = get32(p + 8);
    seg->flags = p[13];
    seg->window = get16(p + 14);
    seg->payload_len = seg_len - hlen;
    seg->payload_caplen = caplen - hlen;
    seg->payload = p + hlen;
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

    tcp_fields(p, hlen, seg_len, caplen, seg);
    return DECODE_TCP;
}

/* PPP's protocol field, then IP (PPPoE and enhanced GRE carry PPP). */
enum decode_result decode_ppp(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
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
        r = decode_enter_tunnel(seg, "IP in IP", why);
        return r != DECODE_TCP ? r : decode_ipv4(p, caplen, seg, why);
    case IPPROTO_IPV6_NUM:
        r = decode_enter_tunnel(seg, "IPv6 in IP", why);
        return r != DECODE_TCP ? r : decode_ipv6(p, caplen, seg, why);
    default: return not_tcp(seg, why);
    }
}

enum decode_result decode_ipv4(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
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
    seg->ip_len = total;
    memset(seg->src, 0, sizeof seg->src);
    memset(seg->dst, 0, sizeof seg->dst);
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    /* Bytes past the total length are link padding (short Ethernet frames), not TCP. */
    uint32_t have = caplen < total ? caplen : total;
    return decode_ip_payload(p[9], p + hlen, have - hlen, total - hlen, seg, why);
}

enum decode_result decode_ipv6(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
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
    seg->ip_len = 40 + plen;
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
enum decode_result decode_ip(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
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
enum decode_result decode_ethertype(uint16_t type, const uint8_t *p, uint32_t caplen,
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

enum decode_result decode_ethernet(const uint8_t *p, uint32_t caplen, struct tcp_seg *seg,
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

/*
 * The frame most captures are made of: Ethernet, IPv4 with no options and
 * no fragment, TCP, each header whole and its lengths consistent. true with
 * *seg filled in as the layers one by one would fill it; false for any other
 * frame, *seg untouched, which the layers then decode (and say what is wrong).
 * Every packet of a long capture comes here first.
 */
static bool decode_plain_tcp(int linktype, const uint8_t *p, uint32_t caplen, struct tcp_seg *seg)
{
    if (linktype != DLT_EN10MB || caplen < 14 + 20 + 20 || get16(p + 12) != ETHERTYPE_IPV4)
        return false;
    const uint8_t *ip = p + 14, *tcp = ip + 20;
    uint32_t total = get16(ip + 2), have = caplen - 14 < total ? caplen - 14 : total;
    if (ip[0] != 0x45 || ip[9] != IPPROTO_TCP_NUM || (get16(ip + 6) & 0x3fff) != 0 ||
        total < 20 + 20 || have < 20 + 20)
        return false;
    uint32_t hlen = (uint32_t)(tcp[12] >> 4) * 4;
    if (hlen < 20 || hlen > total - 20 || hlen > have - 20)
        return false;
    memset(seg, 0, sizeof *seg);
    seg->family = AF_INET;
    seg->ip_len = total;
    memcpy(seg->src, ip + 12, 4);
    memcpy(seg->dst, ip + 16, 4);
    tcp_fields(tcp, hlen, total - 20, have - 20, seg);
    return true;
}

enum decode_result decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
                                struct tcp_seg *seg, const char **why)
{
    if (why)
        *why = "";
    if (decode_plain_tcp(linktype, frame, caplen, seg))
        return DECODE_TCP;
    memset(seg, 0, sizeof *seg);
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
            /* A byte's digits: at most three, each known without a loop. */
            unsigned v = addr[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
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
