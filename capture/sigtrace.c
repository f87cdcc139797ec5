/*
 * sigtrace: run a command, follow it and every process it starts, capture
 * its TCP packets, and print what the processes did and what went over the
 * wire on one annotated timeline.
 *
 *   sigtrace [options] -- COMMAND [ARG...]
 *   sigtrace [options] -r FILE
 *
 * One thread, one loop: poll a signalfd (SIGCHLD says a traced process
 * stopped; SIGINT, SIGTERM and SIGHUP say stop), take what the tracer and
 * the capture have, let the timeline put it in order, and print what is due.
 * While traced processes keep stopping, the loop does not sleep between
 * rounds: waking a sleeping CPU for each stop would slow a busy process to a
 * crawl, and a traced lab must behave as the untraced lab. Packets do not
 * wake the loop: the capture is read at every followed call's return and at
 * least every POLL_MS, well within the grace the timeline gives them.
 *
 * Exit status: COMMAND's (128 + N if a signal N killed it); 130, 143 or 129
 * when sigtrace itself was interrupted by SIGINT, SIGTERM or SIGHUP (the
 * command gets the same signal and GRACE_NS to end, so that it can clean up
 * after itself; then, or at a second signal, every traced process is
 * killed); 1 on failure; 2 on bad arguments (options.c reads them).
 */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/die.h"
#include "decode.h"
#include "escape.h"
#include "netns.h"
#include "notes.h"
#include "run.h"

/*
 * How long events wait for older ones (a packet the capture's buffer still
 * holds; calls in flight hold the rest, see timeline.h), and possible
 * repeats for their match.
 */
#define CAPTURE_GRACE_NS 100000000LL
#define HOLD_NS 50000000LL
/* How long an interrupted command has to end by itself. */
#define GRACE_NS 5000000000LL
/* The longest poll() sleeps: the grace periods and the timeline's watermark are checked this often. */
#define POLL_MS 10
/* Stops served in one go before the capture and the output get a turn. */
#define SLICE_STOPS 4000
/* A traced program's line that begins with this is its verdict (labs/scenario writes one). */
#define VERDICT_MARK "verdict: "
/* At most this many of the events after the last packet go into the file's own comment. */
#define SHB_TRAILING_MAX 8
/*
 * What a live capture keeps of each frame: the longest link header the
 * decoder reads (Ethernet with two VLAN tags), IPv6 with room for extension
 * headers, the longest TCP header, and the preview the notes show. The
 * kernel's ring holds frames of this size: the smaller, the more of them.
 */
#define LINK_HDR_MAX 22
#define IP_HDR_MAX 104
#define TCP_HDR_MAX 60
#define CAPTURE_SNAPLEN (LINK_HDR_MAX + IP_HDR_MAX + TCP_HDR_MAX + EVENT_PREVIEW)
/* Exit status when COMMAND succeeded but the capture lost packets: the timeline misses some. */
#define EXIT_PACKETS_LOST 3

/* --- the loops ------------------------------------------------------------------ */

static struct timespec now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

static long long ns_since(const struct timespec *then)
{
    struct timespec now = now_real();
    return (long long)(now.tv_sec - then->tv_sec) * 1000000000LL + (now.tv_nsec - then->tv_nsec);
}

static void drain_timeline(struct run *r, const struct timespec *now)
{
    /*
     * What is due now, but nothing after the entry of an exec under way: its
     * event, stamped there, is made when it completes (the timeline lets out
     * what is older than the grace, so "now" is held at the entry plus it).
     */
    struct timespec since, held;
    if (now && r->tracer && trace_exec_since(r->tracer, &since)) {
        held = ts_before(&since);
        held.tv_sec += CAPTURE_GRACE_NS / 1000000000LL;
        held.tv_nsec += CAPTURE_GRACE_NS % 1000000000LL;
        if (held.tv_nsec >= 1000000000L) {
            held.tv_sec++;
            held.tv_nsec -= 1000000000L;
        }
        if (ts_cmp(&held, now) < 0)
            now = &held;
    }
    struct event *ev;
    while ((ev = timeline_pop(r->timeline, now)))
        annotate_event(r, ev);
    if (r->last_t.tv_sec)
        tcp_expire(r->tcp, &r->last_t, annotate_connection, r);
    output_flush(r->out);
}

