/*
 * zeek_gaps: Zeek's content gaps, its TCP_Reassembler without the bytes:
 * which sequence ranges each side sent and the other acknowledged, and so
 * the bytes acknowledged that the capture never showed (missed_bytes, and
 * the history's G).
 */
#include <string.h>

#include "zeek.h"
#include "zeek_int.h"

static uint64_t rel_ack_seq(const struct zeek_endpoint *e)
{
    return ((uint64_t)e->ack_wraps << 32) + e->ack_seq - (uint64_t)e->start_seq;
}

static bool is_clean(const struct zeek_endpoint *e)
{
    return e->state == ZEEK_ESTABLISHED ||
           (e->state == ZEEK_CLOSED && e->prev_state == ZEEK_ESTABLISHED);
}

/*
 * TCP_Reassembler::Gap: len bytes e sent at seq were never seen. Only a
 * connection established or closing cleanly on both sides counts them
 * (elsewhere they arise from RSTs' numbers or unseen starts): 'G' or 'g',
 * scaled, and conn.log's missed_bytes through content_gap.
 */
static void gap(struct zeek_conn *c, struct zeek_endpoint *e, uint64_t len)
{
    struct zeek_endpoint *peer = &c->ep[e == &c->ep[0]];
    if (!(is_clean(e) && is_clean(peer)))
        return;
    zeek_hist_scaled(c, e, 'G', &e->gap_cnt, &e->gap_thresh);
    c->missed_bytes += len;
    c->seg_missed += len;
    e->missed += len;
}

/* BlockInserted: the ranges that now join what was seen move reassem_seq on. */
static void deliver(struct zeek_endpoint *e)
{
    size_t gone = 0;
    while (gone < e->n_above && e->above[gone].seq <= e->reassem_seq) {
        if (e->above[gone].upper > e->reassem_seq)
            e->reassem_seq = e->above[gone].upper;
        gone++;
    }
    if (!gone)
        return;
    memmove(e->above, e->above + gone, (e->n_above - gone) * sizeof e->above[0]);
    e->n_above -= gone;
}

/* [seq, upper) seen: into above[], sorted, overlaps merged. */
static void insert_range(struct zeek_endpoint *e, uint64_t seq, uint64_t upper)
{
    size_t i = 0;
    while (i < e->n_above && e->above[i].upper < seq)
        i++;
    size_t j = i;
    while (j < e->n_above && e->above[j].seq <= upper) {
        if (e->above[j].seq < seq)
            seq = e->above[j].seq;
        if (e->above[j].upper > upper)
            upper = e->above[j].upper;
        j++;
    }
    /* above[i, j) merge into one. */
    if (i == j) {
        if (e->n_above == ZEEK_ABOVE_MAX) {
            /* Full: the new range joins its neighbour (zeek.h says what that costs). */
            if (i == e->n_above)
                e->above[i - 1].upper = upper;
            else
                e->above[i].seq = seq;
            return;
        }
        memmove(e->above + i + 1, e->above + i, (e->n_above - i) * sizeof e->above[0]);
        e->n_above++;
    } else if (j - i > 1) {
        memmove(e->above + i + 1, e->above + j, (e->n_above - j) * sizeof e->above[0]);
        e->n_above -= j - i - 1;
    }
    e->above[i].seq = seq;
    e->above[i].upper = upper;
}

/* TCP_Reassembler::DataSent and Reassembler::NewBlock: len bytes from e at relative seq. */
void zeek_data_sent(struct zeek_endpoint *e, uint64_t seq, uint32_t len)
{
    uint64_t upper = seq + len, ack = rel_ack_seq(e);
    if (seq < ack) {
        if (upper <= ack)
            return; /* seen and acknowledged before */
        seq = ack;
    }
    if (upper <= e->trim_seq)
        return;
    if (seq < e->trim_seq)
        seq = e->trim_seq;
    /* In order, no hole open (most data): what insert_range and deliver would do, at once. */
    if (!e->n_above && seq <= e->reassem_seq) {
        if (upper > e->reassem_seq)
            e->reassem_seq = upper;
        return;
    }
    insert_range(e, seq, upper);
    deliver(e);
}

/* TCP_Reassembler::Undelivered: the peer acknowledged up to up_to, beyond what e was seen to send. */
static void undelivered(struct zeek_conn *c, struct zeek_endpoint *e, uint64_t up_to)
{
    /*
     * A partial connection's numbers were made up as though a SYN came
     * first: an ACK of its first byte, or of one more (a keep-alive began
     * it), is no gap. Zeek then leaves reassem_seq as it was.
     */
    if (up_to <= 2 && c->is_partial)
        return;
    while (e->n_above && e->above[0].seq < up_to) {
        gap(c, e, e->above[0].seq - e->reassem_seq);
        e->reassem_seq = e->above[0].seq;
        deliver(e);
    }
    if (up_to > e->reassem_seq) {
        gap(c, e, up_to - e->reassem_seq);
        e->reassem_seq = up_to;
    }
}

/* TCP_Reassembler::AckReceived: the peer acknowledged e's bytes below relative seq. */
void zeek_ack_received(struct zeek_conn *c, struct zeek_endpoint *e, uint64_t seq)
{
    if (e->fin_cnt > 0 && seq >= e->fin_seq)
        seq = e->fin_seq - 1; /* a FIN is no byte of data */
    if (seq <= e->trim_seq)
        return;
    if (seq > e->reassem_seq)
        undelivered(c, e, seq);
    /* DataBlockList::Trim: what lies below seq is done with. */
    if (e->n_above && e->above[0].seq == e->reassem_seq)
        deliver(e);
    e->trim_seq = seq;
}
