/*
 * output: text timeline, ladder diagram and JSON Lines.
 */
#include "output.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WHO_WIDTH 16
#define WHAT_WIDTH 44
#define LADDER_SIDE 44
#define LADDER_WIRE 34
/* On a terminal narrower than a line: notes go on lines of their own, this far in. */
#define NOTE_INDENT 14
/* A process whose output repeats this many times a second floods a terminal. */
#define FLOOD_PER_SECOND 100

struct label {
    pid_t pid;
    char comm[16];
    char text[40];
};

/* What the text timeline knows of a process. */
struct proc_view {
    pid_t pid;
    int involved;             /* it made a socket call: everything it does matters */
    int server;               /* it listened or accepted: the ladder's right side */
    struct event *exec;       /* its exec, shown once it becomes involved */
    int flood_warned;         /* its repeated output was said to flood the terminal */
    struct proc_view *next;
};

struct output {
    FILE *out, *json;
    enum output_format format;
    int color;
    int live;                 /* flush each line */
    int columns;              /* the terminal's width; 0 when out is no terminal */
    int failed;
    int started;
    struct timespec t0;       /* times on the text timeline count from here */
    struct label *labels;
    size_t nlabels, caplabels;
    struct proc_view *views;
    struct event *verdict;    /* shown last on the text timeline */
    struct event **ladder;    /* the ladder is drawn at the end, when every side is known */
    size_t nladder, capladder;
};

/* ANSI colours, used only on a terminal without NO_COLOR. */
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_BRED "\033[1;31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"
#define C_OFF "\033[0m"

/*
 * The width of the terminal f is, from $COLUMNS (as ls and others read it)
 * or the terminal itself; 0 when f is no terminal, so that text written to a
 * file or a pipe stays one line an event, whatever its length.
 */
