/*
 * annotate: where each event of a run goes. Packets are tracked and
 * explained (tcp.c, notes_tcp.c) once the timeline lets them out, in time
 * order with the calls of the processes that own their ends; process events
 * are given their past (sockets.c) and explained (notes.c) as they come;
 * everything is printed (output.c) and, with -w, becomes a packet comment.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "notes.h"
#include "run.h"

static void pending_add(struct run *r, const char *text)
{
    if (!r->pcapng)
        return;
    if (r->npending == PENDING_MAX) {
        r->pending_lost++;
        return;
    }
    char *copy = strdup(text);
    if (copy)
        r->pending[r->npending++] = copy;
}

void annotate_pending_clear(struct run *r)
{
    for (size_t i = 0; i < r->npending; i++)
        free(r->pending[i]);
    r->npending = 0;
    r->pending_lost = 0;
}

static void write_packet(struct run *r, const struct event *ev)
{
    char line[1024], lost[64];
    const char *comments[PENDING_MAX + 2];
    size_t n = 0;
    for (size_t i = 0; i < r->npending; i++)
        comments[n++] = r->pending[i];
    if (r->pending_lost) {
        snprintf(lost, sizeof(lost), "(and %lu more events)", r->pending_lost);
        comments[n++] = lost;
    }
    output_describe(r->out, ev, line, sizeof(line));
    comments[n++] = line;
    const struct packet_facts *p = &ev->u.pkt;
    if (pcapng_write_packet(r->pcapng, r->pcapng_if, &ev->t, p->frame, p->caplen, p->wirelen,
                            comments, n) < 0 &&
        !r->failed) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", r->opt.write_path, pcapng_error(r->pcapng));
        r->failed = 1;
    }
    annotate_pending_clear(r);
}

/* A segment's source (or destination) as an endpoint. */
static struct endpoint seg_end(const struct tcp_seg *seg, bool source)
{
    struct endpoint e = { .family = seg->family, .port = source ? seg->sport : seg->dport };
    memcpy(e.addr, source ? seg->src : seg->dst, seg->family == AF_INET ? 4 : 16);
    return e;
}

/*
 * How the timeline and the notes name an end: the owning process as the
 * timeline labels it (label), its name (name, "" if nobody owns it) and, for
 * a note, the label or the role ("the client") where no process owns it.
 */
static void name_end(struct run *r, const struct endpoint *e, const struct endpoint *peer,
                     bool orig, char *name, size_t namelen, char *label, size_t labellen,
                     char *speech, size_t speechlen)
{
    pid_t pid;
    char comm[16];
    if (owners_find(r->owners, e, peer, &pid, comm)) {
        str_append(name, namelen, 0, comm);
        str_append(label, labellen, 0, output_label(r->out, pid, comm));
        str_append(speech, speechlen, 0, label);
    } else {
        name[0] = '\0';
        str_append(label, labellen, 0, orig ? "client" : "server");
        str_append(speech, speechlen, str_append(speech, speechlen, 0, "the "), label);
    }
}

void annotate_connection(const struct conn_summary *s, void *ctx)
{
    struct run *r = ctx;
    /* Out as soon as made: on the stack, not from malloc (a capture has connections by the 100,000). */
    struct event record, *ev = &record;
    char comm[2][16], label[2][40], speech[2][48];
    memset(ev, 0, sizeof *ev);
    ev->type = EV_CONNECTION;
    ev->repeat = 1;
    ev->u.conn = *s;
    ev->u.conn.capture_cut = r->capture_cut;
    ev->t = s->last;
    name_end(r, &s->orig_ep, &s->resp_ep, true, comm[0], sizeof comm[0], label[0], sizeof label[0],
             speech[0], sizeof speech[0]);
    name_end(r, &s->resp_ep, &s->orig_ep, false, comm[1], sizeof comm[1], label[1], sizeof label[1],
             speech[1], sizeof speech[1]);
    /* The summary names only ends a traced process owns. */
    str_append(ev->u.conn.orig_name, sizeof ev->u.conn.orig_name, 0, comm[0][0] ? label[0] : "");
    str_append(ev->u.conn.resp_name, sizeof ev->u.conn.resp_name, 0, comm[1][0] ? label[1] : "");
    notes_connection(&ev->u.conn, speech[0], speech[1], ev->note, sizeof ev->note);
    owners_forget(r->owners, &s->orig_ep, &s->resp_ep);
    if (r->zeek_log)
        connlog_write(r->zeek_log, s);
    output_event(r->out, ev, NULL);
    if (r->pcapng) {
        char line[1024];
        output_describe(r->out, ev, line, sizeof(line));
        pending_add(r, line);
    }
}

