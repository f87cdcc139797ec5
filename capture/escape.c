/*
 * escape: bytes from outside made safe for a terminal, a file people read,
 * and JSON: one set of rules (escape.h), two spellings of an escape.
 */
#include "escape.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char HEX[] = "0123456789abcdef";

/* Where an escape is written: the text timeline's or a JSON string's. */
enum spelling { TEXT, JSON };

/*
 * The length of the valid UTF-8 character at s (n bytes left), 0 if s does
 * not start one (a stray continuation byte, an overlong form, a surrogate,
 * beyond U+10FFFF, cut short), and its code point in *cp.
 */
static size_t utf8_char(const uint8_t *s, size_t n, uint32_t *cp)
{
    static const uint32_t min_for_len[] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (s[0] >= 0xf8 || len == 0 || len > n)
        return 0;
    uint32_t c = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min_for_len[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/*
 * Code points that are valid but act on a terminal or on how a line reads:
 * the C1 controls, the line and paragraph separators, and the bidirectional
 * embeddings, overrides and isolates (text that reads other than it is).
 */
static bool unsafe_code_point(uint32_t cp)
{
    return cp <= 0x9f || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Is c printable ASCII that next_piece() shows as it is, whatever the flags? */
static inline bool plain_ascii(uint8_t c)
{
    return (uint8_t)(c - 0x20) < 0x5f && c != '\\' && c != '"';
}

/*
 * Are the 8 bytes at p all plain_ascii()? Word at a time: a note or a
 * line is mostly such bytes, and each is looked at once. A byte below
 * 0x20, one of 0x7f or more, a backslash or a quote makes it false (the
 * tests below are exact for "some byte is").
 */
static inline bool plain_ascii8(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t x, bs, qu;
    memcpy(&x, p, 8);
    bs = x ^ (ones * '\\');
    qu = x ^ (ones * '"');
    uint64_t below = (x - ones * 0x20) & ~x;                   /* some byte < 0x20 */
    uint64_t above = (x + ones * (127 - 0x7e)) | x;            /* some byte > 0x7e */
    uint64_t zero = ((bs - ones) & ~bs) | ((qu - ones) & ~qu); /* a backslash or a quote */
    return ((below | above | zero) & highs) == 0;
}

/*
 * Are the 16 bytes at p all plain_ascii()? The same tests, a byte a lane,
 * in the compiler's vectors (one SSE2 register on x86-64, NEON on ARM): a
 * note of 400 bytes is some 25 steps.
 */
typedef uint8_t bytes16 __attribute__((vector_size(16)));
static inline bool plain_ascii16(const uint8_t *p)
{
    bytes16 x;
    memcpy(&x, p, 16);
    bytes16 bad =
        (bytes16)((bytes16)(x - 0x20) >= 0x5f) | (bytes16)(x == '\\') | (bytes16)(x == '"');
    uint64_t half[2];
    memcpy(half, &bad, 16);
    return (half[0] | half[1]) == 0;
}

/*
 * The piece of s (n > 0 bytes) that comes next: returns how many bytes it
 * takes; *esc gets its escape and *esclen that escape's length, or 0 when
 * the bytes are shown as they are.
 */
static size_t next_piece(const uint8_t *s, size_t n, unsigned flags, enum spelling sp, char *esc,
                         size_t *esclen)
{
    uint8_t c = s[0];
    *esclen = 0;
    if (c >= 0x20 && c < 0x7f) {
        if ((c == '\\' && !(flags & ESCAPE_KEEP_LINES)) || (c == '"' && (flags & ESCAPE_QUOTE))) {
            esc[0] = '\\';
            esc[1] = (char)c;
            *esclen = 2;
        }
        return 1;
    }
    if (c < 0x80) {
        if ((flags & ESCAPE_KEEP_LINES) && (c == '\n' || c == '\t'))
            return 1;
        static const char named[] = { ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', [0] = '0' };
        if (c < sizeof named && named[c] && (c != 0 || sp == TEXT)) {
            esc[0] = '\\';
            esc[1] = named[c];
            *esclen = 2;
        } else if (sp == TEXT) {
            *esclen = (size_t)snprintf(esc, 8, "\\x%c%c", HEX[c >> 4], HEX[c & 15]);
        } else {
            *esclen = (size_t)snprintf(esc, 8, "\\u00%c%c", HEX[c >> 4], HEX[c & 15]);
        }
        return 1;
    }
    uint32_t cp = 0;
    size_t len = utf8_char(s, n, &cp);
    if (len == 0) { /* no text: the byte itself, made visible */
        *esclen = (size_t)snprintf(esc, 8, "%s%c%c", sp == TEXT ? "\\x" : "\\\\x", HEX[c >> 4],
                                   HEX[c & 15]);
        return 1;
    }
    if (unsafe_code_point(cp))
        *esclen = (size_t)snprintf(esc, 8, "\\u%04x", (unsigned)cp);
    return len;
}

/*
 * Escape src into dst (room bytes, no terminator), starting pieces while
 * fewer than soft bytes are written (an escape begun may end past soft,
 * never past room); *took gets the bytes of src taken. Returns the bytes
 * written.
 */
static size_t escape_into(const uint8_t *src, size_t len, unsigned flags, enum spelling sp,
                          char *dst, size_t soft, size_t room, size_t *took)
{
    size_t n = 0, i = 0, limit = soft < room ? soft : room;
    while (i < len && n < soft) {
        /*
         * A run of printable ASCII goes as it is, in one copy (a backslash or
         * a quote ends it: next_piece() says what they need).
         */
        size_t run = 0, most = len - i < limit - n ? len - i : limit - n;
        while (run + 16 <= most && plain_ascii16(src + i + run))
            run += 16;
        while (run + 8 <= most && plain_ascii8(src + i + run))
            run += 8;
        while (run < most && plain_ascii(src[i + run]))
            run++;
        if (run) {
            memcpy(dst + n, src + i, run);
            n += run;
            i += run;
            continue;
        }
        char esc[8];
        size_t esclen, step = next_piece(src + i, len - i, flags, sp, esc, &esclen);
        size_t need = esclen ? esclen : step;
        if (need > room - n)
            break;
        memcpy(dst + n, esclen ? esc : (const char *)src + i, need);
        n += need;
        i += step;
    }
    *took = i;
    return n;
}

size_t escape_text(const uint8_t *src, size_t len, unsigned flags, char *dst, size_t size)
{
    size_t took = 0;
    if (size == 0)
        return 0;
    dst[escape_into(src, len, flags, TEXT, dst, size - 1, size - 1, &took)] = '\0';
    return took;
}

char *escape_cut(const uint8_t *src, size_t len, size_t total, char *dst, size_t size)
{
    char mark[64];
    if (size == 0)
        return dst;
    size_t took = escape_text(src, len, 0, dst, size);
    if (took == total)
        return dst;
    /* Cut: the mark goes at the end, and what is shown gives it room (the count shrinks only). */
    size_t room = (size_t)snprintf(mark, sizeof mark, " ... (%zu more bytes)", total);
    took = escape_text(src, took, 0, dst, size > room ? size - room : 1);
    snprintf(mark, sizeof mark, " ... (%zu more bytes)", total - took);
    size_t n = strlen(dst);
    snprintf(dst + n, size - n, "%s", mark);
    return dst;
}

char *escape_str(const char *s, char *dst, size_t size)
{
    size_t len = strlen(s);
    return escape_cut((const uint8_t *)s, len, len, dst, size);
}

void escape_c_literal(const uint8_t *data, uint32_t len, int more, size_t max, char *buf,
                      size_t size)
{
    if (size < 8) {
        if (size > 0)
            buf[0] = '\0';
        return;
    }
    /*
     * Room for the quotes and "..."; pieces begin while fewer than max
     * characters, the opening quote included, are written.
     */
    size_t took = 0, soft = max > 1 ? max - 1 : 0;
    buf[0] = '"';
    size_t n = 1 + escape_into(data, len, ESCAPE_QUOTE, TEXT, buf + 1, soft, size - 6, &took);
    buf[n++] = '"';
    if (took < len || more) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

size_t escape_json(const uint8_t *src, size_t len, char *dst, size_t room)
{
    size_t took = 0;
    return escape_into(src, len, ESCAPE_QUOTE, JSON, dst, room, room, &took);
}

/* The entity an HTML page needs for c instead of c itself, or NULL. */
static const char *html_entity(uint8_t c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

size_t escape_html(const char *src, char *dst, size_t room)
{
    /*
     * The text timeline's rules for a stream of lines (what is given is often
     * a line already escaped, and its note: a backslash stays as written),
     * then markup made text.
     */
    const uint8_t *s = (const uint8_t *)src;
    size_t n = 0, len = strlen(src);
    for (size_t i = 0; i < len;) {
        char esc[8];
        size_t esclen, step = next_piece(s + i, len - i, ESCAPE_KEEP_LINES, TEXT, esc, &esclen);
        const char *out = esclen ? esc : src + i, *entity = esclen ? NULL : html_entity(s[i]);
        size_t need = esclen ? esclen : step;
        if (entity) {
            out = entity;
            need = strlen(entity);
        }
        if (need > room - n)
            break;
        memcpy(dst + n, out, need);
        n += need;
        i += step;
    }
    return n;
}