/* Reading a file: the signal that asked to stop, or 0. */
static volatile sig_atomic_t read_stop;

static void on_read_stop(int signo) { read_stop = signo; }

/*
 * SIGINT, SIGTERM or SIGHUP end a file's reading early, but cleanly: what was
 * read is told to the end, summaries and all, and the buffered output goes
 * out in whole lines. A second signal acts as if there were no handler.
 * No SA_RESTART: reading a pipe or FIFO whose writer has nothing more to say
 * blocks in read(), and the signal must end that read (EINTR), not restart it.
 */
static void catch_stop_signals(void)
{
    static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_read_stop;
    sa.sa_flags = SA_RESETHAND;
    if (sigemptyset(&sa.sa_mask) < 0)
        die("sigemptyset");
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        if (sigaction(signals[i], &sa, NULL) < 0)
            die("sigaction");
}

static int read_file(struct run *r)
{
    int n = 0;
    capture_packet_fn fn = r->opt.summary ? annotate_packet_summary : annotate_packet;
    while (!read_stop && (n = capture_dispatch(r->cap, 256, fn, r)) > 0) {
        annotate_summary_drain(r);
        tcp_expire(r->tcp, &r->last_t, annotate_connection, r);
    }
    annotate_summary_drain(r);
    if (read_stop) {
        r->capture_cut = true;
        return 0;
    }
    if (n == -2) {
        fprintf(stderr, PROG ": cannot read %s: %s\n", r->opt.read_path, capture_error(r->cap));
        r->capture_cut = true;
        return 1;
    }
    return 0;
}

/*
 * Serve the processes that are stopped now, up to a slice, without waiting
 * for more: the loop sleeps in poll() until SIGCHLD says another one stopped.
 * Waiting in a tight loop of waitpid(WNOHANG) instead makes every stop dearer
 * (each empty waitpid takes the kernel's task-list lock the stopping process
 * needs): 20,000 round trips took 2.2 times as long as under strace that way,
 * and as long as under strace this way (scripts/bench --only roundtrips).
 * Returns how many stops were served, or -1 once no traced process is left.
 */
static int serve_stops(struct run *r)
{
    int served = 0;
    while (served < SLICE_STOPS) {
        int n = trace_pump(r->tracer, 64);
        if (n < 0)
            return served ? served : -1;
        if (n == 0)
            break;
        served += n;
    }
    return served;
}

/* Returns the signal that interrupted the run, or 0. */
static int trace_loop(struct run *r, int sigfd)
{
    struct pollfd fds[1] = { { sigfd, POLLIN, 0 } };
    struct timespec ended = { 0, 0 }, asked = { 0, 0 };
    int interrupted = 0, insist = 0, done = 0;
    for (;;) {
        /*
         * Woken by a stop (SIGCHLD), a signal to sigtrace, or the clock. Not
         * by a packet: each would wake the tracer as often as the traced
         * processes send, on their time (the sender's kernel does the waking).
         */
        poll(fds, 1, POLL_MS);
        if (fds[0].revents & POLLIN) {
            /* The signals pending, all in one read (SIGCHLD comes once however many stopped). */
            struct signalfd_siginfo sis[4];
            ssize_t got = read(sigfd, sis, sizeof(sis));
            for (ssize_t i = 0; i < got / (ssize_t)sizeof(sis[0]); i++) {
                const struct signalfd_siginfo si = sis[i];
                if (si.ssi_signo == SIGCHLD)
                    continue;
                if (interrupted) {
                    insist = 1; /* asked twice: no more waiting */
                    continue;
                }
                interrupted = (int)si.ssi_signo;
                asked = now_real();
                trace_signal_command(r->tracer, interrupted, si.ssi_code == SI_KERNEL);
            }
        }
        if (interrupted && (insist || ns_since(&asked) > GRACE_NS))
            trace_kill_all(r->tracer); /* again each round: a fork may have raced the first kill */
        int stops = done ? 0 : serve_stops(r);
        if (stops < 0 && !done) {
            done = 1;
            ended = now_real();
        }
        int packets = capture_drain(r->cap, DRAIN_BATCHES, annotate_packet, r);
        struct timespec now = now_real();
        drain_timeline(r, &now);
        /* The last packets may still be on their way: give them the grace. */
        if (done && ns_since(&ended) > CAPTURE_GRACE_NS)
            return interrupted;
        if (packets == -2) {
            fprintf(stderr, PROG ": capture failed: %s\n", capture_error(r->cap));
            r->failed = 1;
            if (!interrupted)
                interrupted = SIGTERM;
            insist = 1;
        }
    }
}

