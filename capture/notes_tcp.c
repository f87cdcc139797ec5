/*
 * notes_tcp: what each TCP segment and each connection's end mean, in plain
 * words, from the facts tcp.c gives (seg_facts, conn_summary) and, for a
 * RST, from what the processes read (rst_cause).
 *
 * Names are the caller's: "the client" and "the server" where no process is
 * known to own an end, else the process's name as the timeline shows it.
 */
#include "notes.h"

#include <stdio.h>

#include "notebuf.h"

/* Phrases more than one note ends with. */
#define THE_WIRE_CANNOT_SAY                                                                        \
    "with RST and no FIN; the wire cannot say why: either with data it had not read (its "         \
    "kernel acknowledges data before the program reads it, so the ACKs do not tell), or with "     \
    "SO_LINGER set to zero"
#define REFUSED_HOW "(connect() returns it; a non-blocking connect() leaves it in SO_ERROR)"
#define FAILS_WITH_ECONNRESET "fails with ECONNRESET, sends after that with EPIPE"
/* What a RST predicts of a write is true only of one without MSG_NOSIGNAL: say so. */
#define RAISES_SIGPIPE "raises SIGPIPE unless it passes MSG_NOSIGNAL"
#define AND_SIGPIPE_NO_FIN                                                                         \
    " and SIGPIPE, unless MSG_NOSIGNAL (%s had no FIN, so Linux reports ECONNRESET first)"

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

/* The RST's note from the wire alone: what its kind says. */
static void note_rst(struct notebuf *n, const struct seg_facts *f, const char *x, const char *y)
{
    switch (f->rst) {
    case RST_REFUSED:
        notebuf_add(
            n,
            "connection refused: nothing listens on port %u, so %s's kernel answers the SYN "
            "with RST; %s's connection attempt fails with ECONNREFUSED " REFUSED_HOW,
            (unsigned)f->sender_port, x, y);
        break;
    case RST_CANCEL:
        notebuf_add(n, "%s gives up connecting (RST before the handshake completed)", x);
        break;
    case RST_AFTER_FIN_DATA:
        notebuf_add(n,
                    "%s's socket is fully closed, so its kernel answers %s's data with RST: "
                    "%s's next write fails with EPIPE and " RAISES_SIGPIPE
                    " (Linux gives EPIPE, not "
                    "ECONNRESET, because %s's FIN had already arrived)",
                    x, y, y, x);
        break;
    case RST_AFTER_FIN:
        notebuf_add(n,
                    "%s resets after its FIN: its socket is fully closed; %s's next write fails "
                    "with EPIPE and " RAISES_SIGPIPE,
                    x, y);
        break;
    case RST_UNREAD:
        notebuf_add(
            n,
            "closed with unread data: RST instead of FIN, as when %s closes its socket with "
            "%s's last %llu byte%s unread (SO_LINGER zero looks the same); %s's next write "
            "fails with ECONNRESET, the one after with EPIPE",
            x, y, (unsigned long long)f->unanswered, plural(f->unanswered), y);
        break;
    case RST_ABORT:
        /*
         * Its peer's data was all answered, but not necessarily read: the
         * kernel acknowledges data before the program reads it. The tracer,
         * which sees the reads, says which it was where it can.
         */
        notebuf_add(n,
                    "%s closed " THE_WIRE_CANNOT_SAY
                    "; %s's next recv() or send() " FAILS_WITH_ECONNRESET,
                    x, y);
        break;
    case RST_ABORT_NO_DATA:
        notebuf_add(
            n,
            "%s resets the connection: RST without FIN, before %s sent it any data, so nothing "
            "was left unread: most likely an abortive close (SO_LINGER set to zero); %s's next "
            "recv() or send() " FAILS_WITH_ECONNRESET,
            x, y, y);
        break;
    case RST_AFTER_BOTH:
        notebuf_add(n,
                    "%s resets after both sides closed: a late segment found no socket; "
                    "nothing is left to fail",
                    x);
        break;
    case RST_AGAIN:
        notebuf_add(n, "another RST from %s: %s is still sending to a connection %s no longer has",
                    x, y, x);
        break;
    case RST_UNKNOWN:
        notebuf_add(n,
                    "%s resets a connection whose earlier segments the capture does not show: "
                    "why cannot be told from here",
                    x);
        break;
    case RST_NONE: break;
    }
}

