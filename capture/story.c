/*
 * story: what the timeline tells (story.h), and the labels of processes.
 */
#include "story.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct label {
    pid_t pid;
    char comm[16];
    char text[40];
};

/* What the story knows of a process. */
struct proc_view {
    pid_t pid;
    bool involved;                  /* it made a socket call: everything it does matters */
    bool server;                    /* it listened or accepted: the ladder's right side */
    struct event *exec;             /* its exec, told once it becomes involved */
    struct event *held[STORY_HELD]; /* its calls about SIGPIPE since, told after it */
    size_t nheld;
    bool flood_told; /* its repeated writes to the output were said to flood it */
    struct proc_view *next;
};

struct story {
    struct label *labels;
    size_t nlabels, caplabels;
    struct proc_view *views;
    unsigned long lost;   /* views that could not be allocated */
    unsigned long untold; /* calls about SIGPIPE left out of an introduction */
};

/* Forget what v kept for its introduction: its exec, and its calls made since. */
static void forget_intro(struct proc_view *v)
{
    event_free(v->exec);
    v->exec = NULL;
    for (size_t i = 0; i < v->nheld; i++)
        event_free(v->held[i]);
    v->nheld = 0;
}

/* Keep a call about SIGPIPE for v's introduction: the last STORY_HELD, the earlier counted. */
static void hold(struct story *st, struct proc_view *v, const struct event *ev)
{
    struct event *copy = event_copy(ev);
    if (!copy) {
        st->untold++;
        return;
    }
    if (v->nheld == STORY_HELD) {
        event_free(v->held[0]);
        memmove(v->held, v->held + 1, (STORY_HELD - 1) * sizeof(v->held[0]));
        v->nheld--;
        st->untold++;
    }
    v->held[v->nheld++] = copy;
}

/* Is every event of a repeat's cycle a call about SIGPIPE (a loop of signal() calls)? */
static bool about_sigpipe_only(const struct repeat_facts *r)
{
    for (int i = 0; i < r->period; i++)
        if (r->pattern[i]->type != EV_SYSCALL || r->pattern[i]->u.sys.kind != CALL_SIGNAL)
            return false;
    return r->period > 0;
}

/* Hand v's introduction to intro, which then owns it. */
static void introduce(struct proc_view *v, struct story_intro *intro)
{
    if (v->exec)
        intro->ev[intro->n++] = v->exec;
    for (size_t i = 0; i < v->nheld; i++)
        intro->ev[intro->n++] = v->held[i];
    v->exec = NULL;
    v->nheld = 0;
}

void story_intro_free(struct story_intro *in)
{
    for (size_t i = 0; i < in->n; i++)
        event_free(in->ev[i]);
    in->n = 0;
}

struct story *story_new(void) { return calloc(1, sizeof(struct story)); }

void story_free(struct story *st)
{
    if (!st)
        return;
    free(st->labels);
    while (st->views) {
        struct proc_view *next = st->views->next;
        forget_intro(st->views);
        free(st->views);
        st->views = next;
    }
    free(st);
}

unsigned long story_lost(const struct story *st) { return st->lost; }

unsigned long story_untold(const struct story *st) { return st->untold; }

const char *story_label(struct story *st, pid_t pid, const char *comm)
{
    int same = 0;
    for (size_t i = 0; i < st->nlabels; i++) {
        if (st->labels[i].pid == pid && !strcmp(st->labels[i].comm, comm))
            return st->labels[i].text;
        if (!strcmp(st->labels[i].comm, comm))
            same++;
    }
    if (st->nlabels == st->caplabels) {
        size_t cap = st->caplabels ? st->caplabels * 2 : 16;
        struct label *labels = realloc(st->labels, cap * sizeof(*labels));
        if (!labels)
            return comm;
        st->labels = labels;
        st->caplabels = cap;
    }
    struct label *l = &st->labels[st->nlabels++];
    l->pid = pid;
    snprintf(l->comm, sizeof(l->comm), "%s", comm);
    if (same)
        snprintf(l->text, sizeof(l->text), "%s %d", comm, same + 1);
    else
        snprintf(l->text, sizeof(l->text), "%s", comm);
    return l->text;
}

