/*
 * zeek: Zeek's conn_state and history for one connection (zeek.h says whence).
 */
#include "zeek.h"
#include "zeek_int.h"

#include <string.h>

/* Zeek ignores SYN and RST sequence numbers that jump further than this. */
#define TOO_LARGE_SEQ_DELTA 1048576

/* Zeek's history masks; the responder's are shifted 16 bits left. */
enum {
    HIST_SYN_PKT = 0x1,
    HIST_FIN_PKT = 0x2,
    HIST_RST_PKT = 0x4,
    HIST_FIN_RST_PKT = 0x8,
    HIST_DATA_PKT = 0x10,
    HIST_ACK_PKT = 0x20,
    HIST_MULTI_FLAG_PKT = 0x40,
};
#define HIST_RESP_SHIFT 16

static int32_t seq_delta(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

static struct zeek_endpoint *orig_of(struct zeek_conn *c) { return &c->ep[zeek_orig(c)]; }

int zeek_orig(const struct zeek_conn *z) { return z->ep[0].is_orig ? 0 : 1; }

void zeek_init(struct zeek_conn *z)
{
    memset(z, 0, sizeof *z);
    for (int i = 0; i < 2; i++) {
        z->ep[i].state = z->ep[i].prev_state = ZEEK_INACTIVE;
        z->ep[i].rxmt_thresh = z->ep[i].win0_thresh = z->ep[i].gap_thresh = 1;
        z->ep[i].reassem_seq = z->ep[i].trim_seq = 1;
    }
    z->ep[0].is_orig = true;
}

/* --- history letters ---------------------------------------------------------- */

static void hist_add(struct zeek_conn *c, char code)
{
    if (c->hist_len + 1 < sizeof c->history) {
        c->history[c->hist_len++] = code;
        c->history[c->hist_len] = '\0';
    }
}

static char hist_code(const struct zeek_endpoint *e, char code)
{
    return e->is_orig ? code : (char)(code - 'A' + 'a');
}

/* Zeek's CheckHistory: add the letter the first time; 1 if it was already seen. */
static int hist_check(struct zeek_conn *c, const struct zeek_endpoint *e, uint32_t mask, char code)
{
    if (!e->is_orig)
        mask <<= HIST_RESP_SHIFT;
    if (c->hist_seen & mask)
        return 1;
    c->hist_seen |= mask;
    hist_add(c, hist_code(e, code));
    return 0;
}

/* Zeek's ScaledHistoryEntry: the letter again at 1, 10, 100, ... occurrences. */
void zeek_hist_scaled(struct zeek_conn *c, const struct zeek_endpoint *e, char code,
                      uint32_t *counter, uint32_t *threshold)
{
    if (++*counter == *threshold) {
        hist_add(c, hist_code(e, code));
        uint32_t next = *threshold * 10;
        if (next <= *threshold)
            *counter = 0;
        else
            *threshold = next;
    }
}

static void update_history(struct zeek_conn *c, struct zeek_endpoint *e, uint8_t flags,
                           uint64_t rel_seq, uint32_t len)
{
    int syn = !!(flags & TCPF_SYN), fin = !!(flags & TCPF_FIN), rst = !!(flags & TCPF_RST);
    int bits = syn + fin + rst;

    if (bits > 1) {
        if (fin && rst)
            hist_check(c, e, HIST_FIN_RST_PKT, 'I');
        else
            hist_check(c, e, HIST_MULTI_FLAG_PKT, 'Q');
    } else if (syn) {
        char code = flags & TCPF_ACK ? 'H' : 'S';
        if (hist_check(c, e, HIST_SYN_PKT, code) && rel_seq != e->hist_last_syn)
            hist_add(c, hist_code(e, code));
        e->hist_last_syn = rel_seq;
    } else if (fin) {
        /* A FIN's sequence number is the one after its data. */
        if (hist_check(c, e, HIST_FIN_PKT, 'F') && rel_seq + len != e->hist_last_fin)
            hist_add(c, hist_code(e, 'F'));
        e->hist_last_fin = rel_seq + len;
    } else if (rst) {
        if (hist_check(c, e, HIST_RST_PKT, 'R') && rel_seq != e->hist_last_rst)
            hist_add(c, hist_code(e, 'R'));
        e->hist_last_rst = rel_seq;
    } else if (len) {
        hist_check(c, e, HIST_DATA_PKT, 'D');
    } else if (flags & TCPF_ACK) {
        hist_check(c, e, HIST_ACK_PKT, 'A');
    }
}

/* --- sequence bookkeeping ------------------------------------------------------ */

static void update_last(struct zeek_endpoint *e, uint32_t seq)
{
    if (seq < e->last_seq)
        e->seq_wraps++;
    e->last_seq = seq;
}

static void update_ack(struct zeek_endpoint *e, uint32_t seq)
{
    if (seq < e->ack_seq)
        e->ack_wraps++;
    e->ack_seq = seq;
}

static void init_seqs(struct zeek_endpoint *e, int64_t start, uint32_t ack, uint32_t last)
{
    e->start_seq = start;
    e->ack_seq = ack;
    e->last_seq = last;
}

static void init_endpoint(struct zeek_endpoint *e, uint8_t flags, uint32_t seq, uint32_t last)
{
    switch (e->state) {
    case ZEEK_INACTIVE:
        if (flags & TCPF_SYN) {
            init_seqs(e, seq, seq, last);
        } else {
            /* A partial connection: number as though a SYN came before. */
            init_seqs(e, (uint32_t)(seq - 1), (uint32_t)(seq - 1), seq);
        }
        break;
    case ZEEK_SYN_SENT:
    case ZEEK_SYN_ACK_SENT:
        if ((flags & TCPF_SYN) && seq != (uint32_t)e->start_seq)
            init_seqs(e, seq, seq, last);
        break;
    case ZEEK_ESTABLISHED:
    case ZEEK_PARTIAL:
        if (flags & TCPF_SYN)
            init_seqs(e, seq, seq, last);
        break;
    case ZEEK_RESET:
        if ((flags & TCPF_SYN) && e->prev_state == ZEEK_INACTIVE)
            init_seqs(e, seq, seq, last);
        break;
    default: break;
    }
}

static uint64_t relative_seq(const struct zeek_endpoint *e, uint32_t cur, uint32_t last,
                             uint32_t wraps, int *underflow)
{
    int32_t delta = seq_delta(cur, last);
    if (delta < 0) {
        if (wraps && cur > last)
            wraps--;
    } else if (delta > 0) {
        if (cur < last)
            wraps++;
    }
    if (wraps == 0) {
        delta = seq_delta(cur, (uint32_t)e->start_seq);
        if (underflow && delta < 0)
            *underflow = 1;
        return (uint64_t)(int64_t)delta;
    }
    return ((uint64_t)wraps << 32) + cur - (uint64_t)e->start_seq;
}

static int no_data_acked(const struct zeek_endpoint *e)
{
    uint64_t ack = ((uint64_t)e->ack_wraps << 32) + e->ack_seq;
    uint64_t start = (uint64_t)e->start_seq;
    return ack == start || ack == start + 1;
}

/* Zeek's TCP_Endpoint::Size(): bytes sent, from sequence numbers. */
static uint64_t endpoint_size(const struct zeek_endpoint *e, const struct zeek_endpoint *peer)
{
    if (e->prev_state == ZEEK_SYN_SENT && e->state == ZEEK_RESET && peer->state == ZEEK_INACTIVE &&
        !no_data_acked(e))
        return 0;
    uint64_t last = ((uint64_t)e->seq_wraps << 32) + e->last_seq;
    uint64_t ack = ((uint64_t)e->ack_wraps << 32) + e->ack_seq;
    uint64_t size = (last > ack ? last : ack) - (uint64_t)e->start_seq;
    if (size != 0)
        size--; /* the SYN */
    if (e->fin_cnt > 0 && size != 0)
        size--; /* the FIN */
    return size;
}

static int32_t update_last_seq(struct zeek_conn *c, struct zeek_endpoint *e, uint32_t last,
                               uint8_t flags, uint32_t len)
{
    int32_t delta = seq_delta(last, e->last_seq);

    if ((flags & (TCPF_SYN | TCPF_RST)) &&
        (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
        ; /* not trusted */
    else if ((flags & TCPF_FIN) && (int64_t)e->last_seq == e->start_seq + 1)
        update_last(e, last);
    else if (e->state == ZEEK_RESET)
        ; /* nothing after a RST is trusted */
    else if (delta > 0)
        update_last(e, last);
    else if (len > 0)
        zeek_hist_scaled(c, e, 'T', &e->rxmt_cnt, &e->rxmt_thresh);
    return delta;
}

static void set_state(struct zeek_endpoint *e, enum zeek_state s)
{
    if (s != e->state) {
        e->prev_state = e->state;
        e->state = s;
    }
}

void zeek_flip_roles(struct zeek_conn *c)
{
    c->ep[0].is_orig = !c->ep[0].is_orig;
    c->ep[1].is_orig = !c->ep[1].is_orig;
    hist_add(c, '^');
}

/* Zeek's UpdateStateMachine and its helpers; *do_close as Zeek's do_close. */
static void update_state(struct zeek_conn *c, struct zeek_endpoint *e, struct zeek_endpoint *peer,
                         uint32_t seq, uint32_t len, uint8_t flags, int *do_close)
{
    int syn = flags & TCPF_SYN, fin = flags & TCPF_FIN, rst = flags & TCPF_RST,
        ack = flags & TCPF_ACK;
    struct zeek_endpoint *o = orig_of(c);

    *do_close = 0;
    switch (e->state) {
    case ZEEK_INACTIVE:
        if (syn) {
            if (e->is_orig) {
                set_state(e, ack ? ZEEK_SYN_ACK_SENT : ZEEK_SYN_SENT);
            } else {
                if (!ack && peer->state == ZEEK_SYN_ACK_SENT && seq == (uint32_t)e->start_seq) {
                    /* SYN and SYN-ACK seen in reverse order: swap the roles. */
                    zeek_flip_roles(c);
                    c->is_partial = false;
                    set_state(peer, ZEEK_ESTABLISHED);
                }
                if (peer->state == ZEEK_SYN_SENT)
                    set_state(peer, ZEEK_ESTABLISHED);
                set_state(e, ZEEK_ESTABLISHED);
            }
        }
        if (fin) {
            set_state(e, ZEEK_CLOSED);
            *do_close = 1;
        }
        if (rst) {
            set_state(e, ZEEK_RESET);
            *do_close = 1;
        }
        if (e->state == ZEEK_INACTIVE) {
            if (!e->is_orig && len == 0 && o->state == ZEEK_SYN_SENT)
                ; /* an ACK of the SYN before the SYN-ACK: not yet a partial connection */
            else if (ack && peer->state == ZEEK_ESTABLISHED) {
                set_state(e, ZEEK_ESTABLISHED); /* the SYN was missed */
                c->is_partial = false;
            } else
                set_state(e, ZEEK_PARTIAL);
        }
        break;

    case ZEEK_SYN_SENT:
    case ZEEK_SYN_ACK_SENT:
        if (fin) {
            set_state(e, ZEEK_CLOSED);
            *do_close = 1;
        }
        if (rst) {
            set_state(e, ZEEK_RESET);
            *do_close = 1;
        }
        break;

    case ZEEK_ESTABLISHED:
    case ZEEK_PARTIAL:
        if (syn && e->state == ZEEK_PARTIAL && peer->state == ZEEK_INACTIVE && !ack)
            set_state(e, ZEEK_SYN_SENT);
        if (fin && !rst) {
            set_state(e, ZEEK_CLOSED);
            /* A FIN, then a RST, then the peer's FIN: a normal close after all. */
            if (peer->state == ZEEK_RESET && peer->prev_state == ZEEK_CLOSED)
                set_state(peer, ZEEK_CLOSED);
            *do_close = 1;
        }
        if (rst) {
            set_state(e, ZEEK_RESET);
            *do_close = 1;
        }
        break;

    case ZEEK_CLOSED:
        if (rst && peer->state != ZEEK_CLOSED) {
            set_state(e, ZEEK_RESET);
            if (!e->did_close)
                *do_close = 1;
        }
        break;

    case ZEEK_RESET: break;
    }
}

const char *zeek_conn_state(const struct zeek_conn *c)
{
    const struct zeek_endpoint *o = &c->ep[zeek_orig(c)], *r = &c->ep[!zeek_orig(c)];
    enum zeek_state os = o->state, rs = r->state;
    int o_inactive = os == ZEEK_INACTIVE || os == ZEEK_PARTIAL;
    int r_inactive = rs == ZEEK_INACTIVE || rs == ZEEK_PARTIAL;

    if (rs == ZEEK_RESET) {
        if (os == ZEEK_SYN_SENT || os == ZEEK_SYN_ACK_SENT ||
            (os == ZEEK_RESET && endpoint_size(o, r) == 0 && endpoint_size(r, o) == 0))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == ZEEK_RESET) {
        if (r_inactive) {
            /* history matches /^?S[^HAFGIQ]*R.*\/ */
            const char *h = c->history;
            if (*h == '^')
                h++;
            if (*h++ == 'S') {
                while (*h && *h != 'R' && !strchr("HAFGIQ", *h))
                    h++;
                if (*h == 'R')
                    return "RSTOS0";
            }
            return "OTH";
        }
        return "RSTO";
    }
    if (rs == ZEEK_CLOSED && os == ZEEK_CLOSED)
        return "SF";
    if (os == ZEEK_CLOSED)
        return r_inactive ? "SH" : "S2";
    if (rs == ZEEK_CLOSED)
        return o_inactive ? "SHR" : "S3";
    if (os == ZEEK_SYN_SENT && rs == ZEEK_INACTIVE)
        return "S0";
    if (os == ZEEK_ESTABLISHED && rs == ZEEK_ESTABLISHED)
        return "S1";
    return "OTH";
}

uint64_t zeek_missed(const struct zeek_conn *z) { return z->missed_bytes; }

uint64_t zeek_missed_by(const struct zeek_conn *z, int side) { return z->ep[side].missed; }

void zeek_process(struct zeek_conn *c, int side, const struct tcp_seg *seg)
{
    struct zeek_endpoint *e = &c->ep[side], *peer = &c->ep[!side];
    uint8_t flags = seg->flags;
    uint32_t len = seg->payload_len;
    uint32_t seg_len = len + !!(flags & TCPF_SYN) + !!(flags & TCPF_FIN);
    if (flags & TCPF_RST)
        seg_len -= len; /* a RST's data is not part of the stream */
    uint32_t past = seg->seq + seg_len;

    c->seg_missed = 0;

    /* SetPartialStatus: a side's first segment without SYN (the originator's: or with ACK). */
    if (e->is_orig && !e->first_seen)
        c->is_partial = !(flags & TCPF_SYN) || (flags & TCPF_ACK);
    else if (!e->is_orig && !e->first_seen && !c->is_partial)
        c->is_partial = !(flags & TCPF_SYN);

    init_endpoint(e, flags, seg->seq, past);
    int seq_underflow = 0;
    uint64_t rel_seq = relative_seq(e, seg->seq, e->last_seq, e->seq_wraps, &seq_underflow);
    update_history(c, e, flags, rel_seq, len);

    /* A zero window matters unless it comes with or after a RST, or after the peer's FIN. */
    if (seg->window == 0 && !(flags & TCPF_RST) && peer->state != ZEEK_CLOSED &&
        e->state != ZEEK_RESET)
        zeek_hist_scaled(c, e, 'W', &e->win0_cnt, &e->win0_thresh);

    if (flags & TCPF_FIN) {
        e->fin_cnt++;
        e->fin_seq = rel_seq + seg_len;
    }

    uint64_t rel_ack = 0;
    if (flags & TCPF_ACK) {
        if (peer->state == ZEEK_INACTIVE) {
            rel_ack = 1;
            init_seqs(peer, (uint32_t)(seg->ack - 1), seg->ack - 1, seg->ack - 1);
        } else {
            int underflow = 0;
            rel_ack = relative_seq(peer, seg->ack, peer->ack_seq, peer->ack_wraps, &underflow);
            if (underflow) {
                rel_ack = 0;
            } else if (!(flags & TCPF_RST)) {
                int32_t d = seq_delta(seg->ack, peer->ack_seq);
                if (!(seg->ack == 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0)
                    update_ack(peer, seg->ack);
            }
        }
    }

    update_last_seq(c, e, past, flags, len);

    int do_close;
    update_state(c, e, peer, seg->seq, len, flags, &do_close);
    /* After the state machine, so that a gap an ACK reveals in a FIN or RST is told apart. */
    if (flags & TCPF_ACK)
        zeek_ack_received(c, peer, rel_ack);
    /* Data goes to reassembly when all of it was captured (else Zeek: truncated_tcp_payload). */
    if (len > 0 && seg->payload_caplen >= len && !(flags & TCPF_RST) && !seq_underflow)
        zeek_data_sent(e, (flags & TCPF_SYN) ? rel_seq + 1 : rel_seq, len);
    e->first_seen = true;

    c->close_done = c->close_half = false;
    if (do_close && !e->did_close) {
        /*
         * ConnectionClosed: a complete close starts tcp_close_delay
         * (ConnDeleteTimer); one side's, from a side seen before, ExpireTimer.
         */
        e->did_close = 1;
        c->close_done = e->state == ZEEK_RESET || peer->did_close || peer->state == ZEEK_INACTIVE;
        c->close_half = !c->close_done && e->prev_state != ZEEK_INACTIVE;
    }

    if (e->state == ZEEK_RESET || peer->state == ZEEK_RESET || (e->did_close && peer->did_close) ||
        (e->did_close && peer->state == ZEEK_INACTIVE))
        c->ended = 1;
}

/* A SYN starts a new connection if the old one has closed, or if its sequence number differs. */
bool zeek_is_reuse(const struct zeek_conn *c, const struct tcp_seg *seg)
{
    if (!(seg->flags & TCPF_SYN))
        return 0;
    const struct zeek_endpoint *o = &c->ep[zeek_orig(c)], *r = &c->ep[!zeek_orig(c)];
    const struct zeek_endpoint *conn_orig = o;
    if (seg->flags & TCPF_ACK) {
        if (o->state != ZEEK_INACTIVE)
            return 0;
        conn_orig = r;
    }
    if (!(o->did_close || r->did_close)) {
        if (seg->seq == (uint32_t)conn_orig->start_seq)
            return 0;
        if (!(seg->flags & TCPF_ACK) && conn_orig->state == ZEEK_SYN_ACK_SENT &&
            r->state == ZEEK_INACTIVE && seg->seq == (uint32_t)r->start_seq)
            return 0;
    }
    return 1;
}

uint64_t zeek_size(const struct zeek_conn *z, int side)
{
    return endpoint_size(&z->ep[side], &z->ep[!side]);
}

bool zeek_attempt_unanswered(const struct zeek_conn *z)
{
    const struct zeek_endpoint *o = &z->ep[zeek_orig(z)], *r = &z->ep[!zeek_orig(z)];
    return (o->state == ZEEK_SYN_SENT || o->state == ZEEK_SYN_ACK_SENT) &&
           r->state == ZEEK_INACTIVE;
}

bool zeek_expire_over(const struct zeek_conn *z)
{
    const struct zeek_endpoint *o = &z->ep[zeek_orig(z)], *r = &z->ep[!zeek_orig(z)];
    if (!(o->did_close || r->did_close))
        return false;
    return (o->did_close && r->did_close) || o->state == ZEEK_RESET || r->state == ZEEK_RESET ||
           o->state == ZEEK_INACTIVE || r->state == ZEEK_INACTIVE;
}
