/*
 * escape: bytes that came from outside (a traced program, a capture) made safe
 * to show: as a C string literal on the text timeline, or as the inside of a
 * JSON string. Pure functions into the caller's buffer; nothing is allocated.
 */
#ifndef SIGTRACE_ESCAPE_H
#define SIGTRACE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/*
 * len bytes as a C string literal, quotes included: printable ASCII as it is,
 * \n \r \t \" \\ \0 by name, every other byte as \xNN. At most max characters
 * of escapes are written; "..." follows the closing quote when bytes were left
 * out, or when more says the data went on. Always NUL-terminated when size > 0;
 * writes nothing but "" when size is below 8.
 */
void escape_c_literal(const uint8_t *data, uint32_t len, int more, size_t max, char *buf,
                      size_t size);

/*
 * The inside of a JSON string (no quotes) for len bytes: printable ASCII as
 * it is, \" \\ \n \r \t, every other byte as \u00XX. Writes at most room bytes
 * into dst, never half an escape; returns how many it wrote.
 */
size_t escape_json(const uint8_t *src, size_t len, char *dst, size_t room);

/*
 * The NUL-terminated src as the text of an HTML or XML element or attribute:
 * & < > " ' as entities, UTF-8 as it is, every control byte (C0, DEL, C1) and
 * every byte that is not part of UTF-8 as the four characters \xNN. Writes at
 * most room bytes into dst, never half an escape or character; returns how
 * many it wrote (no NUL is added).
 */
size_t escape_html(const char *src, char *dst, size_t room);

#endif