static int terminal_columns(FILE *f)
{
    if (!f || !isatty(fileno(f)))
        return 0;
    const char *env = getenv("COLUMNS");
    char *end;
    long cols = env ? strtol(env, &end, 10) : 0;
    if (env && *end == '\0' && cols > 0 && cols < 10000)
        return (int)cols;
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

struct output *output_new(FILE *out, enum output_format format, int color, FILE *json, int live)
{
    struct output *o = calloc(1, sizeof(*o));
    if (o) {
        o->out = out;
        o->format = format;
        o->color = color;
        o->json = json;
        o->live = live;
        o->columns = terminal_columns(out);
    }
    return o;
}

void output_free(struct output *o)
{
    if (!o)
        return;
    free(o->labels);
    while (o->views) {
        struct proc_view *next = o->views->next;
        event_free(o->views->exec);
        free(o->views);
        o->views = next;
    }
    event_free(o->verdict);
    for (size_t i = 0; i < o->nladder; i++)
        event_free(o->ladder[i]);
    free(o->ladder);
    free(o);
}

int output_failed(const struct output *o) { return o->failed; }

static void emit_line(struct output *o, FILE *f, const char *line)
{
    if (!f || o->failed)
        return;
    if (fputs(line, f) == EOF || fputc('\n', f) == EOF || (o->live && fflush(f) == EOF))
        o->failed = errno ? errno : EIO;
}

static void flush(struct output *o, FILE *f)
{
    if (f && !o->failed && fflush(f) == EOF)
        o->failed = errno ? errno : EIO;
}

/* --- labels ---------------------------------------------------------------- */

const char *output_label(struct output *o, pid_t pid, const char *comm)
{
    int same = 0;
    for (size_t i = 0; i < o->nlabels; i++) {
        if (o->labels[i].pid == pid && !strcmp(o->labels[i].comm, comm))
            return o->labels[i].text;
        if (!strcmp(o->labels[i].comm, comm))
            same++;
    }
    if (o->nlabels == o->caplabels) {
        size_t cap = o->caplabels ? o->caplabels * 2 : 16;
        struct label *labels = realloc(o->labels, cap * sizeof(*labels));
        if (!labels)
            return comm;
        o->labels = labels;
        o->caplabels = cap;
    }
    struct label *l = &o->labels[o->nlabels++];
    l->pid = pid;
    snprintf(l->comm, sizeof(l->comm), "%s", comm);
    if (same)
        snprintf(l->text, sizeof(l->text), "%s %d", comm, same + 1);
    else
        snprintf(l->text, sizeof(l->text), "%s", comm);
    return l->text;
}

static struct proc_view *view(struct output *o, pid_t pid)
{
    for (struct proc_view *v = o->views; v; v = v->next)
        if (v->pid == pid)
            return v;
    struct proc_view *v = calloc(1, sizeof(*v));
    if (!v) {
        static struct proc_view blank;
        memset(&blank, 0, sizeof(blank));
        return &blank;
    }
    v->pid = pid;
    v->next = o->views;
    o->views = v;
    return v;
}

/* --- describing events ----------------------------------------------------- */

/* Bytes as a C string literal: printable ASCII as is, the rest escaped; at most max shown. */
static void quote(const uint8_t *data, uint32_t len, int more, size_t max, char *buf, size_t size)
{
    size_t n = 0;
    if (size < 8)
        return;
    buf[n++] = '"';
    uint32_t i;
    for (i = 0; i < len && n + 6 < size && n < max; i++) {
        uint8_t c = data[i];
        const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '"' ? "\\\""
                        : c == '\\' ? "\\\\" : c == 0 ? "\\0" : NULL;
        if (esc)
            n += (size_t)snprintf(buf + n, size - n, "%s", esc);
        else if (c >= 0x20 && c < 0x7f)
            buf[n++] = (char)c;
        else
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
    }
    buf[n++] = '"';
    if ((i < len || more) && n + 4 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

static const char *domain_name(int domain)
{
    switch (domain) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
    default: return NULL;
    }
}

static const char *type_name(int type)
{
    switch (type & 0xf) { /* without SOCK_NONBLOCK and SOCK_CLOEXEC */
    case SOCK_STREAM: return "SOCK_STREAM";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    case SOCK_RAW: return "SOCK_RAW";
    default: return NULL;
    }
}

static const char *how_name(long long how)
{
    return how == SHUT_RD ? "SHUT_RD" : how == SHUT_WR ? "SHUT_WR" : how == SHUT_RDWR ? "SHUT_RDWR" : "?";
}

/* "send(4, "done\n", 5) = -1 EPIPE" */
static void syscall_what(const struct syscall_facts *f, char *buf, size_t len)
{
    char a[64], q[128], num[32];
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    switch (f->kind) {
    case CALL_SOCKET: {
        const char *d = domain_name(f->domain), *t = type_name(f->socktype);
        PUT("socket(");
        if (d)
            PUT("%s, ", d);
        else
            PUT("%d, ", f->domain);
        if (t)
            PUT("%s)", t);
        else
            PUT("%d)", f->socktype);
        break;
    }
    case CALL_BIND:
    case CALL_CONNECT:
        PUT("%s(%d, %s)", f->call, f->fd, endpoint_str(&f->addr, a, sizeof(a)));
        break;
    case CALL_LISTEN:
        PUT("listen(%d, %lld)", f->fd, f->len);
        break;
    case CALL_ACCEPT:
        PUT("%s(%d)", f->call, f->fd);
        break;
    case CALL_SEND:
        quote(f->data, f->datalen, f->ret > (long long)f->datalen || f->len > (long long)f->datalen, 24, q,
              sizeof(q));
        if (f->addr.family)
            PUT("%s(%d, %s, to %s)", f->call, f->fd, q, endpoint_str(&f->addr, a, sizeof(a)));
        else if (f->len >= 0)
            PUT("%s(%d, %s, %lld)", f->call, f->fd, q, f->len);
        else
            PUT("%s(%d, %s)", f->call, f->fd, q);
        break;
    case CALL_RECV:
        if (f->len >= 0)
            PUT("%s(%d, %lld)", f->call, f->fd, f->len);
        else
            PUT("%s(%d)", f->call, f->fd);
        break;
    case CALL_SHUTDOWN:
        PUT("shutdown(%d, %s)", f->fd, how_name(f->len));
        break;
    case CALL_CLOSE:
        PUT("close(%d)", f->fd);
        break;
    }
    if (f->err)
        PUT(" = -1 %s", errno_name(f->err));
    else {
        snprintf(num, sizeof(num), "%lld", f->ret);
        PUT(" = %s", num);
    }
    if (f->kind == CALL_ACCEPT && !f->err && f->remote.family)
        PUT(" from %s", endpoint_str(&f->remote, a, sizeof(a)));
    if (f->kind == CALL_RECV && f->ret > 0) {
        quote(f->data, f->datalen, f->ret > (long long)f->datalen, 24, q, sizeof(q));
        PUT(" %s", q);
    }
#undef PUT
}

static const char *disposition_name(enum disposition d)
{
    return d == DISP_IGNORED ? "ignored" : d == DISP_CAUGHT ? "caught" : "default";
}

static void signal_what(const struct signal_facts *s, char *buf, size_t len)
{
    if (s->disposition == DISP_DEFAULT)
        snprintf(buf, len, "%s (default: %s)", signal_name(s->signo), s->action);
    else
        snprintf(buf, len, "%s (%s)", signal_name(s->signo), disposition_name(s->disposition));
}

static void packet_what(const struct packet_facts *p, char *buf, size_t len)
{
    char flags[48], q[128];
    decode_flags_str(p->seg.flags, flags, sizeof(flags));
    size_t n = (size_t)snprintf(buf, len, "%s seq %u", flags, p->rel_seq);
    if (p->seg.flags & TCPF_ACK && n < len)
        n += (size_t)snprintf(buf + n, len - n, " ack %u", p->rel_ack);
    if (p->seg.payload_len && n < len) {
        quote(p->seg.payload, p->seg.payload_caplen < 24 ? p->seg.payload_caplen : 24,
              p->seg.payload_len > 24, 24, q, sizeof(q));
        snprintf(buf + n, len - n, " len %u %s", p->seg.payload_len, q);
    }
}

static void packet_who(const struct packet_facts *p, char *buf, size_t len)
{
    const char *from = p->from_label[0] ? p->from_label : p->src;
    const char *to = p->to_label[0] ? p->to_label : p->dst;
    snprintf(buf, len, "%s\u2192%s", from, to);
}

static void output_what(const struct output_facts *o, char *buf, size_t len)
{
    char text[160];
    quote((const uint8_t *)o->text, o->textlen, 0, 120, text, sizeof(text));
    snprintf(buf, len, "wrote %s to fd %d", text, o->fd);
}

/* Who and what, as the text timeline shows them. */
static void who_what(struct output *o, const struct event *ev, char *who, size_t wlen, char *what, size_t len)
{
    const char *label = ev->pid ? output_label(o, ev->pid, ev->proc) : "";
    snprintf(who, wlen, "%s", label);
    switch (ev->type) {
    case EV_PACKET:
        packet_who(&ev->u.pkt, who, wlen);
        packet_what(&ev->u.pkt, what, len);
        break;
    case EV_SYSCALL:
        syscall_what(&ev->u.sys, what, len);
        break;
    case EV_SIGNAL:
        signal_what(&ev->u.sig, what, len);
        break;
    case EV_EXEC:
        snprintf(what, len, "exec %s", ev->u.exec.argv[0] ? ev->u.exec.argv : ev->u.exec.path);
        break;
    case EV_EXIT:
        if (ev->u.exit.signo)
            snprintf(what, len, "killed by %s%s", signal_name(ev->u.exit.signo), ev->u.exit.core ? " (core dumped)" : "");
        else
            snprintf(what, len, "exit %d", ev->u.exit.code);
        break;
    case EV_CONNECTION: {
        const struct conn_summary *c = &ev->u.conn;
        snprintf(who, wlen, "connection");
        snprintf(what, len, "%s%s%s \u2192 %s%s%s: %s %s", c->orig_name, c->orig_name[0] ? " " : "", c->orig,
                 c->resp_name, c->resp_name[0] ? " " : "", c->resp, c->conn_state, c->history);
        break;
    }
    case EV_VERDICT:
        snprintf(what, len, "verdict: %s", ev->u.verdict);
        break;
    case EV_REPEAT_START:
        snprintf(what, len, "\u21bb the same again, and again ...");
        break;
    case EV_OUTPUT:
        output_what(&ev->u.output, what, len);
        break;
    case EV_REPEAT: {
        const struct repeat_facts *r = &ev->u.rep;
        double span = ts_diff(&r->last, &r->first);
        unsigned long times = r->count[0];
        if (span > 0)
            snprintf(what, len, "\u21bb repeated %lu more times in %.3f s (%.0f/s)", times, span, times / span);
        else
            snprintf(what, len, "\u21bb repeated %lu more time%s", times, times == 1 ? "" : "s");
        break;
    }
    }
}

/* The note; for repeats, what was repeated. */
static void note_of(const struct event *ev, char *buf, size_t len)
{
    if (ev->type != EV_REPEAT && ev->type != EV_REPEAT_START) {
        snprintf(buf, len, "%s", ev->note);
        return;
    }
    const struct repeat_facts *r = &ev->u.rep;
    size_t n = (size_t)snprintf(buf, len, "%s", ev->type == EV_REPEAT_START
                                                  ? "from here on, this repeats: "
                                                  : "each time: ");
    for (int i = 0; i < r->period && n < len; i++) {
        char what[256];
        const struct event *p = r->pattern[i];
        if (p->type == EV_SYSCALL)
            syscall_what(&p->u.sys, what, sizeof(what));
        else if (p->type == EV_SIGNAL)
            signal_what(&p->u.sig, what, sizeof(what));
        else if (p->type == EV_OUTPUT)
            output_what(&p->u.output, what, sizeof(what));
        else
            snprintf(what, sizeof(what), "?");
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", what);
    }
    if (ev->type == EV_REPEAT && n < len) {
        double span = ts_diff(&r->last, &r->first);
        if (span > 0 && r->count[0] / span > 1000)
            snprintf(buf + n, len - n, "; a busy loop: nothing in it waits, so it uses all the CPU it gets");
    }
}

void output_describe(struct output *o, const struct event *ev, char *buf, size_t len)
{
    char who[160], what[1024], note[EVENT_NOTE + 256];
    who_what(o, ev, who, sizeof(who), what, sizeof(what));
    note_of(ev, note, sizeof(note));
    snprintf(buf, len, "%s%s%s%s%s", who, who[0] ? ": " : "", what, note[0] ? " -- " : "", note);
}

/* --- text ------------------------------------------------------------------- */

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
    case EV_PACKET:
        return ev->u.pkt.seg.flags & TCPF_RST ? C_RED : C_CYAN;
    case EV_SYSCALL:
        return ev->u.sys.err ? C_RED : "";
    case EV_SIGNAL:
        return C_YELLOW;
    case EV_EXIT:
        return ev->u.exit.signo ? C_BRED : C_GREEN;
    case EV_REPEAT:
    case EV_REPEAT_START:
        return C_YELLOW;
    default:
        return C_BOLD;
    }
}

