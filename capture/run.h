/*
 * run: one run of sigtrace, as main() sets it up (sigtrace.c) and as its
 * events go out (annotate.c). Not for the rest of the tracer.
 */
#ifndef SIGTRACE_RUN_H
#define SIGTRACE_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "connlog.h"
#include "capture.h"
#include "event.h"
#include "options.h"
#include "output.h"
#include "owners.h"
#include "pcapng.h"
#include "sockets.h"
#include "tcp.h"
#include "timeline.h"
#include "trace.h"

/* Comments kept for the next packet in the pcapng file. */
#define PENDING_MAX 64
/* Segments of a --summary queued to be tracked together (tcp_track_many). */
#define SUMMARY_QUEUE 256
/*
 * A live capture read at once: at most this many batches of CAPTURE_BATCH
 * packets (what is left waits for the next read; the stops get their turn).
 */
#define DRAIN_BATCHES 64
/* Reasons to skip a frame, counted apart (decode.c has fewer); any more count as the last. */
#define SKIP_REASONS_MAX 16

struct run {
    struct options opt;
    struct tracer *tracer;
    struct capture *cap;
    struct timeline *timeline;
    struct sockets *sockets;
    struct tcp_table *tcp;
    struct owners *owners;
    struct output *out;
    struct pcapng_writer *pcapng;
    struct connlog *zeek_log;
    int pcapng_if;
    FILE *json;
    int linktype;
    int owned_only; /* show only packets of endpoints the traced processes used */
    struct skipped_facts skipped[SKIP_REASONS_MAX]; /* frames skipped, by reason */
    size_t nskipped;
    unsigned long others;       /* packets of endpoints no traced process used (owned_only) */
    unsigned long caplen_over;  /* frames that claim more bytes captured than on the wire */
    bool capture_cut;           /* the file ended cut short, or its reading was interrupted */
    char *pending[PENDING_MAX]; /* process events since the last packet, for its comments */
    size_t npending;
    unsigned long pending_lost;
    char verdict[512];
    char command_line[1024];
    struct timespec last_t; /* the time of the last event let out */
    int failed;
    unsigned long lost; /* packets the capture lost (live) */
    /* --summary: segments decoded, not yet tracked, and their times (annotate_summary_drain). */
    struct tcp_seg *queued;
    struct timespec *queued_t;
    size_t nqueued;
};

/* annotate.c: where events go. */

/* An event leaves the timeline: annotate what needs the others, print it, and free it. */
void annotate_event(struct run *r, struct event *ev);

/* From the capture: decode; into the timeline (live) or straight out (a file, already in order). */
void annotate_packet(const struct timespec *ts, const uint8_t *frame, uint32_t caplen,
                     uint32_t wirelen, void *ctx);

/*
 * The same, for --summary: decoded and tracked only, for the connections'
 * records. The segments wait in a queue and are tracked together: call
 * annotate_summary_drain() after each capture_dispatch().
 */
void annotate_packet_summary(const struct timespec *ts, const uint8_t *frame, uint32_t caplen,
                             uint32_t wirelen, void *ctx);

/* The segments annotate_packet_summary() queued: tracked now, in their order. */
void annotate_summary_drain(struct run *r);

/* From the tracer: what a process did, explained, into the timeline. */
void annotate_process_event(struct event *ev, void *ctx);

/* From the tracker: a connection's summary, named and explained, printed. */
void annotate_connection(const struct conn_summary *s, void *ctx);

/* The end of the run: the frames skipped, by reason, and the packets left out. */
void annotate_report_skipped(struct run *r);

/* The comments waiting for the next packet of the pcapng file: forgotten. */
void annotate_pending_clear(struct run *r);

#endif