/* What the story knows of pid; NULL (and counted) when out of memory. */
static struct proc_view *view(struct story *st, pid_t pid)
{
    for (struct proc_view *v = st->views; v; v = v->next)
        if (v->pid == pid)
            return v;
    struct proc_view *v = calloc(1, sizeof(*v));
    if (!v) {
        st->lost++;
        return NULL;
    }
    v->pid = pid;
    v->next = st->views;
    st->views = v;
    return v;
}

bool story_is_server(struct story *st, pid_t pid)
{
    for (struct proc_view *v = st->views; v; v = v->next)
        if (v->pid == pid)
            return v->server;
    return false;
}

bool story_tells(struct story *st, const struct event *ev, struct story_intro *intro)
{
    intro->n = 0;
    struct proc_view *v = NULL;
    switch (ev->type) {
    case EV_PACKET:
    case EV_CONNECTION: return true;
    case EV_VERDICT: return false; /* at the end */
    case EV_OUTPUT: return false;  /* the process's own write shows it */
    case EV_SKIPPED: return false; /* standard error says it, at the end */
    default: break;
    }
    if (!(v = view(st, ev->pid)))
        return true; /* forgotten for want of memory: better told than lost */
    switch (ev->type) {
    case EV_REPEAT:
    case EV_REPEAT_START:
        if (!v->involved && about_sigpipe_only(&ev->u.rep))
            hold(st, v, ev);
        return v->involved;
    case EV_SYSCALL:
        /*
         * What SIGPIPE will do matters to a process that touches sockets: a
         * helper's stays out, and a server's, made before its socket(), waits.
         */
        if (ev->u.sys.kind == CALL_SIGNAL && !v->involved) {
            hold(st, v, ev);
            return false;
        }
        if (!v->involved) {
            v->involved = true;
            introduce(v, intro); /* where it came from, and what it made SIGPIPE do */
        }
        if (ev->u.sys.kind == CALL_LISTEN || ev->u.sys.kind == CALL_ACCEPT)
            v->server = true;
        return true;
    case EV_EXEC:
        /* The new program keeps no handler; an ignored SIGPIPE its exec's note tells. */
        forget_intro(v);
        if (v->involved || ev->top)
            return true;
        v->exec = event_copy(ev);
        return false;
    case EV_SIGNAL:
        return v->involved || (ev->u.sig.disposition == DISP_DEFAULT &&
                               ev->u.sig.action != ACT_IGNORE && ev->u.sig.action != ACT_CONTINUE);
    case EV_EXIT: forget_intro(v); return v->involved || ev->top || ev->u.exit.signo;
    default: return false;
    }
}

bool story_floods(struct story *st, const struct event *ev, double *per_second, long long *bytes)
{
    if (ev->type != EV_REPEAT && ev->type != EV_REPEAT_START)
        return false;
    const struct repeat_facts *r = &ev->u.rep;
    /* At the start, the one cycle seen so far gives the pace; at the end, all of them. */
    double span = ts_diff(&r->last, &r->first);
    double pace = span > 0 ? (ev->type == EV_REPEAT ? r->count[0] : 1) / span : 0;
    long long written = 0;
    for (int i = 0; i < r->period; i++) {
        const struct output_facts *w = &r->pattern[i]->u.output;
        if (r->pattern[i]->type == EV_OUTPUT)
            written += w->len >= 0 ? w->len : w->textlen;
    }
    if (written == 0 || pace < FLOOD_PER_SECOND)
        return false;
    struct proc_view *v = view(st, ev->pid);
    if (!v || v->flood_told)
        return false;
    v->flood_told = true;
    *per_second = ev->type == EV_REPEAT ? pace : 0;
    *bytes = written;
    return true;
}