/*
 * The time column: seconds since the first event. A connection's summary is
 * no moment and shows none, so the column never runs backwards.
 */
static void time_column(const struct output *o, const struct event *ev, char *buf, size_t len)
{
    if (ev->type == EV_CONNECTION)
        snprintf(buf, len, "%10s", "");
    else
        snprintf(buf, len, "%10.6f", ts_diff(&ev->t, &o->t0));
}

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
    int pending = 1;                                  /* line holds something not yet emitted */
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
        emit_line(o, o->out, line);
        len = (size_t)snprintf(line, sizeof(line), "%*s", (int)indent, "");
        start = col = indent;
        pending = 0;
        if (len >= sizeof(line))
            return;
    }
    if (pending)
        emit_line(o, o->out, line);
}

/*
 * Once a process: a repeat that includes its writes to this very output,
 * faster than a terminal can be read, gets a line that says so and what to
 * do. The timeline itself stays bounded, as every repeat is collapsed.
 */
static void text_flood_warning(struct output *o, const struct event *ev)
{
    if (ev->type != EV_REPEAT && ev->type != EV_REPEAT_START)
        return;
    const struct repeat_facts *r = &ev->u.rep;
    /* At the start, the one cycle seen so far gives the pace; at the end, all of them. */
    double span = ts_diff(&r->last, &r->first);
    double per_second = span > 0 ? (ev->type == EV_REPEAT ? r->count[0] : 1) / span : 0;
    long long bytes = 0; /* written in one cycle */
    for (int i = 0; i < r->period; i++) {
        const struct output_facts *w = &r->pattern[i]->u.output;
        if (r->pattern[i]->type == EV_OUTPUT)
            bytes += w->len >= 0 ? w->len : w->textlen;
    }
    if (bytes == 0 || per_second < FLOOD_PER_SECOND)
        return;
    struct proc_view *v = view(o, ev->pid);
    if (!v || v->flood_warned)
        return;
    v->flood_warned = 1;
    char text[512], prefix[64];
    char pace[64] = "in a loop, faster than anyone reads";
    if (ev->type == EV_REPEAT)
        snprintf(pace, sizeof(pace), "%.0f times a second (%.0f kB/s)", per_second,
                 per_second * (double)bytes / 1000);
    snprintf(text, sizeof(text),
             "warning: %s writes to this output %s, between these lines: "
             "redirect its output to a file (> FILE), or read the timeline from sigtrace -o FILE",
             output_label(o, ev->pid, ev->proc), pace);
    snprintf(prefix, sizeof(prefix), "%10s  %-*s  ", "", WHO_WIDTH, "sigtrace");
    if (o->columns > 0)
        emit_wrapped(o, prefix, 10 + 2 + WHO_WIDTH + 2, NOTE_INDENT, text);
    else {
        char line[640];
        snprintf(line, sizeof(line), "%s%s", prefix, text);
        emit_line(o, o->out, line);
    }
}