/*
 * Why x reset instead of closing with FIN, after "x closed" (the caller's
 * who): from what its process left unread, where that was seen. false where
 * the wire tells as much already.
 */
static bool rst_why(struct notebuf *n, const struct rst_cause *c, const char *who)
{
    if (c->linger_zero && c->unread > 0)
        notebuf_add(n,
                    "%s with SO_LINGER {on, 0 seconds}: an abortive close, RST instead of FIN (and "
                    "%lld byte%s it had not read were thrown away)",
                    who, c->unread, plural((uint64_t)c->unread));
    else if (c->linger_zero)
        notebuf_add(n,
                    "%s with SO_LINGER {on, 0 seconds}, having read everything: an abortive "
                    "close, RST instead of FIN",
                    who);
    else if (c->unread > 0)
        notebuf_add(n,
                    "%s with %lld byte%s unread: RST instead of FIN (close() throws away what the "
                    "program never read, and the peer is told so)",
                    who, c->unread, plural((uint64_t)c->unread));
    else if (c->unread == 0)
        notebuf_add(n,
                    "%s with nothing unread, yet RST instead of FIN: an abortive close "
                    "(SO_LINGER set to zero)",
                    who);
    else if (c->peer_answered)
        notebuf_add(n, "%s %s", who, THE_WIRE_CANNOT_SAY);
    else
        return false;
    return true;
}

/* What a RST does to its receiver: its next call fails, unless its socket is closed already. */
static void rst_peer_next(struct notebuf *n, const struct seg_facts *f, const char *y)
{
    if (f->peer_closed)
        notebuf_add(n, "; %s had closed its socket already: no call of its is left to fail", y);
    else
        notebuf_add(n, "; %s's next recv() or send() %s", y, FAILS_WITH_ECONNRESET);
}

/* Who closed a FIN's socket, where no close() did: its process's end, or an exec. */
static void fin_closed_by(struct notebuf *n, const struct seg_facts *f)
{
    if (f->closed_by == CLOSED_BY_EXIT && f->closed_signo)
        notebuf_add(n, " (its process was killed by %s, and the kernel closed the socket)",
                    signal_name(f->closed_signo));
    else if (f->closed_by == CLOSED_BY_EXIT)
        notebuf_add(n, " (its process exited, and the kernel closed the socket)");
    else if (f->closed_by == CLOSED_BY_EXEC)
        notebuf_add(n, " (closed on exec: its process ran a new program, and the socket was "
                       "close-on-exec)");
}