/* --- setting up and finishing ----------------------------------------------------- */

/* "sigtrace -- COMMAND ARG...", each word escaped (escape.h), for the pcapng file's comment. */
static void join_command(char **argv, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, PROG " --");
    for (; *argv && n + 1 < len; argv++) {
        buf[n++] = ' ';
        escape_str(*argv, buf + n, len - n);
        n += strlen(buf + n);
    }
}

static void open_outputs(struct run *r)
{
    char err[512];
    if (r->opt.json_path) {
        r->json = fopen(r->opt.json_path, "we");
        if (!r->json)
            die_hint("check the directory exists and is writable", "cannot write %s: %s",
                     r->opt.json_path, strerror(errno));
    }
    int color = r->opt.format != OUT_JSON && isatty(STDOUT_FILENO) &&
                !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    /* A file read is printed as fast as it can be; a live run as it happens. */
    r->out = output_new(stdout, r->opt.format, color, r->json, !r->opt.read_path);
    if (!r->out)
        die("cannot start the output");
    /* A picture is written at the end; a directory it cannot go in is said now. */
    const char *const *pictures = r->opt.pictures;
    for (size_t i = 0; i < PICTURES; i++) {
        if (!pictures[i])
            continue;
        char probe[4096];
        snprintf(probe, sizeof(probe), "%s.XXXXXX", pictures[i]);
        int fd = mkstemp(probe);
        if (fd < 0)
            die_hint("check the directory exists and is writable", "cannot write %s: %s",
                     pictures[i], strerror(errno));
        close(fd);
        unlink(probe);
        output_keep_picture(r->out);
    }
    if (r->opt.zeek_log_path &&
        !(r->zeek_log = connlog_open(r->opt.zeek_log_path, r->opt.zeek_log_json, err, sizeof err)))
        die_hint("check the directory exists and is writable", "cannot write %s", err);
    if (r->opt.write_path) {
        char shb[1200];
        snprintf(shb, sizeof(shb), "%s",
                 r->opt.read_path ? "annotated by sigtrace" : r->command_line);
        r->pcapng = pcapng_open(r->opt.write_path, shb, err, sizeof(err));
        if (!r->pcapng) /* err names the file */
            die_hint("check the directory exists and is writable", "cannot write %s", err);
        r->pcapng_if = pcapng_add_interface(r->pcapng, r->linktype, capture_snaplen(r->cap),
                                            capture_name(r->cap));
        if (r->pcapng_if < 0)
            die_hint(NULL, "cannot write %s: %s", r->opt.write_path, pcapng_error(r->pcapng));
    }
}

/*
 * A live capture's count of packets lost, as a JSON event and, when any
 * were lost, on standard error: the timeline misses them, and the
 * summaries built from the wire may be wrong.
 */
static void report_capture(struct run *r)
{
    struct capture_stats st;
    if (!r->cap || capture_stats(r->cap, &st) < 0)
        return;
    output_capture(r->out, &r->last_t, st.received, st.dropped, st.ifdropped);
    r->lost = st.dropped + st.ifdropped;
    if (st.dropped)
        fprintf(stderr,
                PROG ": lost %lu of %lu packets: the kernel's buffer was full before sigtrace "
                     "could take them (the timeline and the connection summaries miss them; "
                     "give a larger buffer with -B KIB)\n",
                st.dropped, st.received);
    if (st.ifdropped)
        fprintf(stderr,
                PROG ": the interface %s dropped %lu packets while sigtrace ran (the timeline "
                     "misses them)\n",
                capture_name(r->cap), st.ifdropped);
}

