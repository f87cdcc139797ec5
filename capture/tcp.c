/*
 * tcp: the connection tracker (tcp.h says what it keeps and why).
 *
 * Each connection holds its two sides and Zeek's view of it. A segment is
 * first classified from what came before it (classify_segment), then run
 * through Zeek's state machine, then accounted (account_segment), so the
 * facts of a segment describe it against the past, as a reader sees it.
 */
#include "tcp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tcp_int.h"

static bool is_orig(const struct tcp_conn *c, const struct tcp_side *s)
{
    return (s - c->side) == zeek_orig(&c->zeek);
}

static struct tcp_side *peer_of(struct tcp_conn *c, struct tcp_side *s)
{
    return s == &c->side[0] ? &c->side[1] : &c->side[0];
}

static int32_t seq_delta(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

/* --- what a segment is ------------------------------------------------------------ */

/*
 * What a RST from s meant, from what s and its peer sent before it.
 * Linux's reasons: a closed socket answers any segment with RST; close()
 * with unread data sends RST instead of FIN (RFC 2525); SO_LINGER {1, 0}
 * makes close() abort with RST; a SYN to a port nobody listens on gets RST.
 */
static enum rst_kind classify_rst(const struct tcp_conn *c, const struct tcp_side *s,
                                  const struct tcp_side *peer)
{
    if (s->rst_seen)
        return RST_AGAIN;
    if (!s->sent_any && !peer->sent_any)
        return RST_UNKNOWN;
    if (!is_orig(c, s) && peer->syn_seen && !s->syn_seen)
        return RST_REFUSED;
    if (is_orig(c, s) && s->syn_seen && !peer->syn_seen && !s->ack_valid)
        return RST_CANCEL;
    if (s->fin_seen && peer->fin_seen)
        return RST_AFTER_BOTH;
    if (s->fin_seen)
        return peer->wrote_after_peer_fin ? RST_AFTER_FIN_DATA : RST_AFTER_FIN;
    if (s->unanswered_rx > 0)
        return RST_UNREAD;
    if (s->syn_seen && peer->syn_seen && !peer->sent_data)
        return RST_ABORT_NO_DATA;
    return RST_ABORT;
}

/* What a segment carrying nothing but (perhaps) an ACK is. */
static enum seg_kind classify_ack(struct tcp_conn *c, struct tcp_side *s, const struct tcp_seg *seg,
                                  struct seg_facts *f)
{
    struct tcp_side *peer = peer_of(c, s);
    if (!(seg->flags & TCPF_ACK))
        return SEG_NO_ACK;
    if (s->sent_any && seg->seq == s->snd_max - 1)
        /* Linux probes a zero window the same way as a silent peer: the window tells which. */
        return peer->window_closed ? SEG_WINDOW_PROBE : SEG_KEEPALIVE;
    if (peer->syn_seen && seg->ack == peer->isn + 1 && !s->ack_valid && is_orig(c, s))
        return SEG_HANDSHAKE_ACK;
    if (seg->window == 0)
        return SEG_ZERO_WINDOW;
    uint32_t prev = s->ack_valid ? s->ack_max : seg->ack;
    if (peer->fin_seen && seg->ack == peer->fin_seq + 1 &&
        (!s->ack_valid || seq_delta(prev, peer->fin_seq) <= 0)) {
        if (!s->fin_seen)
            return SEG_ACK_FIN;
        f->time_wait = c->first_close == (int)(s - c->side);
        return SEG_ACK_FIN_OVER;
    }
    if (!s->ack_valid && peer->sent_any)
        prev = peer->first_seq;
    int32_t fresh = seq_delta(seg->ack, prev);
    if (fresh <= 0)
        return SEG_ACK_NOTHING;
    f->acked = (uint32_t)fresh;
    return SEG_ACK_DATA;
}

/* What a segment from s is, told before it changes anything (s and peer describe the past). */
static enum seg_kind classify_segment(struct tcp_conn *c, struct tcp_side *s,
                                      const struct tcp_seg *seg, struct seg_facts *f)
{
    struct tcp_side *peer = peer_of(c, s);
    uint8_t flags = seg->flags;
    uint32_t len = seg->payload_len;

    if ((flags & TCPF_SYN) && (flags & TCPF_FIN))
        return SEG_SYN_WITH_FIN;
    if ((flags & TCPF_SYN) && (flags & TCPF_RST))
        return SEG_SYN_WITH_RST;
    if ((flags & TCPF_FIN) && (flags & TCPF_RST))
        return SEG_FIN_WITH_RST;
    if (flags & TCPF_SYN) {
        bool again = s->syn_seen && seg->seq == s->isn;
        if (flags & TCPF_ACK)
            return again ? SEG_SYN_ACK_AGAIN : SEG_SYN_ACK;
        return again ? SEG_SYN_AGAIN : SEG_SYN;
    }
    if (flags & TCPF_RST) {
        f->rst = classify_rst(c, s, peer);
        f->sender_port = s->ep.port;
        f->unanswered = s->unanswered_rx;
        return SEG_RST;
    }
    if (flags & TCPF_FIN) {
        if (s->fin_seen && seg->seq + len == s->fin_seq)
            return SEG_FIN_AGAIN;
        return peer->fin_seen ? SEG_FIN_SECOND : SEG_FIN_FIRST;
    }
    if (len > 0) {
        if (s->sent_any && !(flags & TCPF_RST) && seq_delta(seg->seq, s->snd_max) > 0)
            f->hole = (uint32_t)seq_delta(seg->seq, s->snd_max);
        if (peer->rst_seen)
            return SEG_DATA_AFTER_PEER_RST;
        if (s->sent_any && seq_delta(seg->seq + len, s->snd_max) <= 0)
            return SEG_DATA_AGAIN;
        if (s->fin_seen)
            return SEG_DATA_AFTER_OWN_FIN;
        if (peer->fin_seen)
            return SEG_DATA_AFTER_PEER_FIN;
        return SEG_DATA;
    }
    return classify_ack(c, s, seg, f);
}

/* --- what a segment changes --------------------------------------------------------- */

/* The relative numbers of seg from s, numbering a side the first time it is seen, as Wireshark does. */
static void number_segment(struct tcp_side *s, struct tcp_side *peer, const struct tcp_seg *seg,
                           struct seg_facts *f)
{
    bool syn = seg->flags & TCPF_SYN;
    if (!s->numbered || syn) {
        /* A new start (its SYN): what the side carried before is forgotten. */
        if (s->numbered) {
            s->data_end = 0;
            s->last_data = 0;
            s->any_fin = s->any_rst = s->reset_first = s->rst_before_peer_fin = false;
        }
        /* Without its SYN, a side's first segment counts as 1. */
        s->base = syn ? seg->seq : seg->seq - 1;
        s->numbered = true;
    }
    f->rel_seq = seg->seq - s->base;
    if (!peer->numbered && (seg->flags & TCPF_ACK)) {
        /* The other side, not seen yet: this ack is where its data goes on, as 1. */
        peer->base = seg->ack - 1;
        peer->numbered = true;
    }
    f->rel_ack = (seg->flags & TCPF_ACK) ? seg->ack - peer->base : 0;
}

/* The data a side carried, and why a first RST came: the facts the RST's causes need. */
static void account_data(struct tcp_table *t, struct tcp_side *s, struct tcp_side *peer,
                         bool was_numbered, const struct tcp_seg *seg, struct seg_facts *f)
{
    t->segments++;
    if (seg->payload_len) {
        uint64_t end = (uint64_t)(uint32_t)(f->rel_seq - 1 + seg->payload_len);
        if (end > s->data_end)
            s->data_end = end;
        s->last_data = t->segments;
    }
    if ((seg->flags & TCPF_RST) && !s->any_rst && !s->any_fin && was_numbered && peer->numbered) {
        s->reset_first = true;
        s->rst_before_peer_fin = !peer->any_fin;
        s->rst_unread = -1;
        s->rst_linger_zero = false;
        f->reset_first = true;
        f->cause.first = s->rst_before_peer_fin;
        f->cause.peer_answered = s->last_data > peer->last_data;
        f->cause.unread = -1;
        f->peer_data = peer->data_end;
    }
    if (seg->flags & TCPF_RST)
        s->any_rst = true;
    if (seg->flags & TCPF_FIN)
        s->any_fin = true;
}

/* What the segment from s changes in both sides' view, after it was classified. */
static void account_segment(struct tcp_conn *c, struct tcp_side *s, const struct tcp_seg *seg,
                            enum rst_kind rst)
{
    struct tcp_side *peer = peer_of(c, s);
    uint8_t flags = seg->flags;
    uint32_t len = flags & TCPF_RST ? 0 : seg->payload_len;
    uint32_t end = seg->seq + len + !!(flags & TCPF_SYN) + !!(flags & TCPF_FIN);

    if (flags & TCPF_SYN) {
        s->syn_seen = true;
        s->isn = seg->seq;
    }
    if (len > 0)
        s->sent_data = true;
    uint32_t fresh = len;
    if (s->sent_any && len > 0) {
        int32_t beyond = seq_delta(seg->seq + len, s->snd_max);
        fresh = beyond <= 0 ? 0 : (uint32_t)beyond < len ? (uint32_t)beyond : len;
    }
    if (fresh > 0) {
        s->unanswered_rx = 0;
        peer->unanswered_rx += fresh;
        if (peer->fin_seen)
            s->wrote_after_peer_fin = true;
    }
    if (!(flags & TCPF_RST) && !s->sent_any)
        s->first_seq = seg->seq + !!(flags & TCPF_SYN);
    if (!(flags & TCPF_RST) && (!s->sent_any || seq_delta(end, s->snd_max) > 0)) {
        s->snd_max = end;
        s->sent_any = true;
    }
    if ((flags & TCPF_FIN) && !(flags & TCPF_RST) && !s->fin_seen) {
        s->fin_seen = true;
        s->fin_seq = seg->seq + len;
        if (c->first_close < 0) {
            c->first_close = (int)(s - c->side);
            c->first_close_rst = false;
        }
    }
    if (flags & TCPF_RST) {
        if (!s->rst_seen) {
            s->rst_seen = true;
            s->rst_kind = rst;
        }
        if (c->first_close < 0) {
            c->first_close = (int)(s - c->side);
            c->first_close_rst = true;
        }
    }
    if ((flags & TCPF_ACK) && !(flags & TCPF_RST))
        s->window_closed = seg->window == 0;
    if ((flags & TCPF_ACK) && !(flags & TCPF_RST) &&
        (!s->ack_valid || seq_delta(seg->ack, s->ack_max) > 0)) {
        s->ack_max = seg->ack;
        s->ack_valid = true;
    }
}

/*
 * Zeek's IsLikelyServerPort, approximated: Zeek asks its likely_server_ports
 * set (the ports its analyzers register); here a port below 1024 is one.
 */
static bool likely_server_port(uint16_t port) { return port > 0 && port < 1024; }

/*
 * TCPAnalyzer::WantConnection's flip_roles: a connection first seen without
 * its SYN (or from its SYN-ACK) is oriented by the ports, its sender taken for
 * the server when its port looks like one and the other's does not (both do:
 * only for a segment without SYN, toward the higher port).
 */
static bool want_flip(const struct tcp_seg *seg)
{
    if ((seg->flags & TCPF_SYN) && !(seg->flags & TCPF_ACK))
        return false;
    if (!likely_server_port(seg->sport))
        return false;
    if (likely_server_port(seg->dport))
        return !(seg->flags & TCPF_SYN) && seg->sport < seg->dport;
    return true;
}

/* The connection seg belongs to, a new one where it begins one; NULL when out of memory. */
static struct tcp_conn *conn_for(struct tcp_table *t, const struct tcp_seg *seg, size_t hash,
                                 const struct timespec *ts, bool *replaced)
{
    struct tcp_conn *c = table_find(t, seg, hash);
    if (c && zeek_is_reuse(&c->zeek, seg)) {
        table_detach(t, c);
        *replaced = true;
        c = NULL;
    }
    if (c)
        return c;
    c = table_add(t, seg, ts);
    if (c && want_flip(seg))
        zeek_flip_roles(&c->zeek);
    return c;
}

/*
 * tcp_track(), hash being table_hash(seg). Unless told, facts says only what
 * the connection keeps (a RST's kind): the summary needs no more.
 */
static int track(struct tcp_table *t, const struct tcp_seg *seg, size_t hash,
                 const struct timespec *ts, bool tell, struct seg_facts *facts)
{
    /* Untold, only what the connection keeps is read: a RST's kind, set below for a RST. */
    if (tell)
        memset(facts, 0, sizeof *facts);
    else
        facts->rst = RST_NONE;
    facts->from_orig = true;
    /* Zeek's timers run out at this segment's time, before it is seen. */
    if (t->done)
        table_expire(t, ts_ns(ts), t->done, t->done_ctx);
    bool replaced = false;
    struct tcp_conn *c = conn_for(t, seg, hash, ts, &replaced);
    if (!c) {
        facts->kind = SEG_UNTRACKED;
        facts->rel_seq = seg->seq;
        facts->rel_ack = seg->ack;
        return -1;
    }
    int at = side_is(&c->side[0], seg->family, seg->src, seg->sport) ? 0 : 1;
    struct tcp_side *s = &c->side[at], *peer = &c->side[!at];
    bool was_numbered = s->numbered;

    if (tell || (seg->flags & TCPF_RST))
        facts->kind = classify_segment(c, s, seg, facts);
    number_segment(s, peer, seg, facts);
    account_data(t, s, peer, was_numbered, seg, facts);
    zeek_process(&c->zeek, at, seg);
    facts->missed = c->zeek.seg_missed;
    account_segment(c, s, seg, facts->rst);
    s->pkts++;
    s->ip_bytes += seg->ip_len;
    c->last = *ts;
    table_timers(t, c, ts_ns(ts));
    facts->from_orig = is_orig(c, s);
    /*
     * A connection this segment replaced ends now, told before the segment
     * is (nothing else can run out: the timers just set run out later).
     */
    if (t->done && replaced)
        table_expire(t, ts_ns(ts), t->done, t->done_ctx);
    return 0;
}

int tcp_track(struct tcp_table *t, const struct tcp_seg *seg, const struct timespec *ts,
              struct seg_facts *facts)
{
    return track(t, seg, table_hash(seg), ts, true, facts);
}

size_t tcp_track_many(struct tcp_table *t, const struct tcp_seg *segs, const struct timespec *ts,
                      size_t n)
{
    /*
     * What a segment costs is mostly waiting for its connection to come from
     * memory: the slot of the segment SLOT_AHEAD on is asked for, and the
     * connection of the one CONN_AHEAD on, whose slot came meanwhile, so
     * that both are there by their turn. The segments are tracked one by
     * one, in their order, as tcp_track() would.
     */
    enum { SLOT_AHEAD = 16, CONN_AHEAD = 8, CHUNK = 256 };
    size_t untracked = 0;
    while (n > 0) {
        size_t m = n < CHUNK ? n : CHUNK, hash[CHUNK];
        for (size_t i = 0; i < m; i++)
            hash[i] = table_hash(&segs[i]);
        for (size_t i = 0; i < m && i < SLOT_AHEAD; i++)
            table_prefetch(t, hash[i], 0);
        for (size_t i = 0; i < m && i < CONN_AHEAD; i++)
            table_prefetch(t, hash[i], 1);
        for (size_t i = 0; i < m; i++) {
            if (i + SLOT_AHEAD < m)
                table_prefetch(t, hash[i + SLOT_AHEAD], 0);
            if (i + CONN_AHEAD < m)
                table_prefetch(t, hash[i + CONN_AHEAD], 1);
            struct seg_facts f;
            if (track(t, &segs[i], hash[i], &ts[i], false, &f) < 0)
                untracked++;
        }
        segs += m;
        ts += m;
        n -= m;
    }
    return untracked;
}

void tcp_set_cause(struct tcp_table *t, const struct tcp_seg *seg, const struct rst_cause *cause)
{
    struct tcp_conn *c = table_find(t, seg, table_hash(seg));
    if (!c)
        return;
    struct tcp_side *s =
        side_is(&c->side[0], seg->family, seg->src, seg->sport) ? &c->side[0] : &c->side[1];
    if (s->reset_first) {
        s->rst_unread = cause->unread;
        s->rst_linger_zero = cause->linger_zero;
    }
    if (cause->never_accepted)
        s->rst_never_accepted = true;
}

/* --- summaries ----------------------------------------------------------------------- */

static void side_summary(const struct tcp_side *s, const struct tcp_side *peer,
                         struct conn_side *out)
{
    out->syn_seen = s->syn_seen;
    out->sent_any = s->sent_any;
    out->fin_seen = s->fin_seen;
    out->rst_seen = s->rst_seen;
    out->wrote_after_peer_fin = s->wrote_after_peer_fin;
    out->rst_kind = s->rst_kind;
    out->reset_first = s->reset_first && s->rst_before_peer_fin;
    out->cause.first = true;
    out->cause.unread = s->rst_unread;
    out->cause.linger_zero = s->rst_linger_zero;
    out->cause.never_accepted = s->rst_never_accepted;
    out->cause.peer_answered = !peer->numbered || s->last_data > peer->last_data;
}

void tcp_summarise(struct tcp_conn *c, struct conn_summary *out)
{
    int o = zeek_orig(&c->zeek);
    const struct tcp_side *orig = &c->side[o], *resp = &c->side[!o];

    memset(out, 0, sizeof *out);
    out->orig_ep = orig->ep;
    out->resp_ep = resp->ep;
    endpoint_str(&orig->ep, out->orig, sizeof out->orig);
    endpoint_str(&resp->ep, out->resp, sizeof out->resp);
    str_append(out->conn_state, sizeof out->conn_state, 0, zeek_conn_state(&c->zeek));
    str_append(out->history, sizeof out->history, 0, c->zeek.history);
    out->orig_bytes = zeek_size(&c->zeek, o);
    out->resp_bytes = zeek_size(&c->zeek, !o);
    out->orig_pkts = orig->pkts;
    out->resp_pkts = resp->pkts;
    out->orig_ip_bytes = orig->ip_bytes;
    out->resp_ip_bytes = resp->ip_bytes;
    out->missed_bytes = zeek_missed(&c->zeek);
    out->orig_missed = zeek_missed_by(&c->zeek, o);
    out->resp_missed = zeek_missed_by(&c->zeek, !o);
    out->tunnel = c->tunnel;
    if (c->tunnel) {
        inet_ntop(c->tunnel_family, c->tunnel_src, out->tunnel_src, sizeof out->tunnel_src);
        inet_ntop(c->tunnel_family, c->tunnel_dst, out->tunnel_dst, sizeof out->tunnel_dst);
    }
    out->first = c->first;
    out->last = c->last;
    side_summary(orig, resp, &out->orig_side);
    side_summary(resp, orig, &out->resp_side);
    out->first_close = c->first_close < 0 ? -1 : c->first_close == o ? 0 : 1;
    out->first_close_rst = c->first_close_rst;
}