void notes_segment(const struct seg_facts *f, const struct tcp_seg *seg, const char *x,
                   const char *y, char *buf, size_t len)
{
    struct notebuf n = notebuf_at(buf, len);
    uint32_t bytes = seg->payload_len;
    char flags[48], who[64];

    switch (f->kind) {
    case SEG_UNTRACKED:
        notebuf_add(&n, "%s segment with %u byte%s (not tracked: out of memory)",
                    decode_flags_str(seg->flags, flags, sizeof flags), bytes, plural(bytes));
        break;
    case SEG_SYN_WITH_FIN:
    case SEG_SYN_WITH_RST:
        notebuf_add(&n, "%s sends SYN together with %s: no normal TCP does this", x,
                    f->kind == SEG_SYN_WITH_FIN ? "FIN" : "RST");
        break;
    case SEG_FIN_WITH_RST:
        notebuf_add(&n, "%s sends FIN and RST together: no normal TCP does this", x);
        break;
    case SEG_SYN:
        notebuf_add(&n, "%s asks to connect (SYN to port %u)", x, (unsigned)seg->dport);
        break;
    case SEG_SYN_AGAIN:
        notebuf_add(&n, "%s asks to connect again: no answer to its SYN yet (retransmission)", x);
        break;
    case SEG_SYN_ACK:
        notebuf_add(&n,
                    "%s's kernel agrees to connect (SYN-ACK) on behalf of the listening "
                    "socket: no accept() is needed for this",
                    x);
        break;
    case SEG_SYN_ACK_AGAIN: notebuf_add(&n, "%s repeats its SYN-ACK (retransmission)", x); break;
    case SEG_RST:
        /* Where the processes tell why, that is the note; else what the wire tells. */
        snprintf(who, sizeof who, "%s closed", x);
        if (f->never_accepted) {
            notebuf_add(&n,
                        "%s's listening socket closed with this connection still in its queue, "
                        "never accepted: the kernel resets each such connection",
                        x);
            rst_peer_next(&n, f, y);
        } else if (f->reset_first && rst_why(&n, &f->cause, who)) {
            rst_peer_next(&n, f, y);
        } else {
            note_rst(&n, f, x, y);
        }
        break;
    case SEG_FIN_AGAIN:
        notebuf_add(&n, "%s repeats its FIN (retransmission: not acknowledged in time)", x);
        break;
    case SEG_FIN_SECOND:
        if (bytes)
            notebuf_add(&n, "%s sends %u byte%s and closes its end too", x, bytes, plural(bytes));
        else
            notebuf_add(&n, "%s closes its end too", x);
        fin_closed_by(&n, f);
        notebuf_add(&n, ": both directions are closed, an orderly end");
        break;
    case SEG_FIN_FIRST:
        if (bytes)
            notebuf_add(&n, "%s sends %u byte%s and closes its end", x, bytes, plural(bytes));
        else
            notebuf_add(&n, "%s closed its end", x);
        if (f->closed_by == CLOSED_BY_EXIT || f->closed_by == CLOSED_BY_EXEC)
            fin_closed_by(&n, f);
        else
            notebuf_add(&n, " (close(), or shutdown() for writing)");
        notebuf_add(&n, ": it will send no more data");
        break;
    case SEG_DATA_AFTER_PEER_RST:
        notebuf_add(&n,
                    "%s sends %u byte%s after %s's RST: that connection no longer exists, "
                    "%s's kernel will answer with RST",
                    x, bytes, plural(bytes), y, y);
        break;
    case SEG_DATA_AGAIN:
        notebuf_add(&n, "%s sends %u byte%s again (retransmission: not acknowledged in time)", x,
                    bytes, plural(bytes));
        break;
    case SEG_DATA_AFTER_OWN_FIN:
        notebuf_add(&n, "%s sends %u byte%s after its own FIN: no normal TCP does this", x, bytes,
                    plural(bytes));
        break;
    case SEG_DATA_AFTER_PEER_FIN:
        notebuf_add(&n,
                    "%s sends %u byte%s, writing to a peer that may be gone: %s's FIN says it "
                    "will send no more, not that it can still receive",
                    x, bytes, plural(bytes), y);
        break;
    case SEG_DATA: notebuf_add(&n, "%s sends %u byte%s", x, bytes, plural(bytes)); break;
    case SEG_NO_ACK:
        notebuf_add(&n, "%s sends a segment with no data and no ACK: no normal TCP does this", x);
        break;
    case SEG_KEEPALIVE:
        notebuf_add(&n, "%s checks that %s is still there (keep-alive probe)", x, y);
        break;
    case SEG_HANDSHAKE_ACK:
        notebuf_add(
            &n,
            "%s's kernel acknowledges the SYN-ACK: the connection is established (connect() "
            "returns; the connection waits for accept() on %s)",
            x, y);
        break;
    case SEG_WINDOW_PROBE:
        notebuf_add(&n,
                    "%s asks whether %s's receive buffer has room again (zero-window probe: %s's "
                    "last window was 0, so %s may not send data until it opens)",
                    x, y, y, x);
        break;
    case SEG_ZERO_WINDOW:
        notebuf_add(&n, "%s's receive buffer is full (zero window): %s must wait", x, y);
        break;
    case SEG_ACK_FIN_OVER:
        notebuf_add(&n, "%s's kernel acknowledges %s's FIN: the connection is over%s", x, y,
                    f->time_wait ? " (this side waits in TIME-WAIT for a while)" : "");
        break;
    case SEG_ACK_FIN:
        notebuf_add(
            &n,
            "%s's kernel acknowledges %s's FIN: recv() on %s will return 0 (end of file) once "
            "the data before it is read",
            x, y, x);
        break;
    case SEG_ACK_DATA:
        notebuf_add(&n,
                    "%s's kernel acknowledges %lu byte%s from %s: they are in its receive buffer, "
                    "whether or not the program has read them yet",
                    x, (unsigned long)f->acked, plural(f->acked), y);
        break;
    case SEG_ACK_NOTHING:
        notebuf_add(&n, "%s's kernel acknowledges nothing new (a duplicate ACK or a window update)",
                    x);
        break;
    }
    if (f->hole)
        notebuf_add(&n,
                    "; it starts %lu byte%s past the last the capture showed from %s: those were "
                    "missed by the capture, or lost and not yet sent again",
                    (unsigned long)f->hole, plural(f->hole), x);
    if (f->missed)
        notebuf_add(&n,
                    "; %llu byte%s from %s that this acknowledges never appeared in the capture: "
                    "the capture missed them, not %s (a content gap)",
                    (unsigned long long)f->missed, plural(f->missed), y, x);
}

