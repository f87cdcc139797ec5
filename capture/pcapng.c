/*
 * pcapng: write pcapng files with packet comments.
 *
 * The file is a Section Header Block (SHB), one Interface Description Block
 * (IDB) per interface, then one Enhanced Packet Block (EPB) per packet. Each
 * block is built in memory and written with one write(2): a run killed at any
 * point leaves whole blocks only, and a block that could not be written whole
 * (a full disk) is cut off again with ftruncate(2), after which the writer
 * refuses to write more. Either way tshark opens what is left.
 *
 * The SHB has a fixed size: its comment gets PCAPNG_SHB_COMMENT_MAX bytes of
 * room, and the options end with opt_endofopt followed by zero bytes up to
 * that size (readers stop at opt_endofopt; the zeros read as more of it).
 * pcapng_close() rewrites the SHB in place with pwrite(2).
 *
 * Numbers are written in this host's byte order, which the SHB's byte-order
 * magic announces, as the format intends.
 */
#include "pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    BT_SHB = 0x0A0D0D0A,
    BT_IDB = 0x00000001,
    BT_EPB = 0x00000006,
    BYTE_ORDER_MAGIC = 0x1A2B3C4D,
    OPT_ENDOFOPT = 0,
    OPT_COMMENT = 1,
    OPT_SHB_USERAPPL = 4,
    OPT_IF_NAME = 2,
    OPT_IF_TSRESOL = 9,
    OPTION_MAX = 65535, /* an option's length is 16 bits */
    LINKTYPE_RAW = 101,
};

#define USERAPPL "sigtrace"

struct pcapng_writer {
    int fd;
    int failed; /* a write failed: refuse to write more */
    int ninterfaces;
    off_t end;    /* where the next block goes */
    uint8_t *buf; /* the block being built */
    size_t len, cap;
    char err[512];
    char comment[OPTION_MAX + 1]; /* one packet comment, made valid UTF-8 */
};

/* Why the last pcapng_close() failed; the writer itself is gone by then. */
static char close_err[512];

static void set_error(struct pcapng_writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* ---- building a block in w->buf ---- */

static int buf_reserve(struct pcapng_writer *w, size_t more)
{
    if (w->len + more <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + more)
        cap *= 2;
    uint8_t *b = realloc(w->buf, cap);
    if (!b) {
        set_error(w, "out of memory for a %zu-byte block", w->len + more);
        return -1;
    }
    w->buf = b;
    w->cap = cap;
    return 0;
}

static void put(struct pcapng_writer *w, const void *data, size_t len)
{
    memcpy(w->buf + w->len, data, len);
    w->len += len;
}

static void put_zeros(struct pcapng_writer *w, size_t len)
{
    memset(w->buf + w->len, 0, len);
    w->len += len;
}

static void put16(struct pcapng_writer *w, uint16_t v) { put(w, &v, sizeof v); }
static void put32(struct pcapng_writer *w, uint32_t v) { put(w, &v, sizeof v); }

/* One option: code, length, value, padding to 32 bits. The room must be reserved. */
static void put_option(struct pcapng_writer *w, uint16_t code, const void *value, size_t len)
{
    put16(w, code);
    put16(w, (uint16_t)len);
    put(w, value, len);
    put_zeros(w, pad4(len) - len);
}

static size_t option_size(size_t len) { return 4 + pad4(len); }

/* Start a block: type, and a total length filled in by block_end(). */
static void block_begin(struct pcapng_writer *w, uint32_t type)
{
    w->len = 0;
    put32(w, type);
    put32(w, 0);
}

static void block_end(struct pcapng_writer *w)
{
    uint32_t total = (uint32_t)(w->len + 4);
    memcpy(w->buf + 4, &total, 4);
    put32(w, total);
}

/*
 * How many bytes of s, at most max, form whole UTF-8 characters; invalid
 * bytes are replaced by '?' in place, so the comment is valid UTF-8.
 */
static size_t utf8_fit(char *s, size_t max)
{
    size_t len = strlen(s), i = 0, fit = 0;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        int ok = n != 0 && i + n <= len && !(n == 2 && c < 0xc2) && !(n == 4 && c > 0xf4);
        for (size_t k = 1; ok && k < n; k++)
            ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
        if (ok && n == 3) {
            unsigned char c1 = (unsigned char)s[i + 1];
            ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0); /* overlong, surrogates */
        }
        if (ok && n == 4) {
            unsigned char c1 = (unsigned char)s[i + 1];
            ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
        }
        if (!ok) {
            s[i] = '?';
            n = 1;
        }
        if (i + n > max)
            break;
        i += n;
        fit = i;
    }
    return fit;
}

/* A comment as an option value: valid UTF-8, cut to max bytes; returns its length. */
static size_t comment_prepare(const char *comment, char *out, size_t outlen, size_t max)
{
    snprintf(out, outlen, "%s", comment ? comment : "");
    return utf8_fit(out, max < outlen - 1 ? max : outlen - 1);
}

/* ---- writing ---- */

/*
 * Write the built block at w->end. A short write leaves part of a block: cut
 * it off so the file ends with whole blocks, and refuse further writes.
 */
static int block_write(struct pcapng_writer *w)
{
    if (w->failed) {
        set_error(w, "an earlier write failed: the file ends before this block");
        return -1;
    }
    size_t done = 0;
    while (done < w->len) {
        ssize_t n = write(w->fd, w->buf + done, w->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            w->failed = 1;
            if (done > 0 && ftruncate(w->fd, w->end) == 0)
                lseek(w->fd, w->end, SEEK_SET);
            set_error(w, "write: %s", strerror(e));
            return -1;
        }
        done += (size_t)n;
    }
    w->end += (off_t)w->len;
    return 0;
}