static void finish(struct run *r)
{
    tcp_flush(r->tcp, annotate_connection, r);
    annotate_report_skipped(r);
    if (tcp_early(r->tcp))
        fprintf(stderr,
                PROG ": %lu connections were summarised before their time: more than %d were "
                     "open at once (a capture whose times run backwards never closes any)\n",
                tcp_early(r->tcp), TCP_CONN_MAX);
    if (!r->opt.read_path)
        report_capture(r);
    if (sockets_lost(r->sockets))
        fprintf(stderr,
                PROG ": out of memory: %lu sockets' notes could not know what came before them\n",
                sockets_lost(r->sockets));
    output_finish(r->out);
    char err_log[4200];
    if (r->zeek_log && connlog_close(r->zeek_log, err_log, sizeof err_log) < 0) {
        fprintf(stderr, PROG ": %s\n", err_log);
        r->failed = 1;
    }
    const char *const *pictures = r->opt.pictures;
    for (int i = 0; i < PICTURES; i++) {
        char title[1200], err[4200];
        if (!pictures[i])
            continue;
        if (r->opt.read_path)
            snprintf(title, sizeof(title), PROG " -r %s", r->opt.read_path);
        else
            snprintf(title, sizeof(title), "%s", r->command_line);
        if (output_picture(r->out, pictures[i], (enum picture)i, title, err, sizeof(err)) < 0) {
            fprintf(stderr, PROG ": %s\n", err);
            r->failed = 1;
        }
    }
    if (r->pcapng) {
        /*
         * The file's own comment, kept short: the command, its verdict, and the
         * last few events of the story that came after the last packet (whole
         * lines only, the latest kept).
         */
        char shb[PCAPNG_SHB_COMMENT_MAX];
        size_t n = (size_t)snprintf(shb, sizeof(shb), "%s",
                                    r->opt.read_path ? "annotated by sigtrace" : r->command_line);
        char verdict[sizeof r->verdict * 4];
        escape_str(r->verdict, verdict, sizeof verdict);
        if (r->verdict[0] && n < sizeof(shb))
            n += (size_t)snprintf(shb + n, sizeof(shb) - n, "\nverdict: %s", verdict);
        size_t first = r->npending > SHB_TRAILING_MAX ? r->npending - SHB_TRAILING_MAX : 0,
               room = 0;
        static const char heading[] = "\nafter the last packet:";
        while (first < r->npending) {
            room = sizeof(heading) + 32; /* the heading and "(N earlier events left out)" */
            for (size_t i = first; i < r->npending; i++)
                room += strlen(r->pending[i]) + 1;
            if (n + room < sizeof(shb))
                break;
            first++;
        }
        if (first < r->npending) {
            n += (size_t)snprintf(shb + n, sizeof(shb) - n, "%s", heading);
            if (first)
                n += (size_t)snprintf(shb + n, sizeof(shb) - n, "\n(%zu earlier events left out)",
                                      first);
            for (size_t i = first; i < r->npending; i++)
                n += (size_t)snprintf(shb + n, sizeof(shb) - n, "\n%s", r->pending[i]);
        }
        if (pcapng_close(r->pcapng, shb) < 0 && !r->failed) {
            fprintf(stderr, PROG ": cannot finish %s\n", r->opt.write_path);
            r->failed = 1;
        }
        r->pcapng = NULL;
    }
    annotate_pending_clear(r);
    if (r->json && fclose(r->json) != 0 && !r->failed) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", r->opt.json_path, strerror(errno));
        r->failed = 1;
    }
    r->json = NULL;
    if (output_failed(r->out) && output_failed(r->out) != EPIPE && !r->failed) {
        fprintf(stderr, PROG ": cannot write the output: %s\n", strerror(output_failed(r->out)));
        r->failed = 1;
    }
}

static void cleanup(struct run *r)
{
    trace_free(r->tracer);
    capture_close(r->cap);
    timeline_free(r->timeline);
    sockets_free(r->sockets);
    owners_free(r->owners);
    tcp_table_free(r->tcp);
    free(r->queued);
    free(r->queued_t);
    output_free(r->out);
}

