/*
 * Check the connection tracker: what each segment is, its relative numbers,
 * the summary in Zeek's terms (conn_state and history, as
 * base/protocols/conn/main.zeek defines them) for the closes the labs
 * produce, and when a connection is forgotten.
 */
#include "../../capture/tcp.h"

#include <sys/socket.h>

#include "check.h"

enum { C, S }; /* who sends: the client (originator) or the server */

struct run {
    struct tcp_table *t;
    struct timespec now;
    uint32_t next_seq[2]; /* each side's next sequence number */
    struct conn_summary last;
    int summaries;
};

static void collect(const struct conn_summary *s, void *ctx)
{
    struct run *r = ctx;
    r->last = *s;
    r->summaries++;
}

/* One segment from side `from`, 1 ms after the last; data of len bytes, caplen of them captured. */
static struct seg_facts seg_cut(struct run *r, int from, uint8_t flags, uint32_t len,
                                uint32_t caplen)
{
    static const uint8_t payload[64];
    struct tcp_seg s = { .family = AF_INET, .flags = flags, .window = 65535 };
    uint8_t client[4] = { 127, 0, 0, 1 }, server[4] = { 127, 0, 0, 1 };
    memcpy(s.src, from == C ? client : server, 4);
    memcpy(s.dst, from == C ? server : client, 4);
    s.sport = from == C ? 50001 : 3333;
    s.dport = from == C ? 3333 : 50001;
    s.seq = r->next_seq[from];
    s.ack = (flags & TCPF_ACK) ? r->next_seq[!from] : 0;
    s.payload = payload;
    s.payload_len = len;
    s.payload_caplen = caplen;
    r->next_seq[from] += len + ((flags & (TCPF_SYN | TCPF_FIN)) ? 1 : 0);
    r->now.tv_nsec += 1000000;
    struct seg_facts f;
    CHECK(tcp_track(r->t, &s, &r->now, &f) == 0);
    CHECK(f.from_orig == (from == C));
    return f;
}

/* One segment from side `from`, 1 ms after the last; data of len bytes. What it is. */
static struct seg_facts seg(struct run *r, int from, uint8_t flags, uint32_t len)
{
    return seg_cut(r, from, flags, len, len);
}

/* A segment of len bytes that `from` sent and the capture never saw. */
static void lost(struct run *r, int from, uint32_t len) { r->next_seq[from] += len; }

static void start(struct run *r)
{
    memset(r, 0, sizeof *r);
    r->t = tcp_table_new();
    r->now.tv_sec = 1000;
    r->next_seq[C] = 1000;
    r->next_seq[S] = 5000;
}

static void handshake(struct run *r)
{
    seg(r, C, TCPF_SYN, 0);
    seg(r, S, TCPF_SYN | TCPF_ACK, 0);
    seg(r, C, TCPF_ACK, 0);
}

/* Flush the table; the one summary it gives. */
static const struct conn_summary *finish(struct run *r)
{
    tcp_flush(r->t, collect, r);
    tcp_table_free(r->t);
    CHECK(r->summaries == 1);
    return &r->last;
}

/*
 * Thousands of connections at once, their segments in a random order, each
 * reset now and then and begun again on the same ports (the table then
 * replaces it at its SYN): every segment is found in its own connection
 * (its relative number counts that connection's bytes alone), and every
 * connection begun is summarised once.
 */