/* The SHB, always the same size whatever its comment. */
static int build_shb(struct pcapng_writer *w, const char *comment)
{
    char text[PCAPNG_SHB_COMMENT_MAX + 1];
    size_t clen = comment_prepare(comment, text, sizeof text, PCAPNG_SHB_COMMENT_MAX);
    size_t options = option_size(sizeof USERAPPL - 1) + option_size(PCAPNG_SHB_COMMENT_MAX) + 4;
    size_t total = 24 + options + 4;

    if (buf_reserve(w, total) < 0)
        return -1;
    block_begin(w, BT_SHB);
    put32(w, BYTE_ORDER_MAGIC);
    put16(w, 1); /* version 1.0 */
    put16(w, 0);
    int64_t section_length = -1; /* not given: the file grows as we write */
    put(w, &section_length, sizeof section_length);
    put_option(w, OPT_SHB_USERAPPL, USERAPPL, sizeof USERAPPL - 1);
    if (clen > 0)
        put_option(w, OPT_COMMENT, text, clen);
    put_option(w, OPT_ENDOFOPT, "", 0);
    put_zeros(w, total - 4 - w->len);
    block_end(w);
    return 0;
}

struct pcapng_writer *pcapng_open(const char *path, const char *shb_comment, char *err,
                                  size_t errlen)
{
    struct pcapng_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(w);
        return NULL;
    }
    if (build_shb(w, shb_comment) < 0 || block_write(w) < 0) {
        snprintf(err, errlen, "%s: %s", path, w->err);
        close(w->fd);
        free(w->buf);
        free(w);
        return NULL;
    }
    return w;
}

/*
 * Files store LINKTYPE_ values, which equal the DLT_ values except for a few
 * historical ones; of those we meet only raw IP (DLT_RAW is 12 here, 14 on
 * OpenBSD).
 */
static uint16_t linktype_for_file(int linktype)
{
    if (linktype == DLT_RAW || linktype == 14)
        return LINKTYPE_RAW;
    return (uint16_t)linktype;
}

int pcapng_add_interface(struct pcapng_writer *w, int linktype, uint32_t snaplen, const char *name)
{
    char text[256];
    size_t nlen = comment_prepare(name, text, sizeof text, sizeof text - 1);
    uint8_t tsresol = 9; /* 10^-9 s: nanoseconds */

    if (linktype < 0 || linktype > 0xffff) {
        set_error(w, "link type %d does not fit a pcapng file", linktype);
        return -1;
    }
    if (buf_reserve(w, 20 + option_size(nlen) + option_size(1) + 4 + 4) < 0)
        return -1;
    block_begin(w, BT_IDB);
    put16(w, linktype_for_file(linktype));
    put16(w, 0);
    put32(w, snaplen);
    if (nlen > 0)
        put_option(w, OPT_IF_NAME, text, nlen);
    put_option(w, OPT_IF_TSRESOL, &tsresol, 1);
    put_option(w, OPT_ENDOFOPT, "", 0);
    block_end(w);
    if (block_write(w) < 0)
        return -1;
    return w->ninterfaces++;
}

int pcapng_write_packet(struct pcapng_writer *w, int interface_id, const struct timespec *ts,
                        const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                        const char *const *comments, size_t ncomments)
{
    size_t need = 28 + pad4(caplen) + 4 + 4;

    if (interface_id < 0 || interface_id >= w->ninterfaces) {
        set_error(w, "no interface %d (add it with pcapng_add_interface first)", interface_id);
        return -1;
    }
    if (ts->tv_sec < 0) {
        set_error(w, "a time before 1970 does not fit a pcapng file");
        return -1;
    }
    for (size_t i = 0; i < ncomments; i++)
        need += option_size(comments[i] ? strlen(comments[i]) : 0);
    if (need > UINT32_MAX - 4) {
        set_error(w, "a %zu-byte block is too large for pcapng", need);
        return -1;
    }
    if (buf_reserve(w, need) < 0)
        return -1;

    uint64_t t = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
    block_begin(w, BT_EPB);
    put32(w, (uint32_t)interface_id);
    put32(w, (uint32_t)(t >> 32));
    put32(w, (uint32_t)t);
    put32(w, caplen);
    put32(w, wirelen);
    put(w, data, caplen);
    put_zeros(w, pad4(caplen) - caplen);
    for (size_t i = 0; i < ncomments; i++) {
        size_t clen = comment_prepare(comments[i], w->comment, sizeof w->comment, OPTION_MAX);
        if (clen > 0)
            put_option(w, OPT_COMMENT, w->comment, clen);
    }
    put_option(w, OPT_ENDOFOPT, "", 0);
    block_end(w);
    return block_write(w);
}

int pcapng_close(struct pcapng_writer *w, const char *final_shb_comment)
{
    int rc = 0;

    close_err[0] = '\0';
    if (!w->failed && final_shb_comment) {
        if (build_shb(w, final_shb_comment) < 0) {
            rc = -1;
        } else {
            ssize_t n = pwrite(w->fd, w->buf, w->len, 0);
            if (n != (ssize_t)w->len) {
                set_error(w, "rewriting the section header: %s",
                          n < 0 ? strerror(errno) : "short write");
                rc = -1;
            }
        }
    }
    if (close(w->fd) < 0 && rc == 0) {
        set_error(w, "close: %s", strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        snprintf(close_err, sizeof close_err, "%s", w->err);
    free(w->buf);
    free(w);
    return rc;
}

const char *pcapng_error(const struct pcapng_writer *w) { return w ? w->err : close_err; }