static void text_line(struct output *o, const struct event *ev)
{
    char who[160], what[1024], note[EVENT_NOTE + 256], line[4096];
    who_what(o, ev, who, sizeof(who), what, sizeof(what));
    note_of(ev, note, sizeof(note));
    if (!o->started) {
        o->started = 1;
        o->t0 = ev->t;
    }
    char when[32];
    time_column(o, ev, when, sizeof(when));
    size_t ww = width(who), tw = width(what);
    int wpad = ww < WHO_WIDTH ? (int)(WHO_WIDTH - ww) : 0;
    int tpad = tw < WHAT_WIDTH ? (int)(WHAT_WIDTH - tw) : 0;
    const char *dim = o->color ? C_DIM : "", *bold = o->color ? C_BOLD : "", *off = o->color ? C_OFF : "";
    const char *wc = o->color ? what_color(ev) : "";
    size_t head_width = width(when) + 2 + ww + (size_t)wpad + 2;
    size_t full_width = head_width + tw + (note[0] ? (size_t)tpad + 2 + width(note) : 0);
    if (o->columns > 0 && full_width > (size_t)o->columns) {
        /* Too wide for the terminal: the event on its line, the note under it. */
        int n = snprintf(line, sizeof(line), "%s%s%s  %s%s%s%*s  ", dim, when, off, bold, who, off,
                         wpad, "");
        if (head_width + tw <= (size_t)o->columns) {
            snprintf(line + n, sizeof(line) - (size_t)n, "%s%s%s", wc, what, *wc ? off : "");
            emit_line(o, o->out, line);
        } else {
            emit_wrapped(o, line, head_width, head_width, what);
        }
        if (note[0]) {
            char indent[NOTE_INDENT + 1];
            snprintf(indent, sizeof(indent), "%*s", NOTE_INDENT, "");
            emit_wrapped(o, indent, NOTE_INDENT, NOTE_INDENT, note);
        }
        text_flood_warning(o, ev);
        return;
    }
    snprintf(line, sizeof(line), "%s%s%s  %s%s%s%*s  %s%s%s%*s  %s", dim, when, off, bold, who, off, wpad, "",
             wc, what, *wc ? off : "", note[0] ? tpad : 0, "", note);
    emit_line(o, o->out, line);
    text_flood_warning(o, ev);
}