int main(int argc, char **argv)
{
    struct run run;
    struct run *r = &run;
    char err[1024], filter[1024];
    memset(r, 0, sizeof(*r));
    die_init(PROG);
    options_parse(argc, argv, &r->opt);
    options_filter(&r->opt, filter, sizeof(filter));
    r->tcp = tcp_table_new();
    r->owners = owners_new();
    r->sockets = sockets_new();
    r->timeline = timeline_new(CAPTURE_GRACE_NS, HOLD_NS);
    if (!r->tcp || !r->owners || !r->sockets || !r->timeline)
        die("cannot start the run");
    tcp_on_done(r->tcp, annotate_connection, r);

    if (r->opt.read_path) {
        /*
         * A file read whole into a file or a pipe: the output in 64 KB
         * writes, not 4 KB ones (a summary of a million packets is some
         * 18 MB). Not to a terminal, and not from a pipe or FIFO, whose
         * reader may be waiting for each line as it comes.
         */
        static char out_buffer[1 << 16];
        struct stat st;
        if (!isatty(STDOUT_FILENO) && stat(r->opt.read_path, &st) == 0 && S_ISREG(st.st_mode))
            setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
        r->cap = capture_open_file(r->opt.read_path, filter[0] ? filter : NULL, err, sizeof(err));
        if (!r->cap)
            die_hint(NULL, "%s", err);
        r->linktype = capture_linktype(r->cap);
        char link[256];
        if (!decode_linktype_supported(r->linktype))
            die_hint("sigtrace decodes Ethernet, Linux cooked, BSD loopback and raw IP",
                     "cannot read %s: its link type (%s) is not one sigtrace decodes",
                     r->opt.read_path, capture_linktype_str(r->linktype, link, sizeof link));
        open_outputs(r);
        catch_stop_signals();
        int rc = read_file(r);
        finish(r);
        cleanup(r);
        if (read_stop)
            return 128 + read_stop;
        return rc || r->failed ? 1 : 0;
    }

    join_command(r->opt.command, r->command_line, sizeof(r->command_line));
    /* Signals arrive through a signalfd; the command gets the mask we were given back. */
    sigset_t mask, original;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &original);
    int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        die("signalfd");
    /* A closed stdout must not kill the tracer (and, through EXITKILL, the command). */
    int sigpipe_ignored = signal(SIGPIPE, SIG_IGN) == SIG_IGN;

    if (r->opt.netns && netns_enter(err, sizeof(err)) < 0)
        die_hint(NULL, "%s", err);
    /* Outside a namespace of our own, lo carries other programs' traffic too. */
    r->owned_only = !r->opt.netns && !r->opt.port && !r->opt.filter;

    /* JSON Lines on stdout stay JSON Lines: the command's own output goes to stderr. */
    r->tracer = trace_spawn(r->opt.command, &original, sigpipe_ignored, r->opt.format == OUT_JSON,
                            VERDICT_MARK, annotate_process_event, r, err, sizeof(err));
    if (!r->tracer)
        die_hint(NULL, "%s", err);
    const char *iface = r->opt.iface ? r->opt.iface : "lo";
    r->cap = capture_open_live(iface, filter[0] ? filter : NULL, CAPTURE_SNAPLEN,
                               (size_t)r->opt.buffer_kib * 1024, err, sizeof(err));
    if (!r->cap) {
        trace_kill_all(r->tracer);
        while (trace_pump(r->tracer, 100) >= 0)
            usleep(1000);
        die_hint(NULL, "%s", err);
    }
    r->linktype = capture_linktype(r->cap);
    char link[256];
    if (!decode_linktype_supported(r->linktype))
        die_hint("capture on lo or an Ethernet interface",
                 "cannot capture on %s: its link type (%s) is not one sigtrace decodes", iface,
                 capture_linktype_str(r->linktype, link, sizeof link));
    open_outputs(r);

    trace_start(r->tracer);
    int interrupted = trace_loop(r, sigfd);
    drain_timeline(r, NULL);
    finish(r);

    int status = 0, rc;
    if (interrupted)
        rc = 128 + interrupted;
    else if (!trace_command_status(r->tracer, &status))
        rc = 1;
    else if (WIFSIGNALED(status))
        rc = 128 + WTERMSIG(status);
    else
        rc = WEXITSTATUS(status);
    if (r->failed && rc == 0)
        rc = 1;
    if (r->lost && rc == 0)
        rc = EXIT_PACKETS_LOST;
    cleanup(r);
    close(sigfd);
    return rc;
}