static void check_many_at_once(void)
{
    enum { N = 3000, STEPS = 200000 };
    static uint32_t isn[N], sent[N];
    static bool open[N];
    struct run r;
    start(&r);
    tcp_on_done(r.t, collect, &r);
    uint64_t rng = 42;
    unsigned begun = 0, wrong = 0;
    for (unsigned step = 0; step < STEPS; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t i = (uint32_t)(rng >> 33) % N, what = (uint32_t)(rng >> 20) % 64;
        struct tcp_seg s = {
            .family = AF_INET, .window = 65535, .sport = (uint16_t)(20000 + i % 7), .dport = 3333
        };
        uint8_t a[4] = { 10, 1, (uint8_t)(i >> 8), (uint8_t)i }, b[4] = { 10, 2, 0, 1 };
        memcpy(s.src, a, 4);
        memcpy(s.dst, b, 4);
        struct seg_facts f;
        r.now.tv_nsec += 1000000;
        if (r.now.tv_nsec >= 1000000000) {
            r.now.tv_sec++;
            r.now.tv_nsec -= 1000000000;
        }
        if (!open[i]) {
            s.flags = TCPF_SYN;
            s.seq = isn[i] = (uint32_t)rng;
            sent[i] = 0;
            open[i] = true;
            begun++;
            wrong += tcp_track(r.t, &s, &r.now, &f) != 0;
            wrong += f.kind != SEG_SYN;
            struct tcp_seg answer = { .family = AF_INET,
                                      .window = 65535,
                                      .sport = s.dport,
                                      .dport = s.sport,
                                      .flags = TCPF_SYN | TCPF_ACK,
                                      .seq = 7,
                                      .ack = s.seq + 1 };
            memcpy(answer.src, b, 4);
            memcpy(answer.dst, a, 4);
            wrong += tcp_track(r.t, &answer, &r.now, &f) != 0;
            wrong += f.kind != SEG_SYN_ACK || f.from_orig;
        } else if (what == 0) {
            s.flags = TCPF_RST;
            s.seq = isn[i] + 1 + sent[i];
            open[i] = false;
            wrong += tcp_track(r.t, &s, &r.now, &f) != 0;
            wrong += f.kind != SEG_RST || f.rel_seq != 1 + sent[i];
        } else {
            s.flags = TCPF_PSH | TCPF_ACK;
            s.ack = 8;
            s.seq = isn[i] + 1 + sent[i];
            s.payload_len = s.payload_caplen = 1 + what % 9;
            wrong += tcp_track(r.t, &s, &r.now, &f) != 0;
            wrong += f.kind != SEG_DATA || f.rel_seq != 1 + sent[i] || !f.from_orig;
            sent[i] += s.payload_len;
        }
    }
    CHECK(wrong == 0);
    tcp_flush(r.t, collect, &r);
    CHECK(r.summaries == (int)begun);
    CHECK(begun > N + N / 2);
    tcp_table_free(r.t);
}

/* The summaries a table gave, in their order. */
struct kept {
    struct conn_summary s[8192];
    int n;
};

static void keep(const struct conn_summary *s, void *ctx)
{
    struct kept *k = ctx;
    if (k->n < 8192)
        k->s[k->n] = *s;
    k->n++;
}

static bool same_summary(const struct conn_summary *a, const struct conn_summary *b)
{
    return !strcmp(a->orig, b->orig) && !strcmp(a->resp, b->resp) &&
           !strcmp(a->conn_state, b->conn_state) && !strcmp(a->history, b->history) &&
           a->orig_bytes == b->orig_bytes && a->resp_bytes == b->resp_bytes &&
           a->orig_pkts == b->orig_pkts && a->resp_pkts == b->resp_pkts &&
           a->missed_bytes == b->missed_bytes && a->first.tv_sec == b->first.tv_sec &&
           a->first.tv_nsec == b->first.tv_nsec && a->last.tv_sec == b->last.tv_sec &&
           a->last.tv_nsec == b->last.tv_nsec && a->first_close == b->first_close &&
           a->orig_side.rst_kind == b->orig_side.rst_kind &&
           a->resp_side.rst_kind == b->resp_side.rst_kind;
}

/*
 * tcp_track_many is tcp_track one by one: random segments of a few hundred
 * connections (any flags, sequence numbers near and far, times with gaps
 * that let timers run out), fed both ways in batches of every size, give
 * the same summaries in the same order.
 */