/*
 * Does the text timeline show this event? *intro is set to a process's exec,
 * to be shown first, when the process becomes worth showing (the caller
 * frees it).
 */
static int text_shows(struct output *o, const struct event *ev, struct event **intro)
{
    *intro = NULL;
    struct proc_view *v;
    switch (ev->type) {
    case EV_PACKET:
    case EV_CONNECTION:
        return 1;
    case EV_REPEAT:
    case EV_REPEAT_START:
        return view(o, ev->pid)->involved;
    case EV_VERDICT:
        return 0; /* at the end */
    case EV_OUTPUT:
        return 0; /* the process's own write shows it */
    case EV_SYSCALL:
        v = view(o, ev->pid);
        if (!v->involved) {
            v->involved = 1;
            *intro = v->exec; /* introduce the process: where it came from */
            v->exec = NULL;
        }
        if (ev->u.sys.kind == CALL_LISTEN || ev->u.sys.kind == CALL_ACCEPT)
            v->server = 1;
        return 1;
    case EV_EXEC:
        v = view(o, ev->pid);
        if (v->involved || ev->top)
            return 1;
        event_free(v->exec);
        v->exec = event_copy(ev);
        return 0;
    case EV_SIGNAL:
        v = view(o, ev->pid);
        return v->involved || (ev->u.sig.disposition == DISP_DEFAULT && strcmp(ev->u.sig.action, "ignore") &&
                               strcmp(ev->u.sig.action, "continue"));
    case EV_EXIT:
        v = view(o, ev->pid);
        if (v->exec) {
            event_free(v->exec);
            v->exec = NULL;
        }
        return v->involved || ev->top || ev->u.exit.signo;
    }
    return 0;
}

/* --- json -------------------------------------------------------------------- */

struct json {
    char buf[8192];
    size_t n;
};

/* Append len bytes; what does not fit is cut, as jraw cuts. */
static void jput(struct json *j, const char *s, size_t len)
{
    size_t room = sizeof(j->buf) - 1 - j->n;
    if (len > room)
        len = room;
    memcpy(j->buf + j->n, s, len);
    j->n += len;
    j->buf[j->n] = '\0';
}

static void jputs(struct json *j, const char *s) { jput(j, s, strlen(s)); }

/* ,"key": */
static void jkey(struct json *j, const char *key)
{
    jput(j, ",\"", 2);
    jputs(j, key);
    jput(j, "\":", 2);
}

static void juint(struct json *j, unsigned long long v)
{
    char digits[24];
    size_t n = sizeof(digits);
    do
        digits[--n] = (char)('0' + v % 10);
    while (v /= 10);
    jput(j, digits + n, sizeof(digits) - n);
}

static void jraw(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jraw(struct json *j, const char *fmt, ...)
{
    if (j->n >= sizeof(j->buf))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->n, sizeof(j->buf) - j->n, fmt, ap);
    va_end(ap);
    if (n > 0)
        j->n += (size_t)n;
    if (j->n >= sizeof(j->buf))
        j->n = sizeof(j->buf) - 1;
}

/*
 * A JSON string from bytes: control characters and bytes above 127 as
 * \u00XX. Runs of plain characters are copied as they are.
 */
