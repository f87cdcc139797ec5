/*
 * output_int: what the printers of output.h share: the output itself and
 * each printer's entry. Not for the rest of the tracer.
 */
#ifndef SIGTRACE_OUTPUT_INT_H
#define SIGTRACE_OUTPUT_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "output.h"
#include "story.h"

struct output {
    FILE *out, *json;
    enum output_format format;
    bool color;
    bool live;   /* flushed at each output_flush() */
    int columns; /* the terminal\'s width; 0 when out is no terminal */
    int failed;  /* errno of the first failed write, else 0 */
    bool started;
    struct timespec t0; /* times on the timeline count from here */
    struct story *story;
    struct event *verdict; /* shown last on the text timeline */
    struct event *half;    /* a call's first half, told once the next event shows whether it is */
    struct event **ladder; /* the ladder is drawn at the end, when every side is known */
    bool diagram;          /* keep the ladder's events for a picture too (html.c) */
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

/* One line to f (out or json), and a newline; a failure is kept in o->failed. */
void output_line(struct output *o, FILE *f, const char *line);
/* The same, its length known. */
void output_line_len(struct output *o, FILE *f, const char *line, size_t len);

/* The time column: seconds since the first event, blank for a connection's summary. */
void output_time_column(struct output *o, const struct event *ev, char *buf, size_t len);

/* text.c: one event's line. */
void text_event(struct output *o, const struct event *ev);

/* json.c: one event as JSON (a repeat: a line for each event of its cycle) to f. */
void json_event(struct output *o, FILE *f, const struct event *ev);

/* json.c: the capture's counts as one JSON line to f. */
void json_capture(struct output *o, FILE *f, const struct timespec *t, unsigned long received,
                  unsigned long dropped, unsigned long ifdropped);

/* ladder.c: keep an event for the diagram; draw it at the end, to f (o->out, or a file). */
void ladder_keep(struct output *o, const struct event *ev);
void ladder_draw(struct output *o, FILE *f);

/* html.c: the kept events as a picture: a page (page) or the SVG alone, to f. */
int html_write(struct output *o, FILE *f, bool page, const char *title);

#endif
