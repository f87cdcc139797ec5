/*
 * describe: an event in words a programmer reads: who, what, and its note.
 */
#include "describe.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "escape.h"
#include "vocab.h"

/*
 * A wait's followed sockets, "[{fd=4, POLLIN}, ... (+2 more)]": their events,
 * and how many fds are not shown (others, sockets past the kept, entries
 * past those read); or (revents) what came on those shown.
 */
static size_t wait_fds_str(const struct wait_facts *w, bool revents, char *buf, size_t len)
{
    char flags[96];
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    PUT("[");
    int shown = 0;
    for (int i = 0; i < w->nfds; i++) {
        unsigned ev = revents ? w->fds[i].revents : w->fds[i].events;
        if (revents && !ev)
            continue;
        PUT("%s{fd=%d, %s}", shown++ ? ", " : "", w->fds[i].fd,
            tok_flags(poll_event_names, ev, flags, sizeof flags));
    }
    if (!revents && (w->others || w->more))
        PUT("%s... (+%d more)", shown ? ", " : "", w->others + w->more);
    PUT("]");
#undef PUT
    return n;
}

/*
 * select's sets, each "[4 5]" (the followed sockets in it, and "... (+2
 * more)" for its fds not shown) or NULL: at the entry, what was asked
 * (revents false); at the exit, "in [4], out [5]", the sets with a shown
 * socket ready.
 */
static size_t select_sets_str(const struct wait_facts *w, bool revents, char *buf, size_t len)
{
    size_t n = 0;
    int nsets = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    for (int s = 0; s < WAIT_SETS; s++) {
        unsigned bit = (unsigned)select_sets[s].value;
        int shown = 0;
        if (!revents && (w->sets_null & (1u << s))) {
            PUT("%sNULL", s ? ", " : "");
            continue;
        }
        for (int i = 0; i < w->nfds; i++) {
            if (!((revents ? w->fds[i].revents : w->fds[i].events) & bit))
                continue;
            if (!shown++)
                PUT("%s%s%s[", nsets++ ? ", " : "", revents ? select_sets[s].name : "",
                    revents ? " " : "");
            else
                PUT(" ");
            PUT("%d", w->fds[i].fd);
        }
        if (revents && shown)
            PUT("]");
        if (revents)
            continue;
        if (!shown)
            PUT("%s[", nsets++ ? ", " : "");
        if (w->set_more[s])
            PUT("%s... (+%d more)", shown ? " " : "", w->set_more[s]);
        PUT("]");
    }
#undef PUT
    return n;
}

/* select(6, [4 5], [], NULL, {tv_sec=5, tv_usec=0}) and pselect's (... {tv_sec, tv_nsec}, &sigmask). */
static size_t select_str(const struct syscall_facts *f, char *buf, size_t len)
{
    const struct wait_facts *w = &f->wait;
    bool pselect = strcmp(f->call, "select") != 0;
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    PUT("%s(%lld, ", f->call, f->len);
    n += select_sets_str(w, false, buf + n, n < len ? len - n : 0);
    if (w->timeout_ms == -1)
        PUT(", NULL");
    else if (w->timeout_ms < -1)
        PUT(", &timeout");
    else if (pselect)
        PUT(", {tv_sec=%lld, tv_nsec=%ld}", (long long)w->timeout.tv_sec, w->timeout.tv_nsec);
    else
        PUT(", {tv_sec=%lld, tv_usec=%ld}", (long long)w->timeout.tv_sec,
            w->timeout.tv_nsec / 1000);
    PUT("%s)", pselect ? ", &sigmask" : "");
#undef PUT
    return n;
}

/* The followed sockets an SCM_RIGHTS message carried: "SCM_RIGHTS [5 6 ... (+1 more)]". */
static size_t rights_str(const struct pass_facts *pass, char *buf, size_t len)
{
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    PUT("SCM_RIGHTS [");
    for (int i = 0; i < pass->n; i++)
        PUT("%s%d", i ? " " : "", pass->fds[i].fd);
    if (pass->more)
        PUT("%s... (+%d more)", pass->n ? " " : "", pass->more);
    PUT("]");
#undef PUT
    return n;
}