static void jbytes(struct json *j, const uint8_t *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    jput(j, "\"", 1);
    size_t plain = 0; /* start of the run of plain characters not yet copied */
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        jput(j, (const char *)s + plain, i - plain);
        plain = i + 1;
        char esc[6] = {'\\', (char)c};
        size_t n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c != '"' && c != '\\') {
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        jput(j, esc, n);
    }
    jput(j, (const char *)s + plain, len - plain);
    jput(j, "\"", 1);
}

static void jstr(struct json *j, const char *key, const char *value)
{
    jkey(j, key);
    jbytes(j, (const uint8_t *)value, strlen(value));
}

/* Seconds and nanoseconds: 1764000000.000045000 */
static void jtime_value(struct json *j, const struct timespec *t)
{
    if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L) {
        jraw(j, "%lld.%09ld", (long long)t->tv_sec, t->tv_nsec);
        return;
    }
    char ns[10] = {'.'};
    long v = t->tv_nsec;
    for (int i = 9; i > 0; i--, v /= 10)
        ns[i] = (char)('0' + v % 10);
    juint(j, (unsigned long long)t->tv_sec);
    jput(j, ns, sizeof(ns));
}

static void jtime(struct json *j, const char *key, const struct timespec *t)
{
    jkey(j, key);
    jtime_value(j, t);
}

static void jbegin(struct json *j, const char *type, const struct timespec *t)
{
    j->n = 0;
    j->buf[0] = '\0';
    jputs(j, "{\"t\":");
    jtime_value(j, t);
    jputs(j, ",\"type\":\"");
    jputs(j, type);
    jput(j, "\"", 1);
}

static void jproc(struct json *j, const struct event *ev)
{
    jraw(j, ",\"pid\":%d", (int)ev->pid);
    if (ev->tid != ev->pid)
        jraw(j, ",\"tid\":%d", (int)ev->tid);
    jstr(j, "proc", ev->proc);
}

static void jendpoint(struct json *j, const char *key, const struct endpoint *e)
{
    char a[64];
    if (e->family)
        jstr(j, key, endpoint_str(e, a, sizeof(a)));
}

static void json_syscall(struct json *j, const struct event *ev, unsigned long repeat)
{
    const struct syscall_facts *f = &ev->u.sys;
    char what[512];
    jbegin(j, "syscall", &ev->t);
    jproc(j, ev);
    jstr(j, "call", f->call);
    jstr(j, "syscall", f->syscall);
    if (f->fd >= 0)
        jraw(j, ",\"fd\":%d", f->fd);
    jraw(j, ",\"ret\":%lld", f->ret);
    if (f->err)
        jstr(j, "errno", errno_name(f->err));
    jraw(j, ",\"repeat\":%lu", repeat);
    if (f->len >= 0 && f->kind != CALL_LISTEN && f->kind != CALL_SHUTDOWN)
        jraw(j, ",\"len\":%lld", f->len);
    if (f->kind == CALL_LISTEN)
        jraw(j, ",\"backlog\":%lld", f->len);
    if (f->kind == CALL_SHUTDOWN)
        jstr(j, "how", how_name(f->len));
    if (f->kind == CALL_SOCKET) {
        const char *d = domain_name(f->domain), *t = type_name(f->socktype);
        if (d)
            jstr(j, "domain", d);
        if (t)
            jstr(j, "socktype", t);
    }
    if (f->datalen) {
        jraw(j, ",\"data\":");
        jbytes(j, f->data, f->datalen);
    }
    jendpoint(j, "addr", &f->addr);
    jendpoint(j, "local", &f->local);
    if (!f->listening)
        jendpoint(j, "remote", &f->remote);
    jraw(j, ",\"duration\":%.9f", f->duration);
    syscall_what(f, what, sizeof(what));
    jstr(j, "text", what);
    jstr(j, "note", ev->note);
}

static void json_output(struct json *j, const struct event *ev, unsigned long repeat)
{
    const struct output_facts *o = &ev->u.output;
    jbegin(j, "output", &ev->t);
    jproc(j, ev);
    jraw(j, ",\"fd\":%d", o->fd);
    if (o->len >= 0)
        jraw(j, ",\"len\":%lld", o->len);
    jraw(j, ",\"repeat\":%lu,\"text\":", repeat);
    jbytes(j, (const uint8_t *)o->text, o->textlen);
}

static void json_signal(struct json *j, const struct event *ev, unsigned long repeat)
{
    const struct signal_facts *s = &ev->u.sig;
    jbegin(j, "signal", &ev->t);
    jproc(j, ev);
    jstr(j, "signal", signal_name(s->signo));
    jstr(j, "disposition", disposition_name(s->disposition));
    if (s->disposition == DISP_DEFAULT)
        jstr(j, "action", s->action);
    if (s->sender) {
        jraw(j, ",\"sender_pid\":%d", (int)s->sender);
        if (s->sender_name[0])
            jstr(j, "sender", s->sender_name);
    }
    jraw(j, ",\"repeat\":%lu", repeat);
    jstr(j, "note", ev->note);
}

