/*
 * json: JSON Lines, one object an event, in the format DESIGN.md "Events"
 * gives (a contract: tests read it, and changes to it are additive).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "describe.h"
#include "escape.h"
#include "output_int.h"
#include "vocab.h"

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

/* A JSON string from bytes (escape.h says how each byte is written). */
static void jbytes(struct json *j, const uint8_t *s, size_t len)
{
    jput(j, "\"", 1);
    size_t room = sizeof(j->buf) - 1 - j->n; /* what jput would take */
    if (room > 0)
        room--; /* and the closing quote */
    j->n += escape_json(s, len, j->buf + j->n, room);
    j->buf[j->n] = '\0';
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
    char ns[10] = { '.' };
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

/*
 * ["POLLIN","POLLHUP"]: the bits of a poll mask by name (unknown ones in
 * hex); a select's sets by theirs (names: select_sets), ["in","out"].
 */
static void jpoll_flags(struct json *j, const struct tok *names, unsigned bits)
{
    jput(j, "[", 1);
    int k = 0;
    for (const struct tok *t = names; t->name; t++)
        if (bits & (unsigned)t->value) {
            jraw(j, "%s\"%s\"", k++ ? "," : "", t->name);
            bits &= ~(unsigned)t->value;
        }
    if (bits)
        jraw(j, "%s\"%#x\"", k ? "," : "", bits);
    jput(j, "]", 1);
}

/*
 * A wait's followed sockets: "fds":[{"fd":4,"events":[...],"revents":[...]}]
 * (a select's sets as events: "in", "out", "except"), and the rest.
 */
static void jwait(struct json *j, const struct syscall_facts *f, bool unfinished)
{
    const struct wait_facts *w = &f->wait;
    bool epoll = f->syscall[0] == 'e';
    const struct tok *names = w->sets ? select_sets : poll_event_names;
    jraw(j, ",\"%s\":%lld,\"fds\":[", epoll ? "maxevents" : "nfds", f->len);
    for (int i = 0; i < w->nfds; i++) {
        jraw(j, "%s{\"fd\":%d,\"events\":", i ? "," : "", w->fds[i].fd);
        jpoll_flags(j, names, w->fds[i].events);
        if (!unfinished && !epoll) {
            jraw(j, ",\"revents\":");
            jpoll_flags(j, names, w->fds[i].revents);
        }
        jput(j, "}", 1);
    }
    if (epoll && !unfinished) { /* epoll_wait: what came, not on which fd */
        jraw(j, "],\"epfd\":%d,\"ready\":[", f->fd2);
        for (int i = 0; i < w->nready; i++) {
            if (i)
                jput(j, ",", 1);
            jpoll_flags(j, names, w->ready[i]);
        }
    }
    jraw(j, "],\"fds_not_shown\":%d,\"timeout_ms\":", w->others + w->more);
    if (w->timeout_ms < -1)
        jraw(j, "null");
    else
        jraw(j, "%lld", w->timeout_ms);
    if (!unfinished && w->slept != SLEPT_UNKNOWN)
        jraw(j, ",\"slept\":%s", w->slept == SLEPT_YES ? "true" : "false");
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
    /* The first half of a split call has no result yet: it says so, and when it entered. */
    bool unfinished = f->part == PART_UNFINISHED || f->part == PART_ENTRY || f->part == PART_NEVER;
    if (unfinished) {
        jstr(j, "part", f->part == PART_NEVER ? "never_returned" : "unfinished");
    } else {
        jraw(j, ",\"ret\":%lld", f->ret);
        if (f->err)
            jstr(j, "errno", errno_name(f->err));
        if (f->part == PART_RESUMED)
            jstr(j, "part", "resumed");
    }
    if (f->entered.tv_sec)
        jtime(j, "entered", &f->entered);
    if (!unfinished && f->returned.tv_sec)
        jtime(j, "returned", &f->returned);
    jraw(j, ",\"repeat\":%lu", repeat);
    if (f->kind == CALL_WAIT && !f->args[0])
        jwait(j, f, unfinished);
    else if (f->len >= 0 && f->kind != CALL_LISTEN && f->kind != CALL_SHUTDOWN)
        jraw(j, ",\"len\":%lld", f->len);
    if (f->kind == CALL_LISTEN)
        jraw(j, ",\"backlog\":%lld", f->len);
    if (f->kind == CALL_SHUTDOWN)
        jstr(j, "how", tok_name_or(shutdown_modes, f->len, "?"));
    if (f->kind == CALL_SOCKET) {
        const char *d = tok_name(socket_domains, f->domain);
        const char *t = tok_name(socket_types, f->socktype & SOCK_TYPE_MASK);
        if (d)
            jstr(j, "domain", d);
        if (t)
            jstr(j, "socktype", t);
    }
    /* A send's bytes are there at its entry; a receive's only once it returned. */
    if (f->datalen && (f->kind == CALL_SEND || !unfinished)) {
        jraw(j, ",\"data\":");
        jbytes(j, f->data, f->datalen);
    }
    /* Sockets handed over (SCM_RIGHTS): those sent, at the send; those received, once back. */
    if ((f->pass.n || f->pass.more) && (f->kind == CALL_SEND || !unfinished)) {
        jraw(j, ",\"%s\":[", f->kind == CALL_SEND ? "passed" : "received");
        for (int i = 0; i < f->pass.n; i++)
            jraw(j, "%s%d", i ? "," : "", f->pass.fds[i].fd);
        jput(j, "]", 1);
        if (f->pass.more)
            jraw(j, ",\"rights_not_shown\":%d", f->pass.more);
        if (f->pass.control_cut)
            jraw(j, ",\"control_cut\":%llu", (unsigned long long)f->pass.control_cut);
    }
    jendpoint(j, "addr", &f->addr);
    if (!unfinished) {
        jendpoint(j, "local", &f->local);
        if (!f->listening)
            jendpoint(j, "remote", &f->remote);
        jraw(j, ",\"duration\":%.9f", f->duration);
    }
    describe_call(f, what, sizeof(what));
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
    jstr(j, "disposition", tok_name(dispositions, s->disposition));
    if (s->disposition == DISP_DEFAULT)
        jstr(j, "action", tok_name(sig_action_names, s->action));
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
    jbegin(j, "packet", &ev->t);
    jstr(j, "src", p->src);
    jstr(j, "dst", p->dst);
    if (p->from[0])
        jstr(j, "from", p->from);
    if (p->to[0])
        jstr(j, "to", p->to);
    jputs(j, ",\"flags\":[");
    int first = 1;
    for (const struct tok *flag = tcp_flag_names; flag->name; flag++)
        if (p->seg.flags & flag->value) {
            jputs(j, first ? "\"" : ",\"");
            jputs(j, flag->name);
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
        jbytes(j, p->seg.payload,
               p->seg.payload_caplen < EVENT_PREVIEW ? p->seg.payload_caplen : EVENT_PREVIEW);
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
            ok = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                 *k == '_';
        static const char *const reserved[] = { "t", "type", "pid", "tid", "proc", "line", "note" };
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]) && ok; i++)
            ok = strcmp(word, reserved[i]) != 0;
        if (ok)
            jstr(j, word, eq + 1);
    }
    jstr(j, "line", ev->u.verdict);
    jstr(j, "note", ev->note);
}