static void check_many_as_one_by_one(void)
{
    enum { N = 300, SEGS = 8000 };
    static struct tcp_seg segs[SEGS];
    static struct timespec when[SEGS];
    static struct kept one, many;
    static const uint8_t flag_mix[] = { TCPF_SYN,
                                        TCPF_SYN | TCPF_ACK,
                                        TCPF_ACK,
                                        TCPF_ACK,
                                        TCPF_PSH | TCPF_ACK,
                                        TCPF_PSH | TCPF_ACK,
                                        TCPF_FIN | TCPF_ACK,
                                        TCPF_RST,
                                        TCPF_RST | TCPF_ACK };
    uint64_t rng = 7;
    struct timespec now = { 1000, 0 };
    for (int k = 0; k < SEGS; k++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t i = (uint32_t)(rng >> 33) % N, r2 = (uint32_t)(rng >> 8);
        bool back = r2 & 1;
        struct tcp_seg *s = &segs[k];
        memset(s, 0, sizeof *s);
        s->family = AF_INET;
        uint8_t client[4] = { 10, 3, (uint8_t)(i >> 8), (uint8_t)i }, server[4] = { 10, 4, 0, 1 };
        memcpy(s->src, back ? server : client, 4);
        memcpy(s->dst, back ? client : server, 4);
        s->sport = back ? 80 : (uint16_t)(40000 + i);
        s->dport = back ? (uint16_t)(40000 + i) : 80;
        s->flags = flag_mix[(r2 >> 1) % sizeof flag_mix];
        s->seq = (i * 100000u) + ((r2 >> 5) % 4096) + (back ? 50000000u : 0);
        s->ack = (i * 100000u) + ((r2 >> 13) % 4096) + (back ? 0 : 50000000u);
        s->window = (r2 >> 20) % 16 ? 1000 : 0;
        s->payload_len = s->payload_caplen = (s->flags & TCPF_PSH) ? 1 + (r2 >> 24) % 100 : 0;
        s->ip_len = 40 + s->payload_len;
        now.tv_nsec += 1000000 + (long)((r2 >> 3) % 1000) * 1000;
        if ((r2 >> 28) == 0)
            now.tv_sec += 7; /* a gap: timers run out */
        if (now.tv_nsec >= 1000000000) {
            now.tv_sec++;
            now.tv_nsec -= 1000000000;
        }
        when[k] = now;
    }
    struct tcp_table *a = tcp_table_new(), *b = tcp_table_new();
    tcp_on_done(a, keep, &one);
    tcp_on_done(b, keep, &many);
    for (int k = 0; k < SEGS; k++) {
        struct seg_facts f;
        tcp_track(a, &segs[k], &when[k], &f);
    }
    size_t untracked = 0;
    for (int k = 0, size = 1; k < SEGS; k += size, size = size % 97 + 1)
        untracked +=
            tcp_track_many(b, segs + k, when + k,
                           (size_t)(SEGS - k) < (size_t)size ? (size_t)(SEGS - k) : (size_t)size);
    tcp_flush(a, keep, &one);
    tcp_flush(b, keep, &many);
    CHECK(untracked == 0);

    CHECK(one.n == many.n && one.n > N && one.n <= 8192);
    int differ = 0;
    for (int k = 0; k < one.n && k < many.n && k < 8192; k++)
        differ += !same_summary(&one.s[k], &many.s[k]);
    CHECK(differ == 0);
    tcp_table_free(a);
    tcp_table_free(b);
}

