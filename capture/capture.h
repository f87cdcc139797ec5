/*
 * capture: packets from libpcap, live from an interface or from a file.
 *
 * Live captures use immediate mode (each packet as soon as it is seen, not
 * when a buffer fills) and nanosecond timestamps, and only TCP. Files may be
 * pcap or pcapng; their timestamps are read at nanosecond precision too.
 */
#ifndef SIGTRACE_CAPTURE_H
#define SIGTRACE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct capture;

typedef void (*capture_packet_fn)(const struct timespec *ts, const uint8_t *frame, uint32_t caplen,
                                  uint32_t wirelen, void *ctx);

/*
 * filter is a BPF expression, or NULL. Live, it is ANDed with "tcp"; from a
 * file it is used as given, and without one every frame is read: a BPF "tcp"
 * would miss TCP behind VLAN tags, IPv6 extension headers or tunnels, which
 * decode_frame reads. NULL on failure, with the reason and what to do about
 * it in err.
 *
 * Live: snaplen bytes of each frame are kept (what the decoder and the notes
 * read, no more: the kernel's ring holds whole frames of snaplen, so a small
 * snaplen lets it hold many), in a kernel buffer of buffer_bytes.
 */
struct capture *capture_open_live(const char *iface, const char *filter, uint32_t snaplen,
                                  size_t buffer_bytes, char *err, size_t errlen);
struct capture *capture_open_file(const char *path, const char *filter, char *err, size_t errlen);

/* For poll(): readable when packets may be waiting (live only; -1 for files). */
int capture_fd(const struct capture *c);

int capture_linktype(const struct capture *c); /* DLT_ value */

/*
 * A link type's name and description as libpcap knows them ("EN10MB",
 * "Ethernet"), or "unknown" when it does not: for saying which one sigtrace
 * cannot decode. Returns buf.
 */
char *capture_linktype_str(int linktype, char *buf, size_t len);

/*
 * Latest timestamp a frame may have: ts_ns() and the trackers' timers count
 * nanoseconds in 64 bits, which end in 2262. Later than this is impossible.
 */
#define CAPTURE_TIME_MAX_SEC 9000000000LL

/*
 * What makes a frame's timestamp impossible (nanoseconds out of 0..999999999,
 * before 1970, after CAPTURE_TIME_MAX_SEC), in a few words; NULL if it is a
 * time. A file may hold such times (a damaged record, a pcapng interface's
 * huge time offset): the frame is skipped and counted, never given a time.
 */
const char *capture_time_problem(const struct timespec *ts);

uint32_t capture_snaplen(const struct capture *c);
const char *capture_name(const struct capture *c); /* the interface or file */

/*
 * Hand at most max packets to fn, without blocking. Returns how many; 0
 * when none is waiting; -1 at the end of a file; -2 on error (see
 * capture_error).
 */
int capture_dispatch(struct capture *c, int max, capture_packet_fn fn, void *ctx);

/*
 * A live capture: hand fn what the buffer holds now, up to max_batches
 * batches of CAPTURE_BATCH. A batch that comes back short has emptied the
 * buffer, so no call is made only to find it empty (that costs a poll()).
 * Returns how many, or -2 on error.
 */
#define CAPTURE_BATCH 1000
int capture_drain(struct capture *c, int max_batches, capture_packet_fn fn, void *ctx);
const char *capture_error(const struct capture *c);

/*
 * What the kernel counted for a live capture (pcap_stats): packets that
 * passed the filter, those dropped because the buffer was full (sigtrace
 * too slow), and those the interface itself dropped. 0, or -1 for a file or
 * when the kernel does not say.
 */
struct capture_stats {
    unsigned long received, dropped, ifdropped;
};
int capture_stats(const struct capture *c, struct capture_stats *st);

void capture_close(struct capture *c);

#endif
