/* Check decoding of frames: each link type and layer, and every way a frame can be short or wrong. */
#include "../../capture/decode.h"

#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check.h"

/* A frame under construction. */
struct frame {
    uint8_t b[256];
    uint32_t n;
};

static void put(struct frame *f, const void *p, uint32_t len)
{
    memcpy(f->b + f->n, p, len);
    f->n += len;
}

static void put16(struct frame *f, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(f, b, 2);
}

static void ethernet(struct frame *f, uint16_t type)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    put(f, macs, sizeof macs);
    put16(f, type);
}

static void vlan_tag(struct frame *f, uint16_t tpid_next)
{
    put16(f, 42); /* tag control: VLAN 42 */
    put16(f, tpid_next);
}

static void ipv4(struct frame *f, uint8_t proto, uint16_t payload)
{
    uint8_t h[20] = { 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, 127, 0, 0, 1, 127, 0, 0, 2 };
    h[2] = (uint8_t)((20 + payload) >> 8);
    h[3] = (uint8_t)(20 + payload);
    put(f, h, sizeof h);
}

static void ipv6_hopopts_tcp(struct frame *f, uint16_t payload)
{
    uint8_t h[40] = { 0x60 };
    uint16_t plen = (uint16_t)(8 + payload);
    h[4] = (uint8_t)(plen >> 8);
    h[5] = (uint8_t)plen;
    h[6] = 0; /* next header: hop-by-hop options */
    h[7] = 64;
    h[23] = 1; /* ::1 */
    h[39] = 1;
    put(f, h, sizeof h);
    uint8_t hop[8] = { 6, 0, 1, 4, 0, 0, 0, 0 }; /* next: TCP; PadN */
    put(f, hop, sizeof hop);
}

static void tcp(struct frame *f, uint8_t flags, const char *data)
{
    uint8_t h[20] = { 0xc3, 0x50, 0x0d, 0x05, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0x50, 0, 0xff, 0xff };
    h[13] = flags;
    put(f, h, sizeof h);
    put(f, data, (uint32_t)strlen(data));
}

static enum decode_result decode(int linktype, const struct frame *f, uint32_t caplen,
                                 struct tcp_seg *seg, const char **why)
{
    return decode_frame(linktype, f->b, caplen, seg, why);
}

/* Do a and b hold the same segment, read from the same bytes? */
static bool same_seg(const struct tcp_seg *a, const struct tcp_seg *b)
{
    return a->family == b->family && !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16) &&
           a->sport == b->sport && a->dport == b->dport && a->seq == b->seq && a->ack == b->ack &&
           a->flags == b->flags && a->window == b->window && a->payload_len == b->payload_len &&
           a->payload_caplen == b->payload_caplen && a->ip_len == b->ip_len &&
           a->payload == b->payload && a->tunnels == b->tunnels && a->tunnel == b->tunnel &&
           a->outer_family == b->outer_family;
}

/*
 * Ethernet, IPv4, TCP: the frame a capture holds most, which decode_frame
 * reads at once, says what the layers one by one say of the same IP packet
 * (DLT_IPV4), whatever the bytes of its headers and however it was cut.
 */
static void check_plain_tcp_as_layers(const struct frame *f)
{
    static const uint8_t values[] = { 0,    1,    4,    5,    6,    0x14, 0x20, 0x28, 0x3f,
                                      0x40, 0x44, 0x45, 0x46, 0x4f, 0x50, 0x60, 0xf0, 0xff };
    unsigned differ = 0, tried = 0;
    for (uint32_t at = 14; at < 14 + 20 + 20; at++) {
        for (size_t v = 0; v < sizeof values; v++) {
            struct frame m = *f;
            m.b[at] = values[v];
            for (uint32_t caplen = 14; caplen <= m.n; caplen++) {
                struct tcp_seg a, b;
                const char *why_a, *why_b;
                enum decode_result ra = decode_frame(DLT_EN10MB, m.b, caplen, &a, &why_a);
                enum decode_result rb = decode_frame(DLT_IPV4, m.b + 14, caplen - 14, &b, &why_b);
                tried++;
                if (ra != rb || strcmp(why_a, why_b) || (ra == DECODE_TCP && !same_seg(&a, &b)))
                    differ++;
            }
        }
    }
    CHECK(tried > 10000);
    CHECK(differ == 0);
}

