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

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if it is not one or is a control. */
static size_t utf8_char(const uint8_t *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] >= 0xf5 || len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    uint32_t cp = len == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f)
                  : len == 3
                      ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f)
                      : (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
                            (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
    bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    bool bad = overlong || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000) || cp < 0xa0;
    return bad ? 0 : len;
}

size_t escape_html(const char *src, char *dst, size_t room)
{
    const uint8_t *s = (const uint8_t *)src;
    size_t n = 0, len = strlen(src);
    for (size_t i = 0; i < len;) {
        char esc[8];
        const char *out = esc;
        size_t elen = 1, take = 1;
        uint8_t c = s[i];
        switch (c) {
        case '&': out = "&amp;", elen = 5; break;
        case '<': out = "&lt;", elen = 4; break;
        case '>': out = "&gt;", elen = 4; break;
        case '"': out = "&quot;", elen = 6; break;
        case '\'': out = "&#39;", elen = 5; break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                esc[0] = (char)c;
            } else if (c >= 0x80 && (take = utf8_char(s + i, len - i)) > 0) {
                out = src + i;
                elen = take;
            } else {
                /* A control byte, or one that is not UTF-8: shown, never sent raw. */
                take = 1;
                memcpy(esc, "\\x", 2);
                esc[2] = HEX[c >> 4];
                esc[3] = HEX[c & 15];
                elen = 4;
            }
        }
        if (elen > room - n)
            break;
        memcpy(dst + n, out, elen);
        n += elen;
        i += take;
    }
    return n;
}
