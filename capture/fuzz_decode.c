/*
 * fuzz_decode: a libFuzzer target for the code that reads untrusted bytes:
 * decode_frame() for every supported link type, tcp_track() and the notes on
 * what it decodes, and the pcapng writer on the notes that come out.
 *
 * An input is a classic pcap file (any of its byte orders and time
 * precisions), so the capture fixtures are the seed corpus. The header's
 * link type picks one of the supported ones; each record's bytes are copied
 * to a buffer of exactly their length, so that AddressSanitizer catches a
 * read one byte too far.
 *
 *   make fuzz                     build, then run for FUZZ_TIME seconds
 *   build/fuzz/fuzz_decode DIR    run on a corpus directory by hand
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "decode.h"
#include "notes.h"
#include "pcapng.h"
#include "tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {
    DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW,
    14,         101,           DLT_IPV4,       DLT_IPV6,
};
#define NLINKTYPES (sizeof linktypes / sizeof linktypes[0])

static uint32_t get32(const uint8_t *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static void summary_done(const struct conn_summary *s, void *ctx)
{
    char note[EVENT_NOTE];
    notes_connection(s, "the client", "the server", note, sizeof note);
    struct pcapng_writer *w = ctx;
    const char *c[] = { note, s->history };
    struct timespec ts = s->last;
    if (w)
        pcapng_write_packet(w, 0, &ts, (const uint8_t *)s->conn_state, 0, 0, c, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pcapng_writer *writer;
    char err[256];

    if (size < 24)
        return 0;
    uint32_t magic;
    memcpy(&magic, data, 4);
    int swap, nano;
    switch (magic) {
    case 0xa1b2c3d4: swap = 0, nano = 0; break;
    case 0xa1b23c4d: swap = 0, nano = 1; break;
    case 0xd4c3b2a1: swap = 1, nano = 0; break;
    case 0x4d3cb2a1: swap = 1, nano = 1; break;
    default: return 0;
    }
    int linktype = linktypes[(get32(data + 20, swap) & 0x0fffffff) % NLINKTYPES];

    /* One writer for the whole run, to /dev/null: the notes' bytes go through its UTF-8 check. */
    if (!writer) {
        writer = pcapng_open("/dev/null", "fuzz", err, sizeof err);
        if (!writer || pcapng_add_interface(writer, DLT_RAW, 65535, "fuzz") < 0)
            abort();
    }

    struct tcp_table *t = tcp_table_new();
    if (!t)
        return 0;
    size_t off = 24;
    int named = 0;
    while (off + 16 <= size) {
        uint32_t sec = get32(data + off, swap), frac = get32(data + off + 4, swap);
        uint32_t caplen = get32(data + off + 8, swap), wirelen = get32(data + off + 12, swap);
        off += 16;
        if (caplen > size - off)
            caplen = (uint32_t)(size - off);
        uint8_t *frame = malloc(caplen ? caplen : 1);
        if (!frame)
            break;
        memcpy(frame, data + off, caplen);
        off += caplen;

        struct tcp_seg seg;
        const char *why;
        char buf[64];
        for (size_t i = 0; i < NLINKTYPES; i++) {
            if (decode_frame(linktypes[i], frame, caplen, &seg, &why) == DECODE_TCP) {
                decode_endpoint_str(seg.family, seg.src, seg.sport, buf, sizeof buf);
                decode_flags_str(seg.flags, buf, sizeof buf);
                if (seg.payload_caplen > 0 &&
                    (seg.payload < frame || seg.payload + seg.payload_caplen > frame + caplen))
                    abort();
            }
        }

        struct timespec ts = { (time_t)sec,
                               (long)(nano ? frac % 1000000000u : (frac % 1000000u) * 1000) };
        tcp_expire(t, &ts, summary_done, writer);
        if (decode_frame(linktype, frame, caplen, &seg, &why) == DECODE_TCP) {
            /* Name the first sender with its own payload: arbitrary bytes in the notes. */
            char name[32] = "the client";
            if (!named && seg.payload_caplen > 0) {
                size_t n =
                    seg.payload_caplen < sizeof name - 1 ? seg.payload_caplen : sizeof name - 1;
                memcpy(name, seg.payload, n);
                name[n] = '\0';
                named = 1;
            }
            struct seg_facts facts;
            char note[EVENT_NOTE];
            tcp_track(t, &seg, &ts, &facts);
            notes_segment(&facts, &seg, name, "the server", note, sizeof note);
            const char *c[] = { note };
            pcapng_write_packet(writer, 0, &ts, frame, caplen, wirelen, c, 1);
        }
        free(frame);
    }
    tcp_flush(t, summary_done, writer);
    tcp_table_free(t);
    return 0;
}
