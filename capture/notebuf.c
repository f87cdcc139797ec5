/*
 * notebuf: a note built a phrase at a time (notebuf.h).
 */
#include "notebuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct notebuf notebuf_at(char *buf, size_t cap)
{
    struct notebuf n = { buf, 0, cap };
    buf[0] = '\0';
    return n;
}

/*
 * Does fmt use only what put_plain() writes: %s, %d and %u (with l or ll),
 * and %%? Anything else (a width, a precision, a float) goes to vsnprintf.
 */
static bool plain_format(const char *fmt)
{
    for (const char *p = strchr(fmt, '%'); p; p = strchr(p, '%')) {
        p++;
        if (*p == '%' || *p == 's') {
            p++;
            continue;
        }
        p += p[0] == 'l' ? (p[1] == 'l' ? 2 : 1) : 0;
        if (*p != 'd' && *p != 'u')
            return false;
        p++;
    }
    return true;
}

/* len bytes at the note's end, cut where the buffer ends; the length counts them all. */
static void put(struct notebuf *n, size_t *at, const char *s, size_t len)
{
    if (*at < n->cap - 1) {
        size_t room = n->cap - 1 - *at;
        memcpy(n->buf + *at, s, len < room ? len : room);
    }
    *at += len;
}

/* v in decimal, a '-' before it if negative. */
static void put_number(struct notebuf *n, size_t *at, unsigned long long v, bool negative)
{
    char digits[24], *p = digits + sizeof digits;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    if (negative)
        *--p = '-';
    put(n, at, p, (size_t)(digits + sizeof digits - p));
}

/*
 * What vsnprintf would write for a format plain_format() accepts, without
 * its parsing: a note is many phrases, each mostly words and names.
 */
static size_t put_plain(struct notebuf *n, const char *fmt, va_list ap)
{
    size_t at = n->len;
    for (;;) {
        const char *pc = strchr(fmt, '%');
        if (!pc) {
            put(n, &at, fmt, strlen(fmt));
            break;
        }
        put(n, &at, fmt, (size_t)(pc - fmt));
        const char *p = pc + 1;
        if (*p == '%') {
            put(n, &at, "%", 1);
        } else if (*p == 's') {
            const char *arg = va_arg(ap, const char *);
            if (!arg)
                arg = "(null)"; /* as glibc prints it */
            put(n, &at, arg, strlen(arg));
        } else {
            int longs = p[0] == 'l' ? (p[1] == 'l' ? 2 : 1) : 0;
            p += longs;
            if (*p == 'd') {
                long long v = longs == 2   ? va_arg(ap, long long)
                              : longs == 1 ? va_arg(ap, long)
                                           : va_arg(ap, int);
                put_number(n, &at, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
                           v < 0);
            } else {
                unsigned long long v = longs == 2   ? va_arg(ap, unsigned long long)
                                       : longs == 1 ? va_arg(ap, unsigned long)
                                                    : va_arg(ap, unsigned);
                put_number(n, &at, v, false);
            }
        }
        fmt = p + 1;
    }
    n->buf[at < n->cap - 1 ? at : n->cap - 1] = '\0';
    return at - n->len;
}

void notebuf_vadd(struct notebuf *n, const char *fmt, va_list ap)
{
    if (n->len + 1 >= n->cap)
        return;
    if (plain_format(fmt)) {
        n->len += put_plain(n, fmt, ap);
        if (n->len >= n->cap)
            n->len = n->cap - 1;
        return;
    }
    int w = vsnprintf(n->buf + n->len, n->cap - n->len, fmt, ap);
    if (w < 0)
        return;
    n->len += (size_t)w;
    if (n->len >= n->cap)
        n->len = n->cap - 1;
}

void notebuf_add(struct notebuf *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    notebuf_vadd(n, fmt, ap);
    va_end(ap);
}

void notebuf_cut(struct notebuf *n, size_t len)
{
    if (len < n->len) {
        n->len = len;
        n->buf[len] = '\0';
    }
}