static void json_packet(struct json *j, const struct event *ev)
{
    const struct packet_facts *p = &ev->u.pkt;
    static const struct { uint8_t bit; const char *name; } flags[] = {
        {TCPF_SYN, "SYN"}, {TCPF_FIN, "FIN"}, {TCPF_RST, "RST"}, {TCPF_PSH, "PSH"},
        {TCPF_ACK, "ACK"}, {TCPF_URG, "URG"}, {TCPF_ECE, "ECE"}, {TCPF_CWR, "CWR"},
    };
    jbegin(j, "packet", &ev->t);
    jstr(j, "src", p->src);
    jstr(j, "dst", p->dst);
    if (p->from[0])
        jstr(j, "from", p->from);
    if (p->to[0])
        jstr(j, "to", p->to);
    jputs(j, ",\"flags\":[");
    int first = 1;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (p->seg.flags & flags[i].bit) {
            jputs(j, first ? "\"" : ",\"");
            jputs(j, flags[i].name);
            jput(j, "\"", 1);
            first = 0;
        }
    jput(j, "]", 1);
    jkey(j, "seq");
    juint(j, p->rel_seq);
    jkey(j, "ack");
    juint(j, p->rel_ack);
    jkey(j, "len");
    juint(j, p->seg.payload_len);
    jkey(j, "win");
    juint(j, p->seg.window);
    jkey(j, "from_client");
    jputs(j, p->from_orig ? "true" : "false");
    if (p->seg.payload_caplen) {
        jkey(j, "data");
        jbytes(j, p->seg.payload, p->seg.payload_caplen < EVENT_PREVIEW ? p->seg.payload_caplen : EVENT_PREVIEW);
    }
    jstr(j, "note", ev->note);
}

static void json_verdict(struct json *j, const struct event *ev)
{
    jbegin(j, "verdict", &ev->t);
    jproc(j, ev);
    /* key=value words; anything else is kept only in "line" */
    char copy[sizeof(ev->u.verdict)];
    snprintf(copy, sizeof(copy), "%s", ev->u.verdict);
    char *save = NULL;
    for (char *word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(word, '=');
        if (!eq || eq == word)
            continue;
        *eq = '\0';
        int ok = 1;
        for (char *k = word; *k && ok; k++)
            ok = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_';
        static const char *const reserved[] = {"t", "type", "pid", "tid", "proc", "line", "note"};
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]) && ok; i++)
            ok = strcmp(word, reserved[i]) != 0;
        if (ok)
            jstr(j, word, eq + 1);
    }
    jstr(j, "line", ev->u.verdict);
    jstr(j, "note", ev->note);
}

static void json_event(struct output *o, FILE *f, const struct event *ev)
{
    struct json j;
    switch (ev->type) {
    case EV_PACKET:
        json_packet(&j, ev);
        break;
    case EV_SYSCALL:
        json_syscall(&j, ev, ev->repeat);
        break;
    case EV_SIGNAL:
        json_signal(&j, ev, ev->repeat);
        break;
    case EV_EXEC:
        jbegin(&j, "exec", &ev->t);
        jproc(&j, ev);
        jstr(&j, "path", ev->u.exec.path);
        jstr(&j, "argv", ev->u.exec.argv);
        jstr(&j, "note", ev->note);
        break;
    case EV_EXIT:
        jbegin(&j, "exit", &ev->t);
        jproc(&j, ev);
        if (ev->u.exit.signo)
            jraw(&j, ",\"code\":null,\"signal\":\"%s\",\"core\":%s", signal_name(ev->u.exit.signo),
                 ev->u.exit.core ? "true" : "false");
        else
            jraw(&j, ",\"code\":%d,\"signal\":null", ev->u.exit.code);
        jstr(&j, "note", ev->note);
        break;
    case EV_CONNECTION: {
        const struct conn_summary *c = &ev->u.conn;
        jbegin(&j, "connection", &c->last);
        jstr(&j, "src", c->orig);
        jstr(&j, "dst", c->resp);
        if (c->orig_name[0])
            jstr(&j, "from", c->orig_name);
        if (c->resp_name[0])
            jstr(&j, "to", c->resp_name);
        jstr(&j, "conn_state", c->conn_state);
        jstr(&j, "history", c->history);
        jraw(&j, ",\"orig_bytes\":%llu,\"resp_bytes\":%llu,\"orig_pkts\":%llu,\"resp_pkts\":%llu",
             (unsigned long long)c->orig_bytes, (unsigned long long)c->resp_bytes,
             (unsigned long long)c->orig_pkts, (unsigned long long)c->resp_pkts);
        jtime(&j, "t_first", &c->first);
        jraw(&j, ",\"duration\":%.9f", ts_diff(&c->last, &c->first));
        jstr(&j, "note", c->note);
        break;
    }
    case EV_VERDICT:
        json_verdict(&j, ev);
        break;
    case EV_OUTPUT:
        json_output(&j, ev, ev->repeat);
        break;
    case EV_REPEAT_START:
        return;
    case EV_REPEAT: {
        /* One line for each event of the cycle, with how many more times it came. */
        const struct repeat_facts *r = &ev->u.rep;
        double span = ts_diff(&r->last, &r->first);
        for (int i = 0; i < r->period; i++) {
            struct event copy = *r->pattern[i];
            copy.t = r->last;
            if (copy.type == EV_SYSCALL)
                json_syscall(&j, &copy, r->count[i]);
            else if (copy.type == EV_OUTPUT)
                json_output(&j, &copy, r->count[i]);
            else
                json_signal(&j, &copy, r->count[i]);
            jtime(&j, "t_first", &r->first);
            if (span > 0)
                jraw(&j, ",\"rate\":%.1f", r->count[i] / span);
            jraw(&j, ",\"cycle\":%d}", r->period);
            emit_line(o, f, j.buf);
        }
        return;
    }
    }
    jput(&j, "}", 1);
    emit_line(o, f, j.buf);
}

