/*
 * html_layout: where each event of the sequence diagram goes: the
 * lifelines and their order (clients left, servers right), each event's row
 * (time runs downwards, not to scale), and the long pauses drawn as breaks.
 * html.c draws what this places.
 */
#ifndef SIGTRACE_HTML_LAYOUT_H
#define SIGTRACE_HTML_LAYOUT_H

#include <stddef.h>

#include "output_int.h"

#define LEFT 96        /* the time column */
#define LANE_W 240     /* from one lifeline to the next */
#define RIGHT 220      /* room for the last lifeline's labels */
#define TOP 52         /* below the verdict banner */
#define HEAD_H 26      /* a lifeline's name box */
#define ROW 26         /* one event */
#define PAUSE_MARK 0.2 /* seconds without an event that are drawn as a break, not to scale */
#define PAUSE_H 28
#define GAP_PX_PER_S 100.0 /* a shorter pause: this much more room a second, at most ROW */

struct lane {
    char name[160];
    bool server;
    int order;
    double end; /* where its lifeline ends: its process's exit, else the bottom */
};

struct layout {
    struct output *o;
    struct lane *lanes;
    size_t nlanes;
    int *lane_of;      /* each event's lifeline, -1 for one that spans them all */
    double *y, *t;     /* each event's row, and its time (seconds from the first) */
    double *pause_y;   /* where each long pause is marked */
    double *pause_len; /* and how long it was */
    size_t npauses;
    double width, height;
};

/* The events o keeps for the diagram, placed into *l; -1 when out of memory. Free it either way. */
int layout_make(struct output *o, struct layout *l);
void layout_free(struct layout *l);

/* Where the lifeline lane runs across the picture. */
double layout_lane_x(const struct layout *l, int lane);

/* The lifeline named name (the first, if there is none). */
int layout_lane_find(const struct layout *l, const char *name);

/* The name of a packet's sender's lifeline (to: its receiver's). */
const char *layout_packet_end(const struct packet_facts *p, int to);

/* When call i entered and when it returned, in seconds from the first event. */
void layout_call_span(const struct layout *l, size_t i, double *entry, double *ret);

/* The row of a moment (seconds from the first event). */
double layout_y_at(const struct layout *l, double t);

#endif
