/*
 * text: the timeline, one aligned line an event: time since the start, who,
 * what, and the note; colour on a terminal unless NO_COLOR is set.
 */
#include <stdio.h>

#include "describe.h"
#include "output_int.h"

#define WHO_WIDTH 16
#define WHAT_WIDTH 44

/* Printed width of a UTF-8 string (each code point counts one). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static const char *what_color(const struct event *ev)
{
    switch (ev->type) {
    case EV_PACKET: return ev->u.pkt.seg.flags & TCPF_RST ? C_RED : C_CYAN;
    case EV_SYSCALL: return ev->u.sys.err ? C_RED : "";
    case EV_SIGNAL: return C_YELLOW;
    case EV_EXIT: return ev->u.exit.signo ? C_BRED : C_GREEN;
    case EV_REPEAT:
    case EV_REPEAT_START: return C_YELLOW;
    default: return C_BOLD;
    }
}

void text_event(struct output *o, const struct event *ev)
{
    char who[160], what[1024], note[EVENT_NOTE + 256], line[4096];
    describe_who_what(o->story, ev, who, sizeof(who), what, sizeof(what));
    describe_note(ev, note, sizeof(note));
    char when[32];
    output_time_column(o, ev, when, sizeof(when));
    size_t ww = width(who), tw = width(what);
    int wpad = ww < WHO_WIDTH ? (int)(WHO_WIDTH - ww) : 0;
    int tpad = tw < WHAT_WIDTH ? (int)(WHAT_WIDTH - tw) : 0;
    const char *dim = o->color ? C_DIM : "", *bold = o->color ? C_BOLD : "",
               *off = o->color ? C_OFF : "";
    const char *wc = o->color ? what_color(ev) : "";
    snprintf(line, sizeof(line), "%s%s%s  %s%s%s%*s  %s%s%s%*s  %s", dim, when, off, bold, who, off,
             wpad, "", wc, what, *wc ? off : "", note[0] ? tpad : 0, "", note);
    output_line(o, o->out, line);
}
