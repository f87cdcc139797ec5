/*
 * ladder: a sequence diagram, client side left, server side right, packets
 * as arrows between them; drawn at the end, when every side is known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "escape.h"
#include "output_int.h"

#define LADDER_SIDE 44
#define LADDER_WIRE 34

/*
 * Did the call whose first half is o->ladder[first] make packets of its own
 * since (connect: its handshake, or the RST that refused it; send, close,
 * shutdown: what its side sent, bare ACKs aside)?
 */
static bool own_packets_since(struct output *o, size_t first, const struct event *ev)
{
    enum call_kind kind = ev->u.sys.kind;
    if (kind != CALL_CONNECT && kind != CALL_SEND && kind != CALL_CLOSE && kind != CALL_SHUTDOWN)
        return false;
    const char *label = story_label(o->story, ev->pid, ev->proc);
    for (size_t i = first + 1; i < o->nladder; i++) {
        const struct event *p = o->ladder[i];
        if (p->type != EV_PACKET)
            continue;
        const struct packet_facts *f = &p->u.pkt;
        if (f->seg.flags == TCPF_ACK && !f->seg.payload_len)
            continue;
        if (!strcmp(f->from_label, label) || (kind == CALL_CONNECT && !strcmp(f->to_label, label)))
            return true;
    }
    return false;
}

/*
 * The ladder draws a call as one step, at its return, unless the packets it
 * made itself came while it ran: then its first half stays where it began,
 * above them, and its second half comes after them.
 */
static bool join_halves(struct output *o, const struct event *ev)
{
    if (ev->type != EV_SYSCALL || ev->u.sys.part != PART_RESUMED)
        return false;
    size_t i = o->nladder;
    while (i-- > 0) {
        const struct event *u = o->ladder[i];
        if (u->type == EV_SYSCALL && u->tid == ev->tid && u->u.sys.part == PART_UNFINISHED)
            break;
    }
    if (i == (size_t)-1 || own_packets_since(o, i, ev))
        return false;
    struct event *whole = event_copy(ev);
    if (!whole)
        return false;
    whole->u.sys.part = PART_WHOLE;
    event_free(o->ladder[i]);
    memmove(o->ladder + i, o->ladder + i + 1, (o->nladder - i - 1) * sizeof(*o->ladder));
    o->ladder[o->nladder - 1] = whole;
    return true;
}

void ladder_keep(struct output *o, const struct event *ev)
{
    if (join_halves(o, ev))
        return;
    if (o->nladder == o->capladder) {
        size_t cap = o->capladder ? o->capladder * 2 : 256;
        struct event **l = realloc(o->ladder, cap * sizeof(*l));
        if (!l)
            return;
        o->ladder = l;
        o->capladder = cap;
    }
    struct event *copy = event_copy(ev);
    if (copy)
        o->ladder[o->nladder++] = copy;
}

/* Cut or pad s to exactly w printed columns. */
static void fit(const char *s, size_t w, char *out, size_t len)
{
    size_t n = 0, cols = 0;
    for (const char *p = s; *p && cols < w && n + 4 < len; cols++) {
        size_t l = 1;
        while (((unsigned char)p[l] & 0xc0) == 0x80)
            l++;
        if (cols == w - 1 && p[l]) { /* no room for the rest */
            memcpy(out + n, "\u2026", 3);
            n += 3;
            cols++;
            break;
        }
        memcpy(out + n, p, l);
        n += l;
        p += l;
    }
    while (cols++ < w && n + 1 < len)
        out[n++] = ' ';
    out[n] = '\0';
}

/* A line of the ladder: on the output as every line of it, or into a file of its own (plain). */
static void put_line(struct output *o, FILE *f, const char *line)
{
    if (f == o->out)
        output_line(o, f, line);
    else if (fputs(line, f) != EOF)
        fputc('\n', f);
}

void ladder_draw(struct output *o, FILE *f)
{
    char line[2048], left[256], right[256], wire[256], who[160], what[1024], text[1280];
    bool color = o->color && f == o->out;
    const char *dim = color ? C_DIM : "", *off = color ? C_OFF : "";
    /* Name the sides after the processes on them. */
    char lname[128] = "", rname[128] = "";
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        if (ev->type != EV_SYSCALL)
            continue;
        char label[96]; /* within a side's name, room for ", " */
        escape_str(story_label(o->story, ev->pid, ev->proc), label, sizeof label);
        char *side = story_is_server(o->story, ev->pid) ? rname : lname;
        if (!strstr(side, label) && strlen(side) + strlen(label) + 3 < sizeof(lname))
            snprintf(side + strlen(side), sizeof(lname) - strlen(side), "%s%s", side[0] ? ", " : "",
                     label);
    }
    fit(lname[0] ? lname : "client side", LADDER_SIDE, left, sizeof(left));
    fit(rname[0] ? rname : "server side", LADDER_SIDE, right, sizeof(right));
    fit("", LADDER_WIRE, wire, sizeof(wire));
    snprintf(line, sizeof(line), "%10s  %s|%s|%s", "", left, wire, right);
    put_line(o, f, line);
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        char when[32];
        output_time_column(o, ev, when, sizeof(when));
        describe_who_what(o->story, ev, who, sizeof(who), what, sizeof(what));
        fit("", LADDER_SIDE, left, sizeof(left));
        fit("", LADDER_SIDE, right, sizeof(right));
        if (ev->type == EV_PACKET) {
            char flags[48], label[64], arrow[256];
            decode_flags_str(ev->u.pkt.seg.flags, flags, sizeof(flags));
            if (ev->u.pkt.seg.payload_len)
                snprintf(label, sizeof(label), " %s %u ", flags, ev->u.pkt.seg.payload_len);
            else
                snprintf(label, sizeof(label), " %s ", flags);
            size_t lw = strlen(label), dashes = lw + 2 < LADDER_WIRE ? LADDER_WIRE - lw - 1 : 1;
            size_t n = 0;
            int rightward = ev->u.pkt.from_orig;
            if (!rightward)
                n += (size_t)snprintf(arrow + n, sizeof(arrow) - n, "<");
            for (size_t k = 0; k < dashes / 2; k++)
                n += (size_t)snprintf(arrow + n, sizeof(arrow) - n, "-");
            n += (size_t)snprintf(arrow + n, sizeof(arrow) - n, "%s", label);
            for (size_t k = 0; k < dashes - dashes / 2; k++)
                n += (size_t)snprintf(arrow + n, sizeof(arrow) - n, "-");
            if (rightward)
                snprintf(arrow + n, sizeof(arrow) - n, ">");
            fit(arrow, LADDER_WIRE, wire, sizeof(wire));
        } else {
            fit("", LADDER_WIRE, wire, sizeof(wire));
            bool server = ev->pid && story_is_server(o->story, ev->pid);
            if (ev->type == EV_CONNECTION || ev->type == EV_VERDICT)
                snprintf(text, sizeof(text), "%s", what);
            else
                snprintf(text, sizeof(text), "%s: %s", who, what);
            fit(text, LADDER_SIDE, server ? right : left, sizeof(left));
        }
        snprintf(line, sizeof(line), "%s%s%s  %s|%s|%s", dim, when, off, left, wire, right);
        /* Trailing blanks are noise. */
        size_t n = strlen(line);
        while (n > 0 && line[n - 1] == ' ')
            line[--n] = '\0';
        put_line(o, f, line);
    }
}