/*
 * A connection one side reset before any FIN, where the processes tell why:
 * the side that closed first if it was one, else the other. false if
 * neither did, or the reads tell no more than the wire.
 */
static bool summary_rst_cause(struct notebuf *n, const struct conn_summary *s, const char *on,
                              const char *rn)
{
    const struct conn_side *side[2] = { &s->orig_side, &s->resp_side };
    const char *name[2] = { on, rn };
    int first = s->first_close == 1 ? 1 : 0;
    int who = side[first]->reset_first ? first : side[!first]->reset_first ? !first : -1;
    if (who < 0)
        return false;
    char closed[64];
    snprintf(closed, sizeof closed, "%s closed first,", name[who]);
    size_t mark = n->len;
    if (!rst_why(n, &side[who]->cause, closed)) {
        notebuf_cut(n, mark);
        return false;
    }
    notebuf_add(n, "; %s's next recv() or send() " FAILS_WITH_ECONNRESET AND_SIGPIPE_NO_FIN,
                name[!who], name[!who]);
    return true;
}

void notes_connection(const struct conn_summary *s, const char *on, const char *rn, char *buf,
                      size_t len)
{
    struct notebuf text = notebuf_at(buf, len), *n = &text;
    const struct conn_side *o = &s->orig_side, *r = &s->resp_side;

    /* A file cut short: the record is of what it holds, not of how the connection went on. */
    if (s->capture_cut)
        notebuf_add(n, "(the capture ends cut short: this is what it holds) ");
    /* Before anything the close says: what follows was seen with holes in it. */
    if (s->missed_bytes) {
        notebuf_add(n, "%llu byte%s %s never seen by the capture (",
                    (unsigned long long)s->missed_bytes, plural(s->missed_bytes),
                    s->missed_bytes == 1 ? "was" : "were");
        if (s->orig_missed && s->resp_missed)
            notebuf_add(n, "%llu sent by %s, %llu by %s", (unsigned long long)s->orig_missed, on,
                        (unsigned long long)s->resp_missed, rn);
        else
            notebuf_add(n, "sent by %s", s->orig_missed ? on : rn);
        notebuf_add(n, "): %s acknowledged them, so the capture missed them; ",
                    s->orig_missed && s->resp_missed ? "their receivers" : "the receiver");
    }
    if (summary_rst_cause(n, s, on, rn))
        return;
    if (r->rst_kind == RST_REFUSED) {
        notebuf_add(n,
                    "connection refused: nothing listened on port %u, so %s's connection attempt "
                    "failed with ECONNREFUSED " REFUSED_HOW,
                    (unsigned)s->resp_ep.port, on);
        return;
    }
    if (s->first_close < 0) {
        if (o->syn_seen && !r->sent_any)
            notebuf_add(n, "%s's SYN got no answer during the capture", on);
        else
            notebuf_add(n, "neither side closed during the capture: the connection is still open");
        return;
    }

    const struct conn_side *f = s->first_close == 0 ? o : r, *g = s->first_close == 0 ? r : o;
    const char *fn = s->first_close == 0 ? on : rn, *gn = s->first_close == 0 ? rn : on;

    if (!s->first_close_rst) {
        notebuf_add(n, "%s closed first, with FIN: it sends no more", fn);
        if (g->fin_seen) {
            if (g->wrote_after_peer_fin)
                notebuf_add(n, "; %s wrote after that FIN, then closed too (FIN)", gn);
            else
                notebuf_add(n, "; %s then closed too (FIN)", gn);
            if (f->rst_seen || g->rst_seen)
                notebuf_add(n, ", and a late RST found a socket already gone");
            else
                notebuf_add(n, ": an orderly close, and no write failed");
        } else if (f->rst_kind == RST_AFTER_FIN_DATA) {
            notebuf_add(
                n,
                "; %s wrote after that FIN and %s's RST answered: %s's socket was fully "
                "closed, so %s's next write fails with EPIPE and " RAISES_SIGPIPE " (Linux "
                "reports EPIPE, not ECONNRESET, on a socket that already had the peer's FIN)",
                gn, fn, fn, gn);
        } else if (f->rst_seen) {
            notebuf_add(
                n,
                "; then %s reset the connection: %s's next write fails with EPIPE and " RAISES_SIGPIPE,
                fn, gn);
        } else if (g->rst_seen && g->cause.never_accepted) {
            notebuf_add(n,
                        "; %s never accepted the connection, and its kernel reset it when the "
                        "listening socket closed",
                        gn);
        } else if (g->rst_seen) {
            notebuf_add(n, "; %s answered with RST instead of closing", gn);
        } else {
            notebuf_add(n,
                        "; %s never closed its end during the capture: its recv() returns 0, and "
                        "it can still write%s",
                        gn,
                        g->wrote_after_peer_fin
                            ? " (it did), though a fully closed peer answers with RST"
                            : "");
        }
        return;
    }

    switch (f->rst_kind) {
    case RST_UNREAD:
        notebuf_add(n,
                    "%s closed first, with RST instead of FIN: it closed with unread data (or "
                    "aborted with SO_LINGER zero, which looks the same)",
                    fn);
        break;
    case RST_ABORT: notebuf_add(n, "%s closed first, " THE_WIRE_CANNOT_SAY, fn); break;
    case RST_ABORT_NO_DATA:
        notebuf_add(
            n,
            "%s closed first, with RST and no FIN, before %s sent it any data: most likely an "
            "abortive close (SO_LINGER set to zero)",
            fn, gn);
        break;
    case RST_CANCEL: notebuf_add(n, "%s gave up before the handshake completed (RST)", fn); return;
    case RST_UNKNOWN:
        notebuf_add(n, "%s reset a connection whose start the capture does not show", fn);
        return;
    default: notebuf_add(n, "%s closed first, with RST", fn); break;
    }
    if (g->fin_seen)
        notebuf_add(n, "; %s had already closed its end", gn);
    else
        notebuf_add(n, "; %s's next recv() or send() " FAILS_WITH_ECONNRESET AND_SIGPIPE_NO_FIN, gn,
                    gn);
}