/*
 * A packet, in timeline order: track it, name its ends, and say what it is.
 * false if it belongs to no traced process while only theirs are shown.
 */
static bool explain_packet(struct run *r, struct event *ev)
{
    struct packet_facts *p = &ev->u.pkt;
    struct endpoint src = seg_end(&p->seg, true), dst = seg_end(&p->seg, false);
    pid_t pid;
    char comm[16];
    if (r->owned_only && !owners_find(r->owners, &src, &dst, &pid, comm) &&
        !owners_find(r->owners, &dst, &src, &pid, comm))
        return false;
    /* A refused connect's SYN names its port, before the names are read. */
    if ((p->seg.flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
        owners_see_syn(r->owners, &src, &dst);
    struct seg_facts f;
    tcp_track(r->tcp, &p->seg, &ev->t, &f);
    p->from_orig = f.from_orig;
    p->rel_seq = f.rel_seq;
    p->rel_ack = f.rel_ack;
    /* Why a side reset: the processes know what the wire cannot. */
    uint64_t read;
    bool linger_zero;
    if (f.reset_first && owners_read_at_close(r->owners, &src, &dst, &ev->t, &read, &linger_zero) &&
        f.peer_data >= read) {
        f.cause.unread = (long long)(f.peer_data - read);
        f.cause.linger_zero = linger_zero;
        tcp_set_cause(r->tcp, &p->seg, &f.cause);
    }
    if (f.kind == SEG_FIN_FIRST || f.kind == SEG_FIN_SECOND)
        f.closed_by = owners_closed_how(r->owners, &src, &dst, &ev->t, &f.closed_signo);
    if (f.kind == SEG_RST) {
        int signo;
        f.never_accepted = f.rst != RST_AGAIN && f.rst != RST_REFUSED && f.rst != RST_CANCEL &&
                           owners_unaccepted(r->owners, &src, &dst, &ev->t);
        if (f.never_accepted) /* for the connection's record too */
            tcp_set_cause(r->tcp, &p->seg,
                          &(struct rst_cause){ .unread = -1, .never_accepted = true });
        f.peer_closed = owners_closed_how(r->owners, &dst, &src, &ev->t, &signo) != CLOSED_UNKNOWN;
    }
    char x[48], y[48];
    name_end(r, &src, &dst, f.from_orig, p->from, sizeof p->from, p->from_label,
             sizeof p->from_label, x, sizeof x);
    name_end(r, &dst, &src, !f.from_orig, p->to, sizeof p->to, p->to_label, sizeof p->to_label, y,
             sizeof y);
    notes_segment(&f, &p->seg, x, y, ev->note, sizeof ev->note);
    return true;
}

/* Was fd close-on-exec when the process called the exec ev? */
static bool closed_on_exec(const struct event *ev, int fd)
{
    for (int i = 0; i < ev->u.exec.ncloexec; i++)
        if (ev->u.exec.cloexec_fds[i] == fd)
            return true;
    return false;
}

/*
 * A process ends holding connected sockets, or runs a new program holding
 * them close-on-exec: the kernel closes them, and the FIN or RST that
 * follows its exit or exec is that close. Say which.
 */
static void note_implicit_close(struct run *r, struct event *ev)
{
    int fds[8];
    struct endpoint peers[8];
    size_t n = owners_open(r->owners, ev->pid, fds, peers, 8);
    for (size_t i = 0; i < n; i++) {
        char peer[64];
        if (ev->type == EV_EXEC && !closed_on_exec(ev, fds[i]))
            continue;
        size_t used = strlen(ev->note);
        snprintf(ev->note + used, sizeof(ev->note) - used, "%s%s closes fd %d (%sto %s)",
                 used ? "; " : "", ev->type == EV_EXEC ? "exec" : "exit", fds[i],
                 ev->type == EV_EXEC ? "close-on-exec, " : "",
                 endpoint_str(&peers[i], peer, sizeof(peer)));
    }
}

/* An event leaves the timeline: annotate what needs the others, and print it. */
void annotate_event(struct run *r, struct event *ev)
{
    char line[1024];
    if (ev->type == EV_PACKET) {
        if (!explain_packet(r, ev)) {
            r->others++;
            event_free(ev);
            return;
        }
    } else if (ev->type == EV_SYSCALL) {
        /* The packets' notes name a process as the timeline does: "client 2". */
        snprintf(ev->label, sizeof(ev->label), "%s", output_label(r->out, ev->pid, ev->proc));
        /*
         * A first half made from the result (what it waited for came while
         * it ran) knows the result already: the packets that follow it are
         * explained knowing it (whose port a refused connect's SYN came
         * from, what a process had read when its close sent a RST). A
         * receive's bytes count once, at its second half.
         */
        const struct syscall_facts *f = &ev->u.sys;
        if (f->part == PART_NEVER)
            notes_explain(ev); /* the timeline made it: how its process ended */
        else if (f->part != PART_UNFINISHED || (f->returned.tv_sec && f->kind != CALL_RECV))
            owners_learn(r->owners, ev);
    } else if (ev->type == EV_EXIT || ev->type == EV_EXEC) {
        note_implicit_close(r, ev);
        owners_learn(r->owners, ev);
    } else if (ev->type == EV_REPEAT) {
        notes_explain(ev); /* the timeline made it: what it says of the process */
    }
    if (ev->type == EV_VERDICT)
        snprintf(r->verdict, sizeof(r->verdict), "%s", ev->u.verdict);
    /* The pcapng comments tell the story the text timeline tells, whatever the format. */
    struct story_intro intro;
    int story = output_event(r->out, ev, &intro);
    if (r->pcapng) {
        for (size_t i = 0; i < intro.n; i++) {
            output_describe(r->out, intro.ev[i], line, sizeof(line));
            pending_add(r, line);
        }
        if (ev->type == EV_PACKET)
            write_packet(r, ev);
        else if (story && ev->type != EV_REPEAT_START) {
            output_describe(r->out, ev, line, sizeof(line));
            pending_add(r, line);
        }
    }
    r->last_t = ev->t;
    story_intro_free(&intro);
    event_free(ev);
}

/*
 * A traced process is about to write to our own standard output (the
 * scenario's lines): it waits in its stop until we return. Everything that
 * happened before that moment goes out now, window or not, so that its line
 * follows the events it speaks of instead of running ahead of them. The
 * capture is read first: a packet sent before the write is in its buffer
 * already (immediate mode). The write itself is an event like the others:
 * a loop that prints the same line again and again collapses.
 */
static void output_due(struct run *r, struct event *ev)
{
    if (r->cap)
        capture_drain(r->cap, DRAIN_BATCHES, annotate_packet, r);
    /*
     * Not past an exec under way, though: its event, stamped at its entry,
     * is made when it completes. What came after that entry (this write too)
     * waits for it: the write's own bytes may then reach the terminal before
     * those few lines, but the timeline never goes back.
     */
    struct timespec t = ev->t, since;
    if (r->tracer && trace_exec_since(r->tracer, &since) && ts_cmp(&since, &t) <= 0)
        t = ts_before(&since);
    pid_t tid = ev->tid;
    timeline_push(r->timeline, ev);
    struct event *older;
    while ((older = timeline_pop_until(r->timeline, &t, tid)))
        annotate_event(r, older);
    output_flush(r->out); /* before the write goes ahead */
}

/*
 * From the tracer: explain, then into the timeline. A call's entry only
 * marks where it began. Before a call's result goes in, the capture is
 * read: the packets that came while it ran are in its buffer already
 * (immediate mode), and whether the call is shown whole or split around
 * them depends on their being in the timeline.
 */
void annotate_process_event(struct event *ev, void *ctx)
{
    struct run *r = ctx;
    if (ev->type == EV_OUTPUT) {
        output_due(r, ev);
        return;
    }
    if (ev->type == EV_SYSCALL && ev->u.sys.part == PART_ENTRY) {
        timeline_enter(r->timeline, ev);
        return;
    }
    if (r->cap && (ev->type == EV_SYSCALL || ev->type == EV_EXIT))
        capture_drain(r->cap, DRAIN_BATCHES, annotate_packet, r);
    sockets_see(r->sockets, ev);
    notes_explain(ev);
    timeline_push(r->timeline, ev);
}

/* One more frame skipped for this reason (a string that lives as long as the program). */
static void skip_frame(struct run *r, const char *reason)
{
    size_t i = 0;
    while (i < r->nskipped && strcmp(r->skipped[i].reason, reason) != 0)
        i++;
    if (i == r->nskipped) {
        if (r->nskipped == SKIP_REASONS_MAX)
            i = SKIP_REASONS_MAX - 1;
        else
            r->skipped[r->nskipped++].reason = reason;
    }
    r->skipped[i].frames++;
}

/*
 * The end of the run: the frames skipped, by reason, as JSON events and on
 * standard error, and the packets left out.
 */
void annotate_report_skipped(struct run *r)
{
    unsigned long total = 0;
    char line[1024];
    size_t n = 0;
    for (size_t i = 0; i < r->nskipped; i++) {
        struct event *ev = event_new(EV_SKIPPED);
        if (ev) {
            ev->t = r->last_t;
            ev->u.skipped = r->skipped[i];
            output_event(r->out, ev, NULL);
            event_free(ev);
        }
        total += r->skipped[i].frames;
        n += (size_t)snprintf(line + n, n < sizeof line ? sizeof line - n : 0, "%s%lu %s",
                              i ? ", " : "", r->skipped[i].frames, r->skipped[i].reason);
    }
    if (total)
        fprintf(stderr, PROG ": skipped %lu frame%s with no TCP segment it could read: %s\n", total,
                total == 1 ? "" : "s", line);
    if (r->others)
        fprintf(stderr, PROG ": left out %lu packet%s between endpoints no traced process used\n",
                r->others, r->others == 1 ? "" : "s");
    if (r->caplen_over)
        fprintf(stderr,
                PROG ": %lu frame%s claimed more bytes captured than the packet had on the wire "
                     "(caplen > len, which no capture writes: the file was edited or damaged); "
                     "read as captured\n",
                r->caplen_over, r->caplen_over == 1 ? "" : "s");
}

/*
 * A frame's TCP segment, or false when the frame has none this run can read
 * (its time impossible, or decode found no segment): counted by the reason.
 */
static bool decoded(struct run *r, const struct timespec *ts, const uint8_t *frame, uint32_t caplen,
                    uint32_t wirelen, struct tcp_seg *seg)
{
    /* A record no capture makes (a file edited or damaged): read as captured, and counted. */
    if (caplen > wirelen)
        r->caplen_over++;
    const char *why = capture_time_problem(ts);
    if (!why && decode_frame(r->linktype, frame, caplen, seg, &why) == DECODE_TCP)
        return true;
    skip_frame(r, why);
    return false;
}

/* From the capture: decode; into the timeline (live) or straight out (a file, already in order). */
void annotate_packet(const struct timespec *ts, const uint8_t *frame, uint32_t caplen,
                     uint32_t wirelen, void *ctx)
{
    struct run *r = ctx;
    struct tcp_seg seg;
    if (!decoded(r, ts, frame, caplen, wirelen, &seg))
        return;
    struct event *ev = event_new(EV_PACKET);
    uint8_t *copy = malloc(caplen ? caplen : 1);
    if (!ev || !copy) {
        free(ev);
        free(copy);
        skip_frame(r, "out of memory");
        return;
    }
    memcpy(copy, frame, caplen);
    ev->t = *ts;
    struct packet_facts *p = &ev->u.pkt;
    p->seg = seg;
    if (seg.payload)
        p->seg.payload = copy + (seg.payload - frame);
    p->frame = copy;
    p->caplen = caplen;
    p->wirelen = wirelen;
    decode_endpoint_str(seg.family, seg.src, seg.sport, p->src, sizeof(p->src));
    decode_endpoint_str(seg.family, seg.dst, seg.dport, p->dst, sizeof(p->dst));
    if (r->opt.read_path)
        annotate_event(r, ev);
    else
        timeline_push(r->timeline, ev);
}

/*
 * From a capture file read for its summary (--summary): decode and track,
 * nothing more. No event, no copy of the frame, no names, no notes: what a
 * packet costs here is what the connections' records need. The segment
 * waits in the queue (its payload is never read: only its lengths count),
 * to be tracked with the others (tcp_track_many says why).
 */
void annotate_packet_summary(const struct timespec *ts, const uint8_t *frame, uint32_t caplen,
                             uint32_t wirelen, void *ctx)
{
    struct run *r = ctx;
    if (!r->queued) {
        r->queued = malloc(SUMMARY_QUEUE * sizeof *r->queued);
        r->queued_t = malloc(SUMMARY_QUEUE * sizeof *r->queued_t);
        if (!r->queued || !r->queued_t) {
            free(r->queued);
            free(r->queued_t);
            r->queued = NULL;
            r->queued_t = NULL;
            skip_frame(r, "out of memory, not tracked");
            return;
        }
    }
    struct tcp_seg *seg = &r->queued[r->nqueued];
    if (!decoded(r, ts, frame, caplen, wirelen, seg))
        return;
    seg->payload = NULL;
    r->queued_t[r->nqueued++] = *ts;
    if (r->nqueued == SUMMARY_QUEUE)
        annotate_summary_drain(r);
}

void annotate_summary_drain(struct run *r)
{
    if (!r->nqueued)
        return;
    /* A segment the tracker had no memory for is missing from its connection's record: said. */
    for (size_t n = tcp_track_many(r->tcp, r->queued, r->queued_t, r->nqueued); n > 0; n--)
        skip_frame(r, "out of memory, not tracked");
    r->last_t = r->queued_t[r->nqueued - 1];
    r->nqueued = 0;
}
