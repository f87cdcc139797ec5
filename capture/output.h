/*
 * output: the timeline, as people and programs read it.
 *
 *   text    one aligned line an event: time since the start, who, what, and
 *           the note; colour on a terminal unless NO_COLOR is set
 *   ladder  a sequence diagram: client side left, server side right,
 *           packets as arrows between them
 *   json    JSON Lines, one object an event (the format tests read; see
 *           DESIGN.md "Events"); also written alongside the others with -o
 *
 * Text and ladder show what tells the story: packets, socket calls and
 * everything that happens to a process that made one, and of other processes
 * only what kills them. JSON has every event.
 */
#ifndef SIGTRACE_OUTPUT_H
#define SIGTRACE_OUTPUT_H

#include <stdio.h>

#include "event.h"
#include "story.h"

enum output_format { OUT_TEXT, OUT_LADDER, OUT_JSON };

struct output;

/*
 * out: the chosen format's stream (NULL: none); json: a JSON Lines copy (NULL: none).
 * live: the lines printed go out at each output_flush() (someone watches, and
 * the traced processes write to the same stream); else the streams buffer,
 * and output_finish() flushes them.
 */
struct output *output_new(FILE *out, enum output_format format, int color, FILE *json, int live);
void output_free(struct output *o);

/* Live: what was printed goes out now, in one write rather than one a line. */
void output_flush(struct output *o);

/*
 * How the text timeline names a process: its name, and "client 2" for a
 * second process named client. The same pid always gets the same label.
 */
const char *output_label(struct output *o, pid_t pid, const char *comm);

/*
 * Print one event, in time order. Returns 1 if the event is part of the story
 * the text timeline tells (whatever the format), 0 for what it leaves out: the
 * helpers of a script that never touch a socket (grep, date, sleep), their
 * exec and exit, the SIGCHLD their parent gets. When the event makes a
 * process part of the story, intro (if not NULL) gets that process's
 * earlier exec and calls about SIGPIPE, told first; the caller frees it
 * (story_intro_free).
 */
int output_event(struct output *o, const struct event *ev, struct story_intro *intro);

/* The end of the run: the text timeline ends with the verdict, if one was seen; everything is flushed. */
void output_finish(struct output *o);

/*
 * Keep what the ladder keeps, whatever the format, for output_picture(): to be
 * called before the first event.
 */
void output_keep_picture(struct output *o);

/* The pictures of the story output_picture() draws. */
enum picture {
    PICTURE_PAGE,   /* an HTML page, the SVG inline: notes on hover and click, arrow keys */
    PICTURE_SVG,    /* the SVG alone */
    PICTURE_LADDER, /* the ladder as --ladder draws it, in plain text */
    PICTURES
};

/* Each picture's option, by kind. */
extern const char *const picture_options[PICTURES];

/*
 * The story as a sequence diagram of the given kind, into path (written whole,
 * then renamed into place). title names the run. Returns 0, or -1 with err
 * saying why (the file named).
 */
int output_picture(struct output *o, const char *path, enum picture kind, const char *title,
                   char *err, size_t len);

/*
 * The end of a live capture: what the kernel counted (capture.h), as a JSON
 * event {"type":"capture",...} at time t.
 */
void output_capture(struct output *o, const struct timespec *t, unsigned long received,
                    unsigned long dropped, unsigned long ifdropped);

/* One line that says what ev is and means: a pcapng comment. */
void output_describe(struct output *o, const struct event *ev, char *buf, size_t len);

/* 1 once a write to out or json failed (a closed pipe, a full disk). */
int output_failed(const struct output *o);

#endif
