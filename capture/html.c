/*
 * html: the story as a picture, for a projector and for slides. A sequence
 * diagram in SVG: a lifeline per process or endpoint (clients left, servers
 * right), packets as arrows between them, calls as boxes on their process's
 * lifeline (a blocking call spans its entry to its return), signals and exits
 * as markers, connection summaries as bands, the verdict as a banner; time
 * runs downwards, and a long pause is compressed and marked. Every element
 * carries its note as an SVG <title> (shown on hover).
 *
 * --svg writes the diagram alone; --html wraps it in a page of its own (no
 * network, no file besides itself) with a side panel that shows the note of
 * the element clicked, and arrow keys that step through the events.
 *
 * The events are those the ladder keeps (output.c), drawn at the end, when
 * every lifeline is known; where each goes is html_layout.c's. Every string that came from a traced program or a
 * capture goes through escape_html(): a process named "<script>" is text.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "describe.h"
#include "escape.h"
#include "html_layout.h"
#include "output_int.h"

#define LABEL_MAX 46 /* characters of a label beside a lifeline; the rest on hover */

/* --- writing ----------------------------------------------------------------- */

struct out {
    FILE *f;
};

static void put(struct out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->f, fmt, ap);
    va_end(ap);
}

/* s as the text of an element or attribute. */
static void text(struct out *w, const char *s)
{
    char buf[16384];
    size_t n = escape_html(s, buf, sizeof(buf));
    fwrite(buf, 1, n, w->f);
}