void json_event(struct output *o, FILE *f, const struct event *ev)
{
    struct json j;
    switch (ev->type) {
    case EV_PACKET: json_packet(&j, ev); break;
    case EV_SYSCALL: json_syscall(&j, ev, ev->repeat); break;
    case EV_SIGNAL: json_signal(&j, ev, ev->repeat); break;
    case EV_EXEC:
        jbegin(&j, "exec", &ev->t);
        jproc(&j, ev);
        jstr(&j, "path", ev->u.exec.path);
        jstr(&j, "argv", ev->u.exec.argv);
        if (ev->u.exec.argv_total > strlen(ev->u.exec.argv)) {
            jkey(&j, "argv_cut");
            juint(&j, ev->u.exec.argv_total - strlen(ev->u.exec.argv));
        }
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
        jraw(&j, ",\"orig_ip_bytes\":%llu,\"resp_ip_bytes\":%llu",
             (unsigned long long)c->orig_ip_bytes, (unsigned long long)c->resp_ip_bytes);
        jraw(&j, ",\"missed_bytes\":%llu", (unsigned long long)c->missed_bytes);
        if (c->capture_cut)
            jraw(&j, ",\"capture_cut\":true");
        if (c->tunnel) {
            jstr(&j, "tunnel", c->tunnel);
            jstr(&j, "tunnel_src", c->tunnel_src);
            jstr(&j, "tunnel_dst", c->tunnel_dst);
        }
        jtime(&j, "t_first", &c->first);
        jraw(&j, ",\"duration\":%.9f", ts_diff(&c->last, &c->first));
        jstr(&j, "note", ev->note);
        break;
    }
    case EV_VERDICT: json_verdict(&j, ev); break;
    case EV_OUTPUT: json_output(&j, ev, ev->repeat); break;
    case EV_SKIPPED:
        jbegin(&j, "skipped", &ev->t);
        jstr(&j, "reason", ev->u.skipped.reason);
        jkey(&j, "frames");
        juint(&j, ev->u.skipped.frames);
        break;
    case EV_REPEAT_START: return;
    case EV_REPEAT: {
        /* One line for each event of the cycle, with how many more times it came. */
        const struct repeat_facts *r = &ev->u.rep;
        double span = ts_diff(&r->last, &r->first);
        for (int i = 0; i < r->period; i++) {
            struct event copy = *r->pattern[i];
            copy.t = ev->t; /* the last repeat's, unless later events had to be shown first */
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
            output_line(o, f, j.buf);
        }
        return;
    }
    }
    jput(&j, "}", 1);
    output_line(o, f, j.buf);
}

void json_capture(struct output *o, FILE *f, const struct timespec *t, unsigned long received,
                  unsigned long dropped, unsigned long ifdropped)
{
    struct json j;
    jbegin(&j, "capture", t);
    jkey(&j, "received");
    juint(&j, received);
    jkey(&j, "dropped");
    juint(&j, dropped);
    jkey(&j, "ifdropped");
    juint(&j, ifdropped);
    jput(&j, "}", 1);
    output_line(o, f, j.buf);
}
