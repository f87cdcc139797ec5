/*
 * notebuf: the one way a note is written, a phrase at a time, into a
 * fixed buffer: what does not fit is cut, never overrun. notes.c and
 * notes_tcp.c both build their notes with it.
 */
#ifndef SIGTRACE_NOTEBUF_H
#define SIGTRACE_NOTEBUF_H

#include <stdarg.h>
#include <stddef.h>

struct notebuf {
    char *buf;
    size_t len, cap; /* buf holds len characters and a '\0'; cap > 0 */
};

/* An empty note in buf (cap bytes). */
struct notebuf notebuf_at(char *buf, size_t cap);

/* Append to the note, cut at the buffer's end. */
void notebuf_add(struct notebuf *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void notebuf_vadd(struct notebuf *n, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Go back to an earlier length (a phrase taken back). */
void notebuf_cut(struct notebuf *n, size_t len);

#endif