/* s cut to max characters (code points), "…" marking the cut, as text. */
static void short_text(struct out *w, const char *s, size_t max)
{
    char buf[1024];
    size_t n = 0, chars = 0;
    while (s[n] && chars < max && n + 4 < sizeof(buf)) {
        n++;
        while (((unsigned char)s[n] & 0xc0) == 0x80)
            n++;
        chars++;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (s[n] && n + 4 <= sizeof(buf))
        memcpy(buf + n, "\u2026", 4);
    text(w, buf);
}
/* --- drawing ------------------------------------------------------------------ */

static const char STYLE[] =
    "text{font:12px ui-monospace,Menlo,Consolas,monospace;fill:#222}\n"
    ".time{fill:#888;text-anchor:end}\n"
    ".head rect{fill:#37474f}.head text{fill:#fff;font-weight:bold;text-anchor:middle}\n"
    ".life{stroke:#90a4ae;stroke-width:1.5;stroke-dasharray:5 4}\n"
    ".bg{fill:transparent}.hl>.bg{fill:#fff59d}\n"
    ".pkt line{stroke-width:1.6}.pkt polygon{stroke:none}.pkt text{text-anchor:middle}\n"
    ".ack line{stroke:#9e9e9e}.ack polygon{fill:#9e9e9e}.ack text{fill:#757575}\n"
    ".data line{stroke:#263238}.data polygon{fill:#263238}\n"
    ".syn line{stroke:#2e7d32}.syn polygon,.syn text{fill:#2e7d32}\n"
    ".fin line{stroke:#1565c0}.fin polygon,.fin text{fill:#1565c0}\n"
    ".rst line{stroke:#c62828;stroke-width:3}.rst polygon,.rst text{fill:#c62828}"
    ".rst text{font-weight:bold}\n"
    ".call rect.box{fill:#e3f2fd;stroke:#1565c0}.failed rect.box{fill:#ffebee;stroke:#c62828}"
    ".failed text{fill:#c62828}\n"
    ".sig polygon{fill:#ffb300;stroke:#6d4c00}.sigpipe polygon{fill:#e53935}"
    ".sig text{fill:#6d4c00;font-weight:bold}\n"
    ".exit path{stroke:#2e7d32;stroke-width:3}.killed path{stroke:#c62828}"
    ".killed text{fill:#c62828;font-weight:bold}\n"
    ".exec circle{fill:#78909c}.exec text{fill:#546e7a}\n"
    ".repeat rect.box{fill:#fff8e1;stroke:#ff8f00}.repeat text{fill:#e65100}\n"
    ".conn rect.band{fill:#eceff1;stroke:#90a4ae;stroke-dasharray:3 3}.conn text{fill:#37474f}\n"
    ".verdict rect.band{fill:#263238}.verdict text{fill:#fff;font-weight:bold}\n"
    ".pause rect{fill:#fff}.pause text{fill:#888;font-style:italic;text-anchor:middle}\n"
    ".pause path{stroke:#b0bec5;fill:none}\n";

/* An event's group: its class, its hover text (time, who: what, note) and the row's highlight. */
static void begin_event(struct out *w, const struct layout *l, size_t i, const char *cls,
                        const char *who, const char *what)
{
    const struct event *ev = l->o->ladder[i];
    char note[EVENT_NOTE + 256], when[32] = "";
    describe_note(ev, note, sizeof(note));
    if (ev->type != EV_CONNECTION && ev->type != EV_VERDICT)
        snprintf(when, sizeof(when), "%.6f  ", l->t[i]);
    put(w, "<g class=\"ev %s\" id=\"e%zu\"><title>%s", cls, i, when);
    text(w, who);
    put(w, "%s", who[0] ? ": " : "");
    text(w, what);
    if (note[0]) {
        put(w, "\n");
        text(w, note);
    }
    put(w, "</title><rect class=\"bg\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%d\"/>",
        l->y[i] - ROW / 2.0, l->width, ROW);
}

static void draw_packet(struct out *w, const struct layout *l, size_t i, const char *who,
                        const char *what)
{
    const struct packet_facts *p = &l->o->ladder[i]->u.pkt;
    uint8_t fl = p->seg.flags;
    const char *cls = fl & TCPF_RST        ? "rst"
                      : fl & TCPF_SYN      ? "syn"
                      : fl & TCPF_FIN      ? "fin"
                      : p->seg.payload_len ? "data"
                                           : "ack";
    char pcls[16];
    snprintf(pcls, sizeof(pcls), "pkt %s", cls);
    begin_event(w, l, i, pcls, who, what);
    double y = l->y[i];
    double x1 = layout_lane_x(l, l->lane_of[i]),
           x2 = layout_lane_x(l, layout_lane_find(l, layout_packet_end(p, 1)));
    if (x1 == x2)
        x2 = x1 + LANE_W / 3.0; /* both ends on one lifeline: a stub */
    double dir = x2 > x1 ? 1 : -1, tip = x2 - dir * 2;
    put(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x1 + dir * 6, y + 4,
        tip - dir * 8, y + 4);
    put(w, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>", tip, y + 4, tip - dir * 10, y,
        tip - dir * 10, y + 8);
    char flags[48], label[160];
    decode_flags_str(fl, flags, sizeof(flags));
    if (p->seg.payload_len) {
        char preview[64];
        uint32_t n = p->seg.payload_caplen < 16 ? p->seg.payload_caplen : 16;
        escape_c_literal(p->seg.payload, n, p->seg.payload_len > n, 20, preview, sizeof(preview));
        snprintf(label, sizeof(label), "%s %u %s", flags, p->seg.payload_len, preview);
    } else {
        snprintf(label, sizeof(label), "%s", flags);
    }
    put(w, "<text x=\"%.1f\" y=\"%.1f\">", (x1 + x2) / 2, y - 1);
    text(w, label);
    put(w, "</text></g>\n");
}

/* A label beside lifeline x, at row y. */
static void side_label(struct out *w, double x, double y, const char *s)
{
    put(w, "<text x=\"%.1f\" y=\"%.1f\">", x + 12, y + 4);
    short_text(w, s, LABEL_MAX);
    put(w, "</text>");
}

static void draw_on_lane(struct out *w, const struct layout *l, size_t i, const char *who,
                         const char *what)
{
    const struct event *ev = l->o->ladder[i];
    double x = layout_lane_x(l, l->lane_of[i]), y = l->y[i];
    char cls[32];
    switch (ev->type) {
    case EV_SYSCALL: {
        double entry, ret;
        layout_call_span(l, i, &entry, &ret);
        double top = layout_y_at(l, entry), bottom = layout_y_at(l, ret);
        if (top > y - 5)
            top = y - 5;
        if (bottom < y + 5)
            bottom = y + 5;
        snprintf(cls, sizeof(cls), "call%s", ev->u.sys.err ? " failed" : "");
        begin_event(w, l, i, cls, who, what);
        put(w, "<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"%.1f\"/>", x - 5,
            top, bottom - top);
        break;
    }
    case EV_SIGNAL:
        snprintf(cls, sizeof(cls), "sig%s", ev->u.sig.signo == SIGPIPE ? " sigpipe" : "");
        begin_event(w, l, i, cls, who, what);
        put(w, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>", x, y - 8, x + 8, y,
            x, y + 8, x - 8, y);
        break;
    case EV_EXIT:
        begin_event(w, l, i, ev->u.exit.signo ? "exit killed" : "exit", who, what);
        if (ev->u.exit.signo)
            put(w, "<path d=\"M%.1f %.1fl14 14m0 -14l-14 14\"/>", x - 7, y - 7);
        else
            put(w, "<path d=\"M%.1f %.1fh20\"/>", x - 10, y);
        break;
    case EV_EXEC:
        begin_event(w, l, i, "exec", who, what);
        put(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/>", x, y);
        break;
    default: /* a repeat, or what no other case draws */
        begin_event(w, l, i, "repeat", who, what);
        put(w, "<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\"/>", x - 7,
            y - 7);
        break;
    }
    side_label(w, x, y, what);
    put(w, "</g>\n");
}

/* A band across every lifeline: a connection's summary or the verdict (at the top). */
static void draw_band(struct out *w, const struct layout *l, size_t i, const char *who,
                      const char *what)
{
    const struct event *ev = l->o->ladder[i];
    bool verdict = ev->type == EV_VERDICT;
    begin_event(w, l, i, verdict ? "verdict" : "conn", who, what);
    double y = verdict ? 24 : l->y[i];
    put(w, "<rect class=\"band\" x=\"8\" y=\"%.1f\" width=\"%.0f\" height=\"%d\" rx=\"4\"/>",
        y - ROW / 2.0 + (verdict ? -4 : 2), l->width - 16, verdict ? ROW + 8 : ROW - 4);
    put(w, "<text x=\"20\" y=\"%.1f\">", y + 4);
    text(w, what);
    put(w, "</text></g>\n");
}

static void draw_pauses(struct out *w, const struct layout *l)
{
    for (size_t k = 0; k < l->npauses; k++) {
        double y = l->pause_y[k];
        put(w, "<g class=\"pause\"><rect x=\"%d\" y=\"%.1f\" width=\"%.0f\" height=\"%d\"/>", LEFT,
            y - PAUSE_H / 2.0 + 4, l->width - LEFT, PAUSE_H - 8);
        for (size_t j = 0; j < l->nlanes; j++) {
            double x = layout_lane_x(l, (int)j);
            put(w, "<path d=\"M%.1f %.1fl6 -4l-12 8l6 -4\"/>", x, y);
        }
        put(w, "<text x=\"%.1f\" y=\"%.1f\">\u2026 %.3f s pass (not to scale) \u2026</text></g>\n",
            l->width / 2, y + 4, l->pause_len[k]);
    }
}

static void draw_svg(struct out *w, const struct layout *l, const char *title, bool standalone)
{
    struct output *o = l->o;
    put(w,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"diagram\" width=\"%.0f\" height=\"%.0f\" "
        "viewBox=\"0 0 %.0f %.0f\">\n",
        l->width, l->height, l->width, l->height);
    put(w, "<title>");
    text(w, title);
    put(w, "</title>\n<style>\n%s</style>\n", STYLE);
    if (standalone)
        put(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    /* The lifelines from left to right. */
    for (size_t pos = 0; pos < l->nlanes; pos++) {
        size_t k = 0;
        while (k < l->nlanes && l->lanes[k].order != (int)pos)
            k++;
        double x = layout_lane_x(l, (int)k);
        put(w, "<line class=\"life\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
            TOP + HEAD_H, x, l->lanes[k].end);
        put(w, "<g class=\"head\"><rect x=\"%.1f\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\"/>",
            x - (LANE_W - 40) / 2.0, TOP, LANE_W - 40, HEAD_H - 4);
        put(w, "<text x=\"%.1f\" y=\"%d\">", x, TOP + 16);
        short_text(w, l->lanes[k].name, 30);
        put(w, "</text></g>\n");
    }
    draw_pauses(w, l);
    char who[160], what[1024];
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        describe_who_what(o->story, ev, who, sizeof(who), what, sizeof(what));
        if (ev->type != EV_CONNECTION && ev->type != EV_VERDICT) {
            put(w, "<text class=\"time\" x=\"%d\" y=\"%.1f\">%.6f</text>\n", LEFT - 8, l->y[i] + 4,
                l->t[i]);
        }
        if (ev->type == EV_PACKET)
            draw_packet(w, l, i, who, what);
        else if (l->lane_of[i] >= 0)
            draw_on_lane(w, l, i, who, what);
        else
            draw_band(w, l, i, who, what);
    }
    if (!o->nladder)
        put(w, "<text x=\"%d\" y=\"%d\">nothing happened that the timeline tells</text>\n", LEFT,
            TOP + HEAD_H + ROW);
    put(w, "</svg>\n");
}

/* --- the page ------------------------------------------------------------------ */

static const char PAGE_STYLE[] =
    "body{margin:0;font:14px system-ui,sans-serif;color:#222;background:#fafafa}\n"
    "header{padding:8px 16px;background:#37474f;color:#fff}header h1{font-size:16px;margin:0}\n"
    "header p{margin:4px 0 0;font-size:12px;color:#cfd8dc}\n"
    "main{display:flex;align-items:flex-start}#scroll{flex:1;overflow:auto;background:#fff}\n"
    "#panel{position:sticky;top:0;width:300px;min-height:120px;max-height:100vh;overflow:auto;"
    "box-sizing:border-box;padding:12px;border-left:1px solid #cfd8dc;background:#fff;"
    "white-space:pre-wrap;font:13px ui-monospace,Menlo,Consolas,monospace}\n"
    "g.ev{cursor:pointer}\n";

/* Arrow keys (and j, k) step through the events in time order; a click picks one. */
static const char PAGE_SCRIPT[] =
    "(function () {\n"
    "  var evs = [].slice.call(document.querySelectorAll('#diagram g.ev'));\n"
    "  var panel = document.getElementById('panel'), cur = -1;\n"
    "  function show(i) {\n"
    "    if (i < 0 || i >= evs.length) return;\n"
    "    if (cur >= 0) evs[cur].classList.remove('hl');\n"
    "    cur = i;\n"
    "    var g = evs[i], r = g.getBoundingClientRect();\n"
    "    g.classList.add('hl');\n"
    "    document.body.setAttribute('data-current', g.id);\n"
    "    panel.textContent = g.querySelector('title').textContent;\n"
    "    if (r.top < 0 || r.bottom > window.innerHeight) g.scrollIntoView({block: 'center'});\n"
    "  }\n"
    "  evs.forEach(function (g, i) { g.addEventListener('click', function () { show(i); }); });\n"
    "  document.addEventListener('keydown', function (e) {\n"
    "    var k = e.key;\n"
    "    if (k === 'ArrowDown' || k === 'ArrowRight' || k === 'j') show(cur + 1);\n"
    "    else if (k === 'ArrowUp' || k === 'ArrowLeft' || k === 'k') show(cur < 1 ? 0 : cur - 1);\n"
    "    else if (k === 'Home') show(0);\n"
    "    else if (k === 'End') show(evs.length - 1);\n"
    "    else return;\n"
    "    e.preventDefault();\n"
    "  });\n"
    "})();\n";

static void draw_page(struct out *w, const struct layout *l, const char *title)
{
    size_t packets = 0;
    for (size_t i = 0; i < l->o->nladder; i++)
        packets += l->o->ladder[i]->type == EV_PACKET;
    /* Nothing from anywhere else: no fetch, no font, no script but this one. */
    put(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n<title>");
    text(w, title);
    put(w, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>", PAGE_STYLE);
    text(w, title);
    put(w,
        "</h1><p>%zu events, %zu packets. Hover over an element for its note, click it to "
        "keep it in the panel; \u2193 and \u2191 step through the events in time order.</p>"
        "</header>\n<main><div id=\"scroll\">\n",
        l->o->nladder, packets);
    draw_svg(w, l, title, false);
    put(w,
        "</div>\n<aside id=\"panel\">Click an event, or press \u2193.</aside></main>\n"
        "<script>\n%s</script>\n</body>\n</html>\n",
        PAGE_SCRIPT);
}

/* --- the file ------------------------------------------------------------------ */
int html_write(struct output *o, FILE *f, bool page, const char *title)
{
    struct layout l;
    if (layout_make(o, &l) < 0) {
        layout_free(&l);
        return -1;
    }
    struct out w = { f };
    if (page) {
        draw_page(&w, &l, title);
    } else {
        put(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        draw_svg(&w, &l, title, true);
    }
    layout_free(&l);
    return 0;
}
