/*
 * html_layout: the sequence diagram's geometry (html_layout.h).
 */
#include "html_layout.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * When a call entered and when it returned, in seconds from the first event:
 * the event's time is one of them (call_at_return says which), its duration
 * gives the other.
 */
void layout_call_span(const struct layout *l, size_t i, double *entry, double *ret)
{
    const struct syscall_facts *f = &l->o->ladder[i]->u.sys;
    double t = l->t[i];
    bool at_return = call_at_return(f);
    *entry = at_return ? t - f->duration : t;
    *ret = at_return ? t : t + f->duration;
}

/* The lifeline named name (the first, if there is none). */
int layout_lane_find(const struct layout *l, const char *name)
{
    for (size_t i = 0; i < l->nlanes; i++)
        if (!strcmp(l->lanes[i].name, name))
            return (int)i;
    return 0;
}

/* The lifeline named name, made if new. */
static int lane_for(struct layout *l, const char *name, bool server)
{
    for (size_t i = 0; i < l->nlanes; i++)
        if (!strcmp(l->lanes[i].name, name)) {
            l->lanes[i].server |= server;
            return (int)i;
        }
    struct lane *grown = realloc(l->lanes, (l->nlanes + 1) * sizeof(*grown));
    if (!grown)
        return l->nlanes ? 0 : -1;
    l->lanes = grown;
    struct lane *ln = &l->lanes[l->nlanes];
    memset(ln, 0, sizeof(*ln));
    snprintf(ln->name, sizeof(ln->name), "%s", name);
    ln->server = server;
    return (int)l->nlanes++;
}

const char *layout_packet_end(const struct packet_facts *p, int to)
{
    if (to)
        return p->to_label[0] ? p->to_label : p->dst;
    return p->from_label[0] ? p->from_label : p->src;
}

/* The lifelines, in order: the clients as they came, then the servers as they came. */
static void place_lanes(struct layout *l)
{
    struct output *o = l->o;
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        l->lane_of[i] = -1;
        if (ev->type == EV_PACKET) {
            const struct packet_facts *p = &ev->u.pkt;
            l->lane_of[i] = lane_for(l, layout_packet_end(p, 0), !p->from_orig);
            lane_for(l, layout_packet_end(p, 1), p->from_orig);
        } else if (ev->type != EV_CONNECTION && ev->type != EV_VERDICT) {
            l->lane_of[i] = lane_for(l, story_label(o->story, ev->pid, ev->proc),
                                     ev->pid && story_is_server(o->story, ev->pid));
        }
    }
    int next = 0;
    for (int server = 0; server < 2; server++)
        for (size_t k = 0; k < l->nlanes; k++)
            if (l->lanes[k].server == server)
                l->lanes[k].order = next++;
    l->width = LEFT + (double)l->nlanes * LANE_W + RIGHT;
}

double layout_lane_x(const struct layout *l, int lane)
{
    return LEFT + l->lanes[lane].order * LANE_W + LANE_W / 2.0;
}

/*
 * One row an event, in order; between two events, room for the time that
 * passed (up to a row), and a marked break instead for a pause of
 * PAUSE_MARK or more: time runs downwards, but not to scale.
 */
static void place_rows(struct layout *l)
{
    struct output *o = l->o;
    double y = TOP + HEAD_H + ROW, last = 0;
    bool started = false;
    struct timespec t0 = { 0, 0 };
    for (size_t i = 0; i < o->nladder; i++) {
        const struct event *ev = o->ladder[i];
        if (ev->type == EV_VERDICT) { /* the banner, at the top */
            l->t[i] = last;
            l->y[i] = 24;
            continue;
        }
        bool timed = ev->type != EV_CONNECTION;
        if (timed && !started) {
            t0 = ev->t;
            started = true;
        }
        l->t[i] = started ? ts_diff(&ev->t, &t0) : 0;
        if (timed) {
            double gap = l->t[i] - last;
            if (gap >= PAUSE_MARK && i > 0) {
                l->pause_y[l->npauses] = y - ROW / 2.0 + PAUSE_H / 2.0;
                l->pause_len[l->npauses++] = gap;
                y += PAUSE_H;
            } else if (gap > 0) {
                y += gap * GAP_PX_PER_S < ROW ? gap * GAP_PX_PER_S : ROW;
            }
            last = l->t[i];
        } else {
            l->t[i] = last;
        }
        l->y[i] = y;
        y += ROW;
        if (ev->type == EV_EXIT && l->lane_of[i] >= 0)
            l->lanes[l->lane_of[i]].end = y - ROW / 2.0;
    }
    l->height = y + ROW;
    for (size_t k = 0; k < l->nlanes; k++)
        if (l->lanes[k].end == 0)
            l->lanes[k].end = y;
}

/* The row of a moment: between the rows of the events around it, never across a pause's mark. */
double layout_y_at(const struct layout *l, double t)
{
    size_t n = l->o->nladder;
    bool before = false; /* a row came before the moment */
    double y0 = 0, t0 = 0;
    for (size_t j = 0; j < n; j++) {
        if (l->o->ladder[j]->type == EV_VERDICT) /* the banner is no row */
            continue;
        if (l->t[j] >= t) {
            if (!before)
                return l->y[j];
            double span = l->t[j] - t0, frac = span > 0 ? (t - t0) / span : 1;
            if (l->y[j] - y0 > ROW + PAUSE_H / 2.0) /* a marked pause: stay on its near side */
                return frac < 0.5 ? y0 + ROW / 2.0 : l->y[j] - ROW / 2.0;
            return y0 + frac * (l->y[j] - y0);
        }
        before = true;
        y0 = l->y[j];
        t0 = l->t[j];
    }
    return y0;
}
void layout_free(struct layout *l)
{
    free(l->lanes);
    free(l->lane_of);
    free(l->y);
    free(l->t);
    free(l->pause_y);
    free(l->pause_len);
}

int layout_make(struct output *o, struct layout *l)
{
    size_t n = o->nladder ? o->nladder : 1;
    memset(l, 0, sizeof(*l));
    l->o = o;
    l->lane_of = calloc(n, sizeof(*l->lane_of));
    l->y = calloc(n, sizeof(*l->y));
    l->t = calloc(n, sizeof(*l->t));
    l->pause_y = calloc(n, sizeof(*l->pause_y));
    l->pause_len = calloc(n, sizeof(*l->pause_len));
    if (!l->lane_of || !l->y || !l->t || !l->pause_y || !l->pause_len)
        return -1;
    place_lanes(l);
    place_rows(l);
    return 0;
}