/* "send(4, "done\n", 5) = -1 EPIPE" */
void describe_call(const struct syscall_facts *f, char *buf, size_t len)
{
    char a[64], q[128], num[32], flags[96];
    size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
    if (f->part == PART_RESUMED) {
        /* The second half of a split call: its result, and how long it ran. */
        PUT("... %s resumed", f->call);
        goto result;
    }
    /* The closing part of a call its process's end cut short: the call, again. */
    if (f->part == PART_NEVER)
        PUT("... ");
    /* Calls that wrote out their own arguments (calls_*.c), as strace shows them. */
    enum call_kind kind = f->args[0] ? CALL_OWN_ARGS : f->kind;
    switch (kind) {
    case CALL_OWN_ARGS:
    case CALL_DUP:
    case CALL_OPTION:
    case CALL_SIGNAL: PUT("%s(%s)", f->call, f->args); break;
    case CALL_SOCKET: {
        const char *d = tok_name(socket_domains, f->domain);
        const char *t = tok_name(socket_types, f->socktype & SOCK_TYPE_MASK);
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
    case CALL_LISTEN: PUT("listen(%d, %lld)", f->fd, f->len); break;
    case CALL_ACCEPT:
        if (f->msg_flags)
            PUT("%s(%d, %s)", f->call, f->fd,
                tok_flags(accept4_flag_names, (unsigned)f->msg_flags, flags, sizeof(flags)));
        else
            PUT("%s(%d)", f->call, f->fd);
        break;
    case CALL_SEND:
        escape_c_literal(f->data, f->datalen,
                         f->ret > (long long)f->datalen || f->len > (long long)f->datalen, 24, q,
                         sizeof(q));
        if (f->addr.family)
            PUT("%s(%d, %s, to %s)", f->call, f->fd, q, endpoint_str(&f->addr, a, sizeof(a)));
        else if (f->len >= 0)
            PUT("%s(%d, %s, %lld", f->call, f->fd, q, f->len);
        else
            PUT("%s(%d, %s", f->call, f->fd, q);
        if (f->pass.n || f->pass.more) {
            PUT(", ");
            n += rights_str(&f->pass, buf + n, n < len ? len - n : 0);
        }
        if (!f->addr.family)
            PUT("%s%s)", f->msg_flags ? ", " : "",
                f->msg_flags
                    ? tok_flags(msg_flag_names, (unsigned)f->msg_flags, flags, sizeof(flags))
                    : "");
        break;
    case CALL_RECV:
        if (f->len >= 0)
            PUT("%s(%d, %lld", f->call, f->fd, f->len);
        else
            PUT("%s(%d", f->call, f->fd);
        PUT("%s%s)", f->msg_flags ? ", " : "",
            f->msg_flags ? tok_flags(msg_flag_names, (unsigned)f->msg_flags, flags, sizeof(flags))
                         : "");
        break;
    case CALL_SHUTDOWN:
        PUT("shutdown(%d, %s)", f->fd, tok_name_or(shutdown_modes, f->len, "?"));
        break;
    case CALL_CLOSE: PUT("close(%d)", f->fd); break;
    case CALL_WAIT:
        if (f->wait.sets) {
            n += select_str(f, buf + n, n < len ? len - n : 0);
            break;
        }
        if (f->syscall[0] == 'e') /* epoll_wait ...: the instance, and the sockets it watches */
            PUT("%s(%d, watching ", f->call, f->fd2);
        else
            PUT("%s(", f->call);
        n += wait_fds_str(&f->wait, false, buf + n, n < len ? len - n : 0);
        PUT(", %lld, ", f->len);
        if (f->syscall[1] != 'p' && f->syscall[0] != 'e') /* poll */
            PUT("%lld)", f->wait.timeout_ms);
        else if (f->syscall[0] == 'e' && strcmp(f->syscall, "epoll_pwait2") != 0)
            PUT("%lld)", f->wait.timeout_ms);
        else if (f->wait.timeout_ms == -1)
            PUT("NULL)");
        else if (f->wait.timeout_ms < -1)
            PUT("&timeout)");
        else
            PUT("{%lld ms})", f->wait.timeout_ms);
        break;
    }
    if (f->part == PART_UNFINISHED || f->part == PART_ENTRY) {
        PUT(" ...");
        return;
    }
    if (f->part == PART_NEVER) {
        PUT(" never returned");
        return;
    }
result:
    if (f->err)
        PUT(" = -1 %s", errno_name(f->err));
    else {
        snprintf(num, sizeof(num), "%lld", f->ret);
        PUT(" = %s", num);
    }
    if (f->kind == CALL_ACCEPT && !f->err && f->remote.family)
        PUT(" from %s", endpoint_str(&f->remote, a, sizeof(a)));
    if (f->kind == CALL_RECV && f->ret > 0 && (f->datalen || !f->args[0])) {
        escape_c_literal(f->data, f->datalen, f->ret > (long long)f->datalen, 24, q, sizeof(q));
        PUT(" %s", q);
    }
    /* What a receive brought; what an mmsg send (its own arguments) handed over. */
    if ((f->kind == CALL_RECV || f->args[0]) && (f->pass.n || f->pass.more)) {
        PUT(", ");
        n += rights_str(&f->pass, buf + n, n < len ? len - n : 0);
    }
    if (f->kind == CALL_WAIT && f->ret > 0 && f->syscall[0] == 'e' && !f->args[0]) {
        /* epoll_wait: the events only; which fd each is, its data (the program's own) says. */
        PUT(" [");
        for (int i = 0; i < f->wait.nready; i++)
            PUT("%s{%s}", i ? ", " : "",
                tok_flags(poll_event_names, f->wait.ready[i], flags, sizeof flags));
        if (f->ret > f->wait.nready)
            PUT("%s... (+%lld more)", f->wait.nready ? ", " : "", f->ret - f->wait.nready);
        PUT("]");
    } else if (f->kind == CALL_WAIT && f->wait.sets && !f->err) {
        /* As strace: what came on the shown sockets, set by set; or that none did. */
        char ready[128];
        if (f->ret == 0)
            PUT(" (Timeout)");
        else if (select_sets_str(&f->wait, true, ready, sizeof ready) > 0)
            PUT(" (%s)", ready);
    } else if (f->kind == CALL_WAIT && f->ret > 0) {
        PUT(" ");
        n += wait_fds_str(&f->wait, true, buf + n, n < len ? len - n : 0);
    }
    if (f->part == PART_RESUMED)
        PUT(" (%.1f ms)", f->duration * 1e3);
#undef PUT
}

const struct tok dispositions[] = {
    { DISP_DEFAULT, "default" },
    { DISP_IGNORED, "ignored" },
    { DISP_CAUGHT, "caught" },
    { 0, NULL },
};

void describe_signal(const struct signal_facts *s, char *buf, size_t len)
{
    if (s->disposition == DISP_DEFAULT)
        snprintf(buf, len, "%s (default: %s)", signal_name(s->signo),
                 tok_name(sig_action_names, s->action));
    else
        snprintf(buf, len, "%s (%s)", signal_name(s->signo),
                 tok_name(dispositions, s->disposition));
}

static void packet_what(const struct packet_facts *p, char *buf, size_t len)
{
    char flags[48], q[128];
    decode_flags_str(p->seg.flags, flags, sizeof(flags));
    size_t n = (size_t)snprintf(buf, len, "%s seq %u", flags, p->rel_seq);
    if (p->seg.flags & TCPF_ACK && n < len)
        n += (size_t)snprintf(buf + n, len - n, " ack %u", p->rel_ack);
    if (p->seg.payload_len && n < len) {
        escape_c_literal(p->seg.payload, p->seg.payload_caplen < 24 ? p->seg.payload_caplen : 24,
                         p->seg.payload_len > 24, 24, q, sizeof(q));
        snprintf(buf + n, len - n, " len %u %s", p->seg.payload_len, q);
    }
}

static void packet_who(const struct packet_facts *p, char *buf, size_t len)
{
    char from[128], to[128];
    escape_str(p->from_label[0] ? p->from_label : p->src, from, sizeof from);
    escape_str(p->to_label[0] ? p->to_label : p->dst, to, sizeof to);
    snprintf(buf, len, "%s\u2192%s", from, to);
}

/* "exec ARGV", cut where it was read short, with the mark that says by how much. */
static void exec_what(const struct exec_facts *e, char *buf, size_t len)
{
    char args[1024];
    size_t have = strlen(e->argv);
    if (have)
        escape_cut((const uint8_t *)e->argv, have, e->argv_total > have ? e->argv_total : have,
                   args, sizeof args);
    else
        escape_str(e->path, args, sizeof args);
    snprintf(buf, len, "exec %s", args);
}

static void output_what(const struct output_facts *o, char *buf, size_t len)
{
    char text[160];
    escape_c_literal((const uint8_t *)o->text, o->textlen, 0, 120, text, sizeof(text));
    snprintf(buf, len, "wrote %s to fd %d", text, o->fd);
}

void describe_who_what(struct story *st, const struct event *ev, char *who, size_t wlen, char *what,
                       size_t len)
{
    escape_str(ev->pid ? story_label(st, ev->pid, ev->proc) : "", who, wlen);
    switch (ev->type) {
    case EV_PACKET:
        packet_who(&ev->u.pkt, who, wlen);
        packet_what(&ev->u.pkt, what, len);
        break;
    case EV_SYSCALL: describe_call(&ev->u.sys, what, len); break;
    case EV_SIGNAL: describe_signal(&ev->u.sig, what, len); break;
    case EV_EXEC: exec_what(&ev->u.exec, what, len); break;
    case EV_EXIT:
        if (ev->u.exit.signo)
            snprintf(what, len, "killed by %s%s", signal_name(ev->u.exit.signo),
                     ev->u.exit.core ? " (core dumped)" : "");
        else
            snprintf(what, len, "exit %d", ev->u.exit.code);
        break;
    case EV_CONNECTION: {
        const struct conn_summary *c = &ev->u.conn;
        char orig[128], resp[128];
        escape_str(c->orig_name, orig, sizeof orig);
        escape_str(c->resp_name, resp, sizeof resp);
        str_append(who, wlen, 0, "connection");
        /* "%s%s%s \u2192 %s%s%s: %s %s", put together without snprintf's parsing. */
        const char *parts[] = {
            orig, orig[0] ? " " : "", c->orig, " \u2192 ", resp, resp[0] ? " " : "", c->resp,
            ": ", c->conn_state,      " ",     c->history
        };
        size_t at = 0;
        if (len)
            what[0] = '\0';
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
            at = str_append(what, len, at, parts[i]);
        int n = (int)at;
        /* Zeek's missed_bytes, where there are any: the history's G and g say no more than "some". */
        if (c->missed_bytes && n >= 0 && (size_t)n < len)
            n += snprintf(what + n, len - (size_t)n, ", %llu byte%s missed",
                          (unsigned long long)c->missed_bytes, c->missed_bytes == 1 ? "" : "s");
        /* What Zeek's tunnel_parents points at: the tunnel's outer ends. */
        if (c->tunnel && n >= 0 && (size_t)n < len)
            snprintf(what + n, len - (size_t)n, ", through %s (%s \u2192 %s)", c->tunnel,
                     c->tunnel_src, c->tunnel_dst);
        break;
    }
    case EV_VERDICT: {
        char verdict[1024];
        snprintf(what, len, "verdict: %s", escape_str(ev->u.verdict, verdict, sizeof verdict));
        break;
    }
    case EV_REPEAT_START: snprintf(what, len, "\u21bb the same again, and again ..."); break;
    case EV_OUTPUT: output_what(&ev->u.output, what, len); break;
    case EV_SKIPPED:
        snprintf(what, len, "skipped %lu frame%s: %s", ev->u.skipped.frames,
                 ev->u.skipped.frames == 1 ? "" : "s", ev->u.skipped.reason);
        break;
    case EV_REPEAT: {
        const struct repeat_facts *r = &ev->u.rep;
        double span = ts_diff(&r->last, &r->first);
        unsigned long times = r->count[0];
        if (span > 0)
            snprintf(what, len, "\u21bb repeated %lu more times in %.3f s (%.0f/s)", times, span,
                     times / span);
        else
            snprintf(what, len, "\u21bb repeated %lu more time%s", times, times == 1 ? "" : "s");
        break;
    }
    }
}

/* The notes are sentences with names in them (a process's, a program's path): escaped whole. */
void describe_note(const struct event *ev, char *buf, size_t len)
{
    /* A note that fits in buf escaped goes straight into it. */
    bool plain = ev->type != EV_REPEAT && ev->type != EV_REPEAT_START;
    size_t notelen = strlen(ev->note);
    if (plain && escape_text((const uint8_t *)ev->note, notelen, 0, buf, len) == notelen)
        return;
    char note[EVENT_NOTE * 4];
    escape_str(ev->note, note, sizeof note);
    if (plain) {
        snprintf(buf, len, "%s", note);
        return;
    }
    const struct repeat_facts *r = &ev->u.rep;
    size_t n = (size_t)snprintf(buf, len, "%s",
                                ev->type == EV_REPEAT_START ? "from here on, this repeats: "
                                                            : "each time: ");
    for (int i = 0; i < r->period && n < len; i++) {
        char what[256];
        const struct event *p = r->pattern[i];
        if (p->type == EV_SYSCALL)
            describe_call(&p->u.sys, what, sizeof(what));
        else if (p->type == EV_SIGNAL)
            describe_signal(&p->u.sig, what, sizeof(what));
        else if (p->type == EV_OUTPUT)
            output_what(&p->u.output, what, sizeof(what));
        else
            snprintf(what, sizeof(what), "?");
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", what);
    }
    if (note[0] && n < len)
        snprintf(buf + n, len - n, "; %s", note);
}

void describe_line(struct story *st, const struct event *ev, char *buf, size_t len)
{
    char who[160], what[1024], note[EVENT_NOTE + 256];
    describe_who_what(st, ev, who, sizeof(who), what, sizeof(what));
    describe_note(ev, note, sizeof(note));
    snprintf(buf, len, "%s%s%s%s%s", who, who[0] ? ": " : "", what, note[0] ? " -- " : "", note);
}
