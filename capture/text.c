/*
 * text: the timeline, one aligned line an event: time since the start, who,
 * what, and the note; colour on a terminal unless NO_COLOR is set.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "describe.h"
#include "escape.h"
#include "notes.h"
#include "output_int.h"

#define WHO_WIDTH 16
#define WHAT_WIDTH 44
#define TIME_WIDTH 10
/* On a terminal narrower than a line: notes go on lines of their own, this far in. */
#define NOTE_INDENT 14

/*
 * Emit text word-wrapped to the terminal's width: the first line after
 * prefix (prefix_width columns wide, colours not counted), the next ones
 * after indent spaces. A word wider than a line is cut between code points.
 */
static void emit_wrapped(struct output *o, const char *prefix, size_t prefix_width, size_t indent,
                         const char *text)
{
    char line[4096];
    size_t cols = (size_t)o->columns;
    size_t len = (size_t)snprintf(line, sizeof(line), "%s", prefix);
    size_t start = prefix_width, col = prefix_width; /* where text begins, and the next column */
    int pending = 1;                                 /* line holds something not yet emitted */
    const char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t wlen = strcspn(p, " "), sep = col > start;
        size_t room = cols > col + sep ? cols - col - sep : 0, take = 0, taken = 0;
        while (take < wlen && (taken < room || (taken == 0 && col == start))) {
            take++; /* one code point: its lead byte and what follows it */
            while (take < wlen && ((unsigned char)p[take] & 0xc0) == 0x80)
                take++;
            taken++;
        }
        if (take < wlen && col > start) {
            take = 0; /* the word goes on the next line, whole if it fits there */
        } else if (len < sizeof(line)) {
            len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%.*s", sep ? " " : "",
                                    (int)take, p);
            col += sep + taken;
            p += take;
            pending = 1;
            if (take == wlen)
                continue;
        }
        output_line(o, o->out, line);
        len = (size_t)snprintf(line, sizeof(line), "%*s", (int)indent, "");
        start = col = indent;
        pending = 0;
        if (len >= sizeof(line))
            return;
    }
    if (pending)
        output_line(o, o->out, line);
}

/* A line being assembled in a buffer: what does not fit is cut, as snprintf cuts. */
struct line_buf {
    char *s;
    size_t n, size;
};

static void put_bytes(struct line_buf *b, const char *src, size_t len, int fill)
{
    size_t room = b->size - 1 - b->n;
    if (len > room)
        len = room;
    if (fill)
        memset(b->s + b->n, ' ', len);
    else
        memcpy(b->s + b->n, src, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static void put(struct line_buf *b, const char *str) { put_bytes(b, str, strlen(str), 0); }
static void put_spaces(struct line_buf *b, size_t count) { put_bytes(b, NULL, count, 1); }

/*
 * Printed width of a UTF-8 string (each code point counts one): its bytes
 * less its continuation bytes (10xxxxxx), counted 8 at a time.
 */
static size_t width(const char *s)
{
    size_t len = strlen(s), w = len, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        w -= (size_t)__builtin_popcountll(x & ~(x << 1) & 0x8080808080808080ULL);
    }
    for (; i < len; i++)
        w -= ((unsigned char)s[i] & 0xc0) == 0x80;
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

/* Once a process: its repeated writes to this very output flood the terminal; say so, and what to do. */
static void flood_warning(struct output *o, const struct event *ev)
{
    double per_second;
    long long bytes;
    if (!story_floods(o->story, ev, &per_second, &bytes))
        return;
    char text[512], prefix[64], name[160];
    escape_str(story_label(o->story, ev->pid, ev->proc), name, sizeof name);
    notes_flood(name, per_second, bytes, text, sizeof text);
    snprintf(prefix, sizeof(prefix), "%*s  %-*s  ", TIME_WIDTH, "", WHO_WIDTH, "sigtrace");
    if (o->columns > 0) {
        emit_wrapped(o, prefix, TIME_WIDTH + 2 + WHO_WIDTH + 2, NOTE_INDENT, text);
    } else {
        char line[640];
        snprintf(line, sizeof(line), "%s%s", prefix, text);
        output_line(o, o->out, line);
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
    size_t head_width = width(when) + 2 + ww + (size_t)wpad + 2;
    /* How wide the line is matters only on a terminal: into a file or a pipe, it is one line. */
    if (o->columns > 0 &&
        head_width + tw + (note[0] ? (size_t)tpad + 2 + width(note) : 0) > (size_t)o->columns) {
        /* Too wide for the terminal: the event on its line, the note under it. */
        int n = snprintf(line, sizeof(line), "%s%s%s  %s%s%s%*s  ", dim, when, off, bold, who, off,
                         wpad, "");
        if (head_width + tw <= (size_t)o->columns) {
            snprintf(line + n, sizeof(line) - (size_t)n, "%s%s%s", wc, what, *wc ? off : "");
            output_line(o, o->out, line);
        } else {
            emit_wrapped(o, line, head_width, head_width, what);
        }
        if (note[0]) {
            char indent[NOTE_INDENT + 1];
            snprintf(indent, sizeof(indent), "%*s", NOTE_INDENT, "");
            emit_wrapped(o, indent, NOTE_INDENT, NOTE_INDENT, note);
        }
    } else {
        /* What snprintf "%s%s%s  %s%s%s%*s  %s%s%s%*s  %s" would make, without its parsing. */
        struct line_buf b = { line, 0, sizeof line };
        const char *parts[] = { dim, when, off, "  ", bold, who, off };
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            put(&b, parts[i]);
        put_spaces(&b, (size_t)wpad + 2);
        put(&b, wc);
        put(&b, what);
        put(&b, *wc ? off : "");
        put_spaces(&b, (size_t)(note[0] ? tpad : 0) + 2);
        put(&b, note);
        output_line_len(o, o->out, line, b.n);
    }
    flood_warning(o, ev);
}