int main(void)
{
    struct tcp_seg seg;
    const char *why;
    struct frame f = { 0 };

    /* Ethernet, IPv4, TCP with data */
    ethernet(&f, 0x0800);
    ipv4(&f, 6, 20 + 5);
    tcp(&f, TCPF_PSH | TCPF_ACK, "done\n");
    CHECK(decode(DLT_EN10MB, &f, f.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.family == AF_INET);
    CHECK(seg.sport == 50000 && seg.dport == 3333);
    CHECK(seg.seq == 4096 && seg.ack == 8192);
    CHECK(seg.flags == (TCPF_PSH | TCPF_ACK));
    CHECK(seg.payload_len == 5 && seg.payload_caplen == 5);
    CHECK(memcmp(seg.payload, "done\n", 5) == 0);
    CHECK(seg.src[0] == 127 && seg.dst[3] == 2);
    check_plain_tcp_as_layers(&f);

    /* Cut by the snap length: inside the TCP header, inside the payload */
    CHECK(decode(DLT_EN10MB, &f, 14 + 20 + 10, &seg, &why) == DECODE_TRUNCATED);
    CHECK_STR(why, "TCP header cut by the snap length");
    CHECK(decode(DLT_EN10MB, &f, f.n - 2, &seg, &why) == DECODE_TCP);
    CHECK(seg.payload_len == 5 && seg.payload_caplen == 3);
    CHECK(decode(DLT_EN10MB, &f, 10, &seg, &why) == DECODE_TRUNCATED);

    /* Malformed: IPv4 header length below 5 words, TCP data offset below 5 */
    struct frame bad = f;
    bad.b[14] = 0x44;
    CHECK(decode(DLT_EN10MB, &bad, bad.n, &seg, &why) == DECODE_MALFORMED);
    bad = f;
    bad.b[14 + 20 + 12] = 0x40;
    CHECK(decode(DLT_EN10MB, &bad, bad.n, &seg, &why) == DECODE_MALFORMED);
    CHECK_STR(why, "TCP data offset below 5");
    struct frame raw = { 0 };
    put(&raw, f.b + 14, f.n - 14); /* the same packet as raw IP */
    CHECK(decode(DLT_RAW, &raw, raw.n, &seg, &why) == DECODE_TCP);
    raw.b[0] = 0x55;
    CHECK(decode(DLT_RAW, &raw, raw.n, &seg, &why) == DECODE_MALFORMED);
    CHECK_STR(why, "IP version is neither 4 nor 6");
    CHECK(decode(DLT_RAW, &raw, 0, &seg, &why) == DECODE_TRUNCATED);

    /* Not TCP: UDP, ARP */
    struct frame udp = { 0 };
    ethernet(&udp, 0x0800);
    ipv4(&udp, 17, 8);
    put(&udp, "\0\0\0\0\0\0\0\0", 8);
    CHECK(decode(DLT_EN10MB, &udp, udp.n, &seg, &why) == DECODE_OTHER);
    struct frame arp = { 0 };
    ethernet(&arp, 0x0806);
    CHECK(decode(DLT_EN10MB, &arp, arp.n, &seg, &why) == DECODE_OTHER);
    CHECK_STR(why, "not IP");

    /* 802.1Q, and 802.1ad stacked over 802.1Q */
    struct frame tagged = { 0 };
    ethernet(&tagged, 0x8100);
    vlan_tag(&tagged, 0x0800);
    ipv4(&tagged, 6, 20);
    tcp(&tagged, TCPF_SYN, "");
    CHECK(decode(DLT_EN10MB, &tagged, tagged.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.flags == TCPF_SYN && seg.dport == 3333);
    struct frame qinq = { 0 };
    ethernet(&qinq, 0x88a8);
    vlan_tag(&qinq, 0x8100);
    vlan_tag(&qinq, 0x0800);
    ipv4(&qinq, 6, 20);
    tcp(&qinq, TCPF_RST, "");
    CHECK(decode(DLT_EN10MB, &qinq, qinq.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.flags == TCPF_RST);
    CHECK(decode(DLT_EN10MB, &qinq, 14 + 2, &seg, &why) == DECODE_TRUNCATED);

    /* IPv6 behind a hop-by-hop options header, as raw IP */
    struct frame v6 = { 0 };
    ipv6_hopopts_tcp(&v6, 20 + 2);
    tcp(&v6, TCPF_FIN | TCPF_ACK, "ok");
    CHECK(decode(DLT_RAW, &v6, v6.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.family == AF_INET6 && seg.dst[15] == 1);
    CHECK(seg.payload_len == 2);
    CHECK(decode(DLT_IPV6, &v6, v6.n, &seg, &why) == DECODE_TCP);

    /* Linux cooked v1: the protocol in its last two bytes */
    struct frame sll = { 0 };
    put(&sll, "\0\0\0\x01\0\x06\0\0\0\0\0\0\0\0", 14);
    put16(&sll, 0x0800);
    ipv4(&sll, 6, 20);
    tcp(&sll, TCPF_ACK, "");
    CHECK(decode(DLT_LINUX_SLL, &sll, sll.n, &seg, &why) == DECODE_TCP);

    /* Behind MPLS labels (the bottom one ends the stack), in a PPPoE session */
    struct frame mpls = { 0 };
    ethernet(&mpls, 0x8847);
    put(&mpls, "\0\x01\0\x40\0\x02\x01\x40", 8);
    ipv4(&mpls, 6, 20);
    tcp(&mpls, TCPF_SYN, "");
    CHECK(decode(DLT_EN10MB, &mpls, mpls.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.flags == TCPF_SYN && seg.tunnels == 0);
    CHECK(decode(DLT_EN10MB, &mpls, 14 + 6, &seg, &why) == DECODE_TRUNCATED);
    CHECK_STR(why, "MPLS label cut by the snap length");
    struct frame pppoe = { 0 };
    ethernet(&pppoe, 0x8864);
    put(&pppoe, "\x11\0\x12\x34\0\x2a", 6);
    put16(&pppoe, 0x0021);
    ipv4(&pppoe, 6, 20);
    tcp(&pppoe, TCPF_ACK, "");
    CHECK(decode(DLT_EN10MB, &pppoe, pppoe.n, &seg, &why) == DECODE_TCP);
    pppoe.b[14 + 6 + 1] = 0x57; /* PPP says IPv6: the IPv4 header is then wrong */
    CHECK(decode(DLT_EN10MB, &pppoe, pppoe.n, &seg, &why) == DECODE_MALFORMED);

    /* Tunnels: the inner segment, and the outer addresses of the outermost tunnel */
    struct frame gre = { 0 };
    ethernet(&gre, 0x0800);
    ipv4(&gre, 47, 8 + 20 + 20);
    gre.b[14 + 12] = 192;                   /* outer source 192.0.0.1 */
    put(&gre, "\x20\0\x08\0\0\0\0\x2a", 8); /* key present, then IPv4 */
    ipv4(&gre, 6, 20);
    tcp(&gre, TCPF_SYN, "");
    CHECK(decode(DLT_EN10MB, &gre, gre.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.tunnels == 1 && !strcmp(seg.tunnel, "GRE"));
    CHECK(seg.outer_family == AF_INET && seg.outer_src[0] == 192 && seg.src[0] == 127);
    CHECK(decode(DLT_EN10MB, &gre, 14 + 20 + 6, &seg, &why) == DECODE_TRUNCATED);
    CHECK_STR(why, "GRE header cut by the snap length");
    struct frame vxlan = { 0 };
    ethernet(&vxlan, 0x0800);
    ipv4(&vxlan, 17, 8 + 8 + 14 + 20 + 20);
    put(&vxlan, "\xc3\x50\x12\xb5\0\x46\0\0", 8); /* UDP to port 4789 */
    put(&vxlan, "\x08\0\0\0\0\0\x64\0", 8);
    ethernet(&vxlan, 0x0800);
    ipv4(&vxlan, 6, 20);
    tcp(&vxlan, TCPF_FIN | TCPF_ACK, "");
    CHECK(decode(DLT_EN10MB, &vxlan, vxlan.n, &seg, &why) == DECODE_TCP);
    CHECK(seg.flags == (TCPF_FIN | TCPF_ACK) && !strcmp(seg.tunnel, "VXLAN"));
    vxlan.b[14 + 20 + 8] = 0; /* no I flag */
    CHECK(decode(DLT_EN10MB, &vxlan, vxlan.n, &seg, &why) == DECODE_MALFORMED);
    /* IP in IP in IP ...: five deep is past the limit */
    struct frame deep = { 0 };
    ethernet(&deep, 0x0800);
    for (int i = 5; i >= 1; i--)
        ipv4(&deep, 4, (uint16_t)(i * 20 + 20));
    ipv4(&deep, 6, 20);
    tcp(&deep, TCPF_SYN, "");
    CHECK(decode(DLT_EN10MB, &deep, deep.n, &seg, &why) == DECODE_OTHER);
    CHECK_STR(why, "tunnels nested too deep");

    /* A fragment is never read as a segment: the first (more to come), or a later one */
    struct frame frag = f;
    frag.b[14 + 6] = 0x20; /* MF */
    CHECK(decode(DLT_EN10MB, &frag, frag.n, &seg, &why) == DECODE_OTHER);
    CHECK_STR(why, "IPv4 fragment, not reassembled");
    frag.b[14 + 6] = 0;
    frag.b[14 + 7] = 3; /* offset 24 bytes */
    CHECK(decode(DLT_EN10MB, &frag, frag.n, &seg, &why) == DECODE_OTHER);

    /* Link types */
    CHECK(decode_linktype_supported(DLT_EN10MB));
    CHECK(decode_linktype_supported(DLT_LINUX_SLL2));
    CHECK(!decode_linktype_supported(DLT_IEEE802_11));
    CHECK(decode(DLT_IEEE802_11, &f, f.n, &seg, &why) == DECODE_OTHER);
    CHECK_STR(why, "unsupported link type");

    /* Flags in tcpdump's order (the header's bit order) */
    char flags[64];
    CHECK_STR(decode_flags_str(TCPF_SYN | TCPF_ACK, flags, sizeof flags), "SYN,ACK");
    CHECK_STR(decode_flags_str(TCPF_FIN | TCPF_PSH | TCPF_ACK, flags, sizeof flags), "FIN,PSH,ACK");
    CHECK_STR(decode_flags_str(TCPF_SYN | TCPF_FIN, flags, sizeof flags), "FIN,SYN");
    CHECK_STR(decode_flags_str(0, flags, sizeof flags), "");

    /* Endpoints */
    uint8_t v4[16] = { 127, 0, 0, 1 }, v6addr[16] = { [15] = 1 };
    char ep[64];
    CHECK_STR(decode_endpoint_str(AF_INET, v4, 3333, ep, sizeof ep), "127.0.0.1:3333");
    CHECK_STR(decode_endpoint_str(AF_INET6, v6addr, 3333, ep, sizeof ep), "[::1]:3333");
    return check_done();
}
