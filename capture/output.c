/*
 * output: the timeline, as people and programs read it: the story (story.c)
 * laid out by one printer a format (text.c, ladder.c, json.c).
 */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "describe.h"
#include "escape.h"
#include "output_int.h"

/* The width a terminal has when nothing says otherwise. */
#define DEFAULT_COLUMNS 80

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
    return DEFAULT_COLUMNS;
}

struct output *output_new(FILE *out, enum output_format format, int color, FILE *json, int live)
{
    struct output *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    if (!(o->story = story_new())) {
        free(o);
        return NULL;
    }
    o->out = out;
    o->format = format;
    o->color = color;
    o->json = json;
    o->live = live;
    o->columns = terminal_columns(out);
    return o;
}

void output_free(struct output *o)
{
    if (!o)
        return;
    story_free(o->story);
    event_free(o->verdict);
    event_free(o->half);
    for (size_t i = 0; i < o->nladder; i++)
        event_free(o->ladder[i]);
    free(o->ladder);
    free(o);
}

int output_failed(const struct output *o) { return o->failed; }

void output_keep_picture(struct output *o) { o->diagram = true; }

const char *const picture_options[PICTURES] = {
    [PICTURE_PAGE] = "--html",
    [PICTURE_SVG] = "--svg",
    [PICTURE_LADDER] = "--ladder-file",
};

int output_picture(struct output *o, const char *path, enum picture kind, const char *title,
                   char *err, size_t len)
{
    /*
     * Written beside its name and renamed at the end: whoever opens the file
     * finds a whole picture or none, even if the run was cut short.
     */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = NULL;
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, len, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    int failed = 0;
    if (kind == PICTURE_LADDER)
        ladder_draw(o, f);
    else if (html_write(o, f, kind == PICTURE_PAGE, title) < 0)
        failed = ENOMEM;
    if (!failed && (ferror(f) || fflush(f) == EOF))
        failed = errno ? errno : EIO;
    if (fclose(f) == EOF && !failed)
        failed = errno ? errno : EIO;
    if (!failed && rename(tmp, path) < 0)
        failed = errno;
    if (failed) {
        unlink(tmp);
        snprintf(err, len, "cannot write %s: %s", path,
                 failed == ENOMEM ? "out of memory" : strerror(failed));
        return -1;
    }
    return 0;
}

void output_line(struct output *o, FILE *f, const char *line)
{
    output_line_len(o, f, line, strlen(line));
}

void output_line_len(struct output *o, FILE *f, const char *line, size_t len)
{
    if (!f || o->failed)
        return;
    /* One thread writes: no lock a call (a summary is lines by the 100,000). */
    if (fwrite_unlocked(line, 1, len, f) != len || putc_unlocked('\n', f) == EOF)
        o->failed = errno ? errno : EIO;
}

static void flush(struct output *o, FILE *f)
{
    if (f && !o->failed && fflush(f) == EOF)
        o->failed = errno ? errno : EIO;
}

void output_flush(struct output *o)
{
    if (!o->live)
        return;
    flush(o, o->out);
    flush(o, o->json);
}

const char *output_label(struct output *o, pid_t pid, const char *comm)
{
    return story_label(o->story, pid, comm);
}

/*
 * Times count from the first event that reaches a printer. A connection's
 * summary is no moment and shows none, so the column never runs backwards.
 */
void output_time_column(struct output *o, const struct event *ev, char *buf, size_t len)
{
    if (!o->started) {
        o->started = true;
        o->t0 = ev->t;
    }
    if (ev->type == EV_CONNECTION && len > 0) {
        size_t n = len > 10 ? 10 : len - 1; /* "%10s" of nothing */
        memset(buf, ' ', n);
        buf[n] = '\0';
    } else if (ev->type != EV_CONNECTION)
        snprintf(buf, len, "%10.6f", ts_diff(&ev->t, &o->t0));
}

void output_capture(struct output *o, const struct timespec *t, unsigned long received,
                    unsigned long dropped, unsigned long ifdropped)
{
    if (o->json)
        json_capture(o, o->json, t, received, dropped, ifdropped);
    if (o->out && o->format == OUT_JSON)
        json_capture(o, o->out, t, received, dropped, ifdropped);
}

void output_describe(struct output *o, const struct event *ev, char *buf, size_t len)
{
    describe_line(o->story, ev, buf, len);
}

