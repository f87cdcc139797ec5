/*
 * pcapng: a writer for pcapng files with packet comments (libpcap reads
 * pcapng but cannot write it).
 *
 * Blocks are written as they come, each with one write(2), so a run cut
 * short leaves a valid file. The Section Header Block's comment is written
 * with room reserved (PCAPNG_SHB_COMMENT_MAX bytes) and rewritten in place
 * by pcapng_close(), so it can name the command at the start and its verdict
 * at the end.
 */
#ifndef SIGTRACE_PCAPNG_H
#define SIGTRACE_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PCAPNG_SHB_COMMENT_MAX 4096

struct pcapng_writer;

/* Create or truncate path; NULL on error with a message in err. */
struct pcapng_writer *pcapng_open(const char *path, const char *shb_comment, char *err,
                                  size_t errlen);

/*
 * Describe an interface (if_tsresol 9: nanoseconds); returns its id >= 0, or
 * -1. linktype is a DLT_ value as pcap_datalink() gives it (DLT_RAW is
 * written as LINKTYPE_RAW).
 */
int pcapng_add_interface(struct pcapng_writer *w, int linktype, uint32_t snaplen, const char *name);

/* One Enhanced Packet Block, with one opt_comment per comment. 0, or -1. */
int pcapng_write_packet(struct pcapng_writer *w, int interface_id, const struct timespec *ts,
                        const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                        const char *const *comments, size_t ncomments);

/* Rewrite the SHB comment (truncated to fit the reserved room), close; 0 or -1. */
int pcapng_close(struct pcapng_writer *w, const char *final_shb_comment);

/*
 * Why the last call failed. pcapng_close() frees the writer even when it
 * fails: then pcapng_error(NULL) says why.
 */
const char *pcapng_error(const struct pcapng_writer *w);

#endif