int main(void)
{
    struct run r;
    const struct conn_summary *s;

    /* An orderly close: SF ShADadFf */
    start(&r);
    handshake(&r);
    seg(&r, C, TCPF_PSH | TCPF_ACK, 6);
    seg(&r, S, TCPF_ACK, 0);
    seg(&r, S, TCPF_PSH | TCPF_ACK, 5);
    seg(&r, C, TCPF_ACK, 0);
    seg(&r, C, TCPF_FIN | TCPF_ACK, 0);
    seg(&r, S, TCPF_FIN | TCPF_ACK, 0);
    seg(&r, C, TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->conn_state, "SF");
    CHECK_STR(s->history, "ShADadFf");
    CHECK(s->orig_bytes == 6 && s->resp_bytes == 5);
    CHECK(s->orig_ep.port == 50001 && s->resp_ep.port == 3333);
    CHECK_STR(s->orig, "127.0.0.1:50001");

    /* Lab 1: the server writes after the client's FIN, the client answers RST: RSTO */
    struct seg_facts f;
    start(&r);
    CHECK(seg(&r, C, TCPF_SYN, 0).kind == SEG_SYN);
    f = seg(&r, S, TCPF_SYN | TCPF_ACK, 0);
    CHECK(f.kind == SEG_SYN_ACK && f.rel_seq == 0 && f.rel_ack == 1);
    CHECK(seg(&r, C, TCPF_ACK, 0).kind == SEG_HANDSHAKE_ACK);
    f = seg(&r, C, TCPF_PSH | TCPF_ACK, 6);
    CHECK(f.kind == SEG_DATA && f.rel_seq == 1 && f.rel_ack == 1);
    f = seg(&r, S, TCPF_PSH | TCPF_ACK, 5);
    CHECK(f.kind == SEG_DATA && f.rel_ack == 7);
    CHECK(seg(&r, C, TCPF_FIN | TCPF_ACK, 0).kind == SEG_FIN_FIRST);
    CHECK(seg(&r, S, TCPF_PSH | TCPF_ACK, 5).kind == SEG_DATA_AFTER_PEER_FIN);
    f = seg(&r, C, TCPF_RST, 0);
    CHECK(f.kind == SEG_RST && f.rst == RST_AFTER_FIN_DATA);
    CHECK(!f.reset_first);
    s = finish(&r);
    CHECK_STR(s->conn_state, "RSTO");
    CHECK_STR(s->history, "ShADdFR");

    /* Refused: a SYN answered by RST-ACK is REJ */
    start(&r);
    seg(&r, C, TCPF_SYN, 0);
    seg(&r, S, TCPF_RST | TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->conn_state, "REJ");
    CHECK_STR(s->history, "Sr");

    /* A SYN never answered: S0 */
    start(&r);
    seg(&r, C, TCPF_SYN, 0);
    s = finish(&r);
    CHECK_STR(s->conn_state, "S0");
    CHECK_STR(s->history, "S");

    /* Established and still open at the end: S1 */
    start(&r);
    handshake(&r);
    s = finish(&r);
    CHECK_STR(s->conn_state, "S1");
    CHECK_STR(s->history, "ShA");

    /* Lab 2: the client closes, the server never does: S2 */
    start(&r);
    handshake(&r);
    seg(&r, C, TCPF_PSH | TCPF_ACK, 6);
    seg(&r, S, TCPF_ACK, 0);
    seg(&r, C, TCPF_FIN | TCPF_ACK, 0);
    seg(&r, S, TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->conn_state, "S2");
    CHECK_STR(s->history, "ShADaF");

    /* Lab 5: the server closes with data unread: its RST makes RSTR */
    start(&r);
    handshake(&r);
    seg(&r, C, TCPF_PSH | TCPF_ACK, 49);
    CHECK(seg(&r, S, TCPF_ACK, 0).kind == SEG_ACK_DATA);
    f = seg(&r, S, TCPF_RST | TCPF_ACK, 0);
    CHECK(f.kind == SEG_RST && f.rst == RST_UNREAD && f.unanswered == 49);
    CHECK(f.reset_first && f.cause.first && f.peer_data == 49);
    s = finish(&r);
    CHECK(s->first_close == 1 && s->first_close_rst);
    CHECK(s->resp_side.reset_first && !s->orig_side.reset_first);
    CHECK_STR(s->conn_state, "RSTR");
    CHECK_STR(s->history, "ShADar");

    /*
     * Content gaps (Zeek's TCP_Reassembler): a receiver acknowledges bytes
     * the capture never showed. The originator's missing data is 'G', the
     * responder's 'g'; both count in missed_bytes.
     */
    start(&r);
    handshake(&r);
    lost(&r, C, 6);
    seg(&r, S, TCPF_ACK, 0);
    lost(&r, S, 5);
    seg(&r, C, TCPF_ACK, 0);
    seg(&r, C, TCPF_FIN | TCPF_ACK, 0);
    seg(&r, S, TCPF_FIN | TCPF_ACK, 0);
    seg(&r, C, TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->conn_state, "SF");
    CHECK_STR(s->history, "ShAaGgFf");
    CHECK(s->missed_bytes == 11 && s->orig_missed == 6 && s->resp_missed == 5);
    CHECK(s->orig_bytes == 6 && s->resp_bytes == 5); /* from the sequence numbers, as Zeek */

    /* Data seen past a hole: only the hole is missed, once an ACK passes it. */
    start(&r);
    handshake(&r);
    lost(&r, C, 3);
    seg(&r, C, TCPF_PSH | TCPF_ACK, 4);
    f = seg(&r, S, TCPF_ACK, 0);
    CHECK(f.missed == 3);
    s = finish(&r);
    CHECK_STR(s->history, "ShADaG");
    CHECK(s->missed_bytes == 3);

    /* Nothing missed: no gap, and an ACK of a FIN is no byte of data. */
    start(&r);
    handshake(&r);
    seg(&r, C, TCPF_PSH | TCPF_ACK, 6);
    seg(&r, C, TCPF_FIN | TCPF_ACK, 0);
    CHECK(seg(&r, S, TCPF_ACK, 0).missed == 0);
    s = finish(&r);
    CHECK(s->missed_bytes == 0);

    /* A payload cut by the snap length was not seen either (Zeek: truncated_tcp_payload). */
    start(&r);
    handshake(&r);
    seg_cut(&r, C, TCPF_PSH | TCPF_ACK, 10, 2);
    seg(&r, S, TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->history, "ShADaG");
    CHECK(s->missed_bytes == 10);

    /* A gap revealed by a RST's ACK is not counted: the connection is not cleanly established. */
    start(&r);
    handshake(&r);
    lost(&r, C, 6);
    seg(&r, S, TCPF_RST | TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->history, "ShAr");
    CHECK(s->missed_bytes == 0);

    /* Begun mid-connection (partial): Zeek counts no gap there. */
    start(&r);
    seg(&r, C, TCPF_PSH | TCPF_ACK, 4);
    lost(&r, C, 4);
    seg(&r, S, TCPF_ACK, 0);
    s = finish(&r);
    CHECK_STR(s->history, "Da");
    CHECK(s->missed_bytes == 0);

    /* The letter again at the 10th gap (Zeek's ScaledHistoryEntry), not between. */
    start(&r);
    handshake(&r);
    for (int i = 0; i < 10; i++) {
        lost(&r, C, 1);
        seg(&r, S, TCPF_ACK, 0);
    }
    s = finish(&r);
    CHECK_STR(s->history, "ShAaGG");
    CHECK(s->missed_bytes == 10);

    /* Many holes open at once: past ZEEK_ABOVE_MAX, bytes between are taken as seen, never more. */
    start(&r);
    handshake(&r);
    for (int i = 0; i < 40; i++) {
        lost(&r, C, 1);
        seg(&r, C, TCPF_PSH | TCPF_ACK, 1);
    }
    seg(&r, S, TCPF_ACK, 0);
    s = finish(&r);
    CHECK(s->missed_bytes > 0 && s->missed_bytes <= 40);

    /* Forgetting: an ended connection is summarised once tcp_close_delay has passed */
    start(&r);
    seg(&r, C, TCPF_SYN, 0);
    seg(&r, S, TCPF_RST | TCPF_ACK, 0);
    struct timespec soon = r.now, later = r.now;
    soon.tv_sec += 1;
    later.tv_sec += ZEEK_TCP_CLOSE_DELAY_NS / 1000000000LL + 1;
    tcp_expire(r.t, &soon, collect, &r);
    CHECK(r.summaries == 0);
    tcp_expire(r.t, &later, collect, &r);
    CHECK(r.summaries == 1);
    CHECK_STR(r.last.conn_state, "REJ");
    tcp_flush(r.t, collect, &r);
    CHECK(r.summaries == 1);
    tcp_table_free(r.t);

    /*
     * Timers run out at each segment's own time (tcp_on_done): the close
     * delay counts from the segment that completed the close, not the last.
     */
    start(&r);
    tcp_on_done(r.t, collect, &r);
    handshake(&r);
    seg(&r, C, TCPF_RST | TCPF_ACK, 0);
    r.now.tv_sec += 4;
    seg(&r, S, TCPF_PSH | TCPF_ACK, 5); /* 4 s after the RST: the same connection */
    CHECK(r.summaries == 0);
    r.now.tv_sec += 2;
    seg(&r, C, TCPF_RST, 0); /* 6 s after: the first has ended, before this is seen */
    CHECK(r.summaries == 1);
    CHECK_STR(r.last.conn_state, "RSTO");
    CHECK_STR(r.last.history, "ShARd");
    tcp_flush(r.t, collect, &r);
    CHECK(r.summaries == 2);
    tcp_table_free(r.t);

    /*
     * Lab 1's end: the client's FIN closes one side (ExpireTimer), its RST
     * to the late reply completes nothing new: gone at the first
     * tcp_session_timer after tcp_connection_linger of silence, not before.
     */
    start(&r);
    tcp_on_done(r.t, collect, &r);
    handshake(&r);
    seg(&r, C, TCPF_FIN | TCPF_ACK, 0);
    seg(&r, S, TCPF_PSH | TCPF_ACK, 5);
    seg(&r, C, TCPF_RST, 0);
    struct timespec linger = r.now, session = r.now;
    linger.tv_sec += ZEEK_TCP_CONNECTION_LINGER_NS / 1000000000LL;
    session.tv_sec += 2 * ZEEK_TCP_SESSION_TIMER_NS / 1000000000LL;
    tcp_expire(r.t, &linger, collect, &r);
    CHECK(r.summaries == 0);
    tcp_expire(r.t, &session, collect, &r);
    CHECK(r.summaries == 1);
    CHECK_STR(r.last.conn_state, "RSTO");
    tcp_table_free(r.t);

    /* An unanswered SYN: tcp_attempt_delay after it, gone; not before. */
    start(&r);
    tcp_on_done(r.t, collect, &r);
    seg(&r, C, TCPF_SYN, 0);
    struct timespec almost = r.now, past = r.now;
    almost.tv_sec += ZEEK_TCP_ATTEMPT_DELAY_NS / 1000000000LL - 1;
    past.tv_sec += ZEEK_TCP_ATTEMPT_DELAY_NS / 1000000000LL;
    tcp_expire(r.t, &almost, collect, &r);
    CHECK(r.summaries == 0);
    tcp_expire(r.t, &past, collect, &r);
    CHECK(r.summaries == 1);
    CHECK_STR(r.last.conn_state, "S0");
    tcp_table_free(r.t);

    /* Times running backwards: nothing runs out, and no more than TCP_CONN_MAX are kept. */
    start(&r);
    tcp_on_done(r.t, collect, &r);
    for (uint32_t i = 0; i < TCP_CONN_MAX + 10; i++) {
        struct tcp_seg syn = { .family = AF_INET, .flags = TCPF_SYN, .seq = i };
        uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
        uint8_t b[4] = { 10, 255, 255, 254 };
        memcpy(syn.src, a, 4);
        memcpy(syn.dst, b, 4);
        syn.sport = 40000;
        syn.dport = 3333;
        struct timespec when = { 2000000000 - (time_t)i, 0 };
        struct seg_facts f;
        tcp_track(r.t, &syn, &when, &f);
    }
    CHECK(r.summaries == 10);
    CHECK(tcp_early(r.t) == 10);
    tcp_flush(r.t, collect, &r);
    CHECK(r.summaries == TCP_CONN_MAX + 10);
    tcp_table_free(r.t);

    check_many_at_once();
    check_many_as_one_by_one();
    return check_done();
}
