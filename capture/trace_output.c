/*
 * trace_output: what a traced process writes elsewhere than to a socket,
 * as the timeline needs it: its writes to sigtrace's own standard output
 * (EV_OUTPUT), and the lines that begin with the caller's mark (EV_VERDICT),
 * read from the process while it waits in its stop.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "trace_int.h"

/* Bytes of a write searched for a marked line. */
#define MARK_PEEK_MAX 512
/* How far a marked line is followed to count what was cut of it. */
#define MARK_LINE_MAX 65536

/*
 * The length of the line that starts at offset start of a write of len bytes
 * at buf, read from the process in pieces, up to the newline or the write's
 * end: at most MARK_LINE_MAX bytes are read.
 */
static size_t line_length(struct proc *p, uint64_t buf, uint64_t len, ptrdiff_t start)
{
    char piece[MARK_PEEK_MAX];
    uint64_t at = (uint64_t)start, end = len < MARK_LINE_MAX ? len : MARK_LINE_MAX;
    while (at < end) {
        size_t want = end - at < sizeof piece ? (size_t)(end - at) : sizeof piece;
        size_t got = calls_peek(p->tid, buf + at, piece, want);
        char *nl = memchr(piece, '\n', got);
        if (nl)
            return (size_t)(at - (uint64_t)start) + (size_t)(nl - piece);
        if (got < want)
            break;
        at += got;
    }
    return (size_t)(at - (uint64_t)start);
}

/* A write to something that is not a socket: does a line of it begin with the caller's mark? */
void trace_look_for_mark(struct tracer *t, struct proc *p, uint64_t buf, uint64_t len)
{
    size_t marklen = t->mark ? strlen(t->mark) : 0;
    if (!marklen || len < marklen)
        return;
    char text[MARK_PEEK_MAX];
    size_t n =
        calls_peek(p->tid, buf, text, len < sizeof(text) - 1 ? (size_t)len : sizeof(text) - 1);
    text[n] = '\0';
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, t->mark, marklen) != 0)
            continue;
        struct timespec ts = trace_now();
        struct event *ev = trace_event_for(p, EV_VERDICT, &ts);
        if (!ev)
            return;
        const char *value = line + marklen;
        size_t vlen = strcspn(value, "\n");
        /* A line longer than what was read or kept ends with a mark saying by how much. */
        size_t whole =
            value[vlen] == '\n' || n == len ? vlen : line_length(p, buf, len, value - text);
        char mark[48] = "";
        if (whole >= sizeof(ev->u.verdict)) {
            snprintf(mark, sizeof mark, " ... (%zu more bytes)", whole);
            vlen = sizeof(ev->u.verdict) - 1 - strlen(mark);
            snprintf(mark, sizeof mark, " ... (%zu more bytes)", whole - vlen);
        } else if (whole > vlen) {
            snprintf(mark, sizeof mark, " ... (%zu more bytes)", whole - vlen);
            if (vlen + strlen(mark) >= sizeof(ev->u.verdict))
                vlen = sizeof(ev->u.verdict) - 1 - strlen(mark);
        }
        memcpy(ev->u.verdict, value, vlen);
        snprintf(ev->u.verdict + vlen, sizeof(ev->u.verdict) - vlen, "%s", mark);
        t->emit(ev, t->ctx);
        return;
    }
}

/*
 * A write to sigtrace's own standard output (the scenario's lines, say):
 * the process waits in this stop while the event goes out, so the caller
 * can print everything that happened before it first, and the line lands
 * in the timeline where it belongs.
 */
void trace_report_output(struct tracer *t, struct proc *p, unsigned long nr, int fd,
                         const uint64_t args[6])
{
    struct timespec ts = trace_now();
    struct event *ev = trace_event_for(p, EV_OUTPUT, &ts);
    if (!ev)
        return;
    struct output_facts *o = &ev->u.output;
    o->fd = fd;
    if (nr == SYS_writev) {
        o->len = -1;
        o->textlen = calls_peek_iov(p->tid, args[1], args[2], EVENT_OUTPUT_MAX, (uint8_t *)o->text,
                                    EVENT_OUTPUT_MAX);
    } else {
        o->len = (long long)args[2];
        o->textlen =
            (uint32_t)calls_peek(p->tid, args[1], o->text,
                                 args[2] < EVENT_OUTPUT_MAX ? (size_t)args[2] : EVENT_OUTPUT_MAX);
    }
    t->emit(ev, t->ctx);
}
