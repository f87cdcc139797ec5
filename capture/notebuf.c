/*
 * notebuf: a note built a phrase at a time (notebuf.h).
 */
#include "notebuf.h"

#include <stdio.h>

struct notebuf notebuf_at(char *buf, size_t cap)
{
    struct notebuf n = { buf, 0, cap };
    buf[0] = '\0';
    return n;
}

void notebuf_vadd(struct notebuf *n, const char *fmt, va_list ap)
{
    if (n->len + 1 >= n->cap)
        return;
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
