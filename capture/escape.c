/*
 * escape: bytes from outside made safe for a terminal and for JSON.
 */
#include "escape.h"

#include <stdbool.h>
#include <string.h>

static const char HEX[] = "0123456789abcdef";

/* The two-character escape of a byte that has one (\n, \"), else NULL. */
static const char *named_escape(uint8_t c)
{
    switch (c) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '"': return "\\\"";
    case '\\': return "\\\\";
    default: return NULL;
    }
}

void escape_c_literal(const uint8_t *data, uint32_t len, int more, size_t max, char *buf,
                      size_t size)
{
    size_t n = 0;
    if (size < 8) {
        if (size > 0)
            buf[0] = '\0';
        return;
    }
    buf[n++] = '"';
    uint32_t i;
    for (i = 0; i < len && n + 6 < size && n < max; i++) {
        uint8_t c = data[i];
        const char *esc = c == 0 ? "\\0" : named_escape(c);
        if (esc) {
            memcpy(buf + n, esc, 2);
            n += 2;
        } else if (c >= 0x20 && c < 0x7f) {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = HEX[c >> 4];
            buf[n++] = HEX[c & 15];
        }
    }
    buf[n++] = '"';
    if ((i < len || more) && n + 4 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

/* Copy up to len bytes to dst at *n, as many as room leaves; false if some did not fit. */
static bool put(char *dst, size_t room, size_t *n, const void *src, size_t len)
{
    size_t fits = len < room - *n ? len : room - *n;
    memcpy(dst + *n, src, fits);
    *n += fits;
    return fits == len;
}

size_t escape_json(const uint8_t *src, size_t len, char *dst, size_t room)
{
    size_t n = 0, plain = 0; /* plain: start of the run of plain bytes not yet copied */
    for (size_t i = 0; i < len; i++) {
        uint8_t c = src[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        if (!put(dst, room, &n, src + plain, i - plain))
            return n;
        plain = i + 1;
        char esc[6] = { '\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15] };
        size_t elen = sizeof esc;
        const char *named = named_escape(c);
        if (named) {
            memcpy(esc, named, 2);
            elen = 2;
        }
        if (elen > room - n)
            return n;
        memcpy(dst + n, esc, elen);
        n += elen;
    }
    put(dst, room, &n, src + plain, len - plain);
    return n;
}