/* One event of the story, on the text timeline or kept for the ladder. */
static void tell(struct output *o, const struct event *ev)
{
    if (o->format == OUT_TEXT)
        text_event(o, ev);
    else if (ev->type != EV_REPEAT_START)
        ladder_keep(o, ev);
}

static bool is_half(const struct event *ev, enum call_part part)
{
    return ev->type == EV_SYSCALL && ev->u.sys.part == part;
}

/*
 * The story of the text timeline and the ladder, where a call's first half
 * waits for the next event told: when that is its own second half (what fell
 * inside the call was left out of the story: a helper's exit, say), the two
 * are one line again, at the time a whole call shows.
 */
static void tell_story(struct output *o, const struct event *ev, const struct story_intro *intro)
{
    if (o->half) {
        struct event *half = o->half;
        o->half = NULL;
        if (ev && is_half(ev, PART_RESUMED) && ev->tid == half->tid && !(intro && intro->n)) {
            struct event *whole = event_copy(ev);
            if (whole) {
                const struct syscall_facts *f = &ev->u.sys;
                whole->u.sys.part = PART_WHOLE;
                whole->t = call_at_return(f) ? f->returned : f->entered;
                tell(o, whole);
                event_free(whole);
                event_free(half);
                return;
            }
        }
        tell(o, half);
        event_free(half);
    }
    if (!ev)
        return;
    for (size_t i = 0; intro && i < intro->n; i++)
        tell(o, intro->ev[i]);
    if (is_half(ev, PART_UNFINISHED) && (o->half = event_copy(ev)))
        return;
    tell(o, ev);
}

/* Put one event on o->out in the chosen format; story and intro as story_tells gave them. */
static void show(struct output *o, const struct event *ev, int story,
                 const struct story_intro *intro)
{
    switch (o->format) {
    case OUT_JSON: json_event(o, o->out, ev); break;
    case OUT_TEXT:
        if (ev->type == EV_VERDICT) {
            event_free(o->verdict);
            o->verdict = event_copy(ev);
        }
        if (story)
            tell_story(o, ev, intro);
        break;
    case OUT_LADDER:
        /* The ladder's times count from the first event of any kind. */
        if (!o->started) {
            o->started = true;
            o->t0 = ev->t;
        }
        if (ev->type == EV_VERDICT)
            ladder_keep(o, ev);
        else if (story)
            tell_story(o, ev, intro);
        break;
    }
}

int output_event(struct output *o, const struct event *ev, struct story_intro *intro_out)
{
    /* Whatever the format, the story is the one the text timeline tells. */
    struct story_intro intro;
    int story = story_tells(o->story, ev, &intro);
    /* A process writes to our own output now: a first half held back goes out before it. */
    if (ev->type == EV_OUTPUT && o->format != OUT_JSON)
        tell_story(o, NULL, NULL);
    if (o->json)
        json_event(o, o->json, ev);
    if (o->out)
        show(o, ev, story, &intro);
    /* A picture tells what the ladder tells (unless the ladder keeps them already). */
    if (o->diagram && !(o->out && o->format == OUT_LADDER) &&
        (ev->type == EV_VERDICT || (story && ev->type != EV_REPEAT_START))) {
        for (size_t i = 0; i < intro.n; i++)
            ladder_keep(o, intro.ev[i]);
        ladder_keep(o, ev);
    }
    if (intro_out)
        *intro_out = intro;
    else
        story_intro_free(&intro);
    return story;
}

void output_finish(struct output *o)
{
    if (o->format != OUT_JSON)
        tell_story(o, NULL, NULL);
    if (o->format == OUT_LADDER)
        ladder_draw(o, o->out);
    if (o->format == OUT_TEXT && o->verdict) {
        char line[2200], verdict[2048];
        const char *bold = o->color ? C_BOLD : "", *off = o->color ? C_OFF : "";
        escape_str(o->verdict->u.verdict, verdict, sizeof verdict);
        snprintf(line, sizeof(line), "%sverdict: %s%s", bold, verdict, off);
        output_line(o, o->out, line);
    }
    flush(o, o->out);
    flush(o, o->json);
    if (story_lost(o->story))
        fprintf(stderr,
                "sigtrace: out of memory: %lu processes could not be followed on the timeline, "
                "so everything they did is shown\n",
                story_lost(o->story));
    if (story_untold(o->story))
        fprintf(stderr,
                "sigtrace: %lu calls about SIGPIPE, made before their process used a socket, "
                "are left out of the timeline (it shows the last %d of each process); "
                "--json has them all\n",
                story_untold(o->story), STORY_HELD);
}