/* --- ladder ---------------------------------------------------------------- */

static void ladder_keep(struct output *o, const struct event *ev)
{
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

static void ladder_draw(struct output *o)
{
    char line[2048], left[256], right[256], wire[256], who[160], what[1024], text[1280];
    const char *dim = o->color ? C_DIM : "", *off = o->color ? C_OFF : "";
    /* Name the sides after the processes on them. */
    char lname[128] = "", rname[128] = "";
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        if (ev->type != EV_SYSCALL)
            continue;
        const char *label = output_label(o, ev->pid, ev->proc);
        char *side = view(o, ev->pid)->server ? rname : lname;
        if (!strstr(side, label) && strlen(side) + strlen(label) + 3 < sizeof(lname))
            snprintf(side + strlen(side), sizeof(lname) - strlen(side), "%s%s", side[0] ? ", " : "", label);
    }
    fit(lname[0] ? lname : "client side", LADDER_SIDE, left, sizeof(left));
    fit(rname[0] ? rname : "server side", LADDER_SIDE, right, sizeof(right));
    fit("", LADDER_WIRE, wire, sizeof(wire));
    snprintf(line, sizeof(line), "%10s  %s|%s|%s", "", left, wire, right);
    emit_line(o, o->out, line);
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        char when[32];
        time_column(o, ev, when, sizeof(when));
        who_what(o, ev, who, sizeof(who), what, sizeof(what));
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
            int server = ev->pid && view(o, ev->pid)->server;
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
        emit_line(o, o->out, line);
    }
}

/* --- the entry points ---------------------------------------------------------- */

/* Put one event on o->out in the chosen format; story and intro as text_shows gave them. */
static void show(struct output *o, const struct event *ev, int story, const struct event *intro)
{
    switch (o->format) {
    case OUT_JSON:
        json_event(o, o->out, ev);
        break;
    case OUT_TEXT:
        if (ev->type == EV_VERDICT) {
            event_free(o->verdict);
            o->verdict = event_copy(ev);
        }
        if (story) {
            if (intro)
                text_line(o, intro);
            text_line(o, ev);
        }
        break;
    case OUT_LADDER:
        if (!o->started) {
            o->started = 1;
            o->t0 = ev->t;
        }
        if (ev->type == EV_VERDICT || (story && ev->type != EV_REPEAT_START)) {
            if (intro)
                ladder_keep(o, intro);
            ladder_keep(o, ev);
        }
        break;
    }
}

int output_event(struct output *o, const struct event *ev, struct event **intro_out)
{
    /* Whatever the format, the story is the one the text timeline tells. */
    struct event *intro = NULL;
    int story = text_shows(o, ev, &intro);
    if (o->json)
        json_event(o, o->json, ev);
    if (o->out)
        show(o, ev, story, intro);
    if (intro_out && story)
        *intro_out = intro;
    else
        event_free(intro);
    return story;
}

void output_finish(struct output *o)
{
    if (o->format == OUT_LADDER)
        ladder_draw(o);
    if (o->format == OUT_TEXT && o->verdict) {
        char line[640];
        const char *bold = o->color ? C_BOLD : "", *off = o->color ? C_OFF : "";
        snprintf(line, sizeof(line), "%sverdict: %s%s", bold, o->verdict->u.verdict, off);
        emit_line(o, o->out, line);
    }
    flush(o, o->out);
    flush(o, o->json);
}
