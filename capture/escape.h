/*
 * escape: bytes that came from outside (a traced program, a capture, a
 * student's server) made safe to show, by one set of rules, wherever they
 * go: a terminal, a pcapng comment, a JSON string, the grader's evidence.
 *
 * Text that is text stays as it is: printable ASCII and valid UTF-8
 * ("café" is café). What could act on a terminal never reaches it: control
 * bytes (ESC, BEL, ...) and DEL as \xNN (\n \r \t \0 by name), the C1
 * controls (U+0080 to U+009F) as \u0080 ... \u009f, Unicode's
 * bidirectional overrides and isolates as \u202e and the like; a byte that
 * is no part of valid UTF-8 as \xNN. A backslash is \\, so that every
 * escape reads one way.
 *
 * Pure functions into the caller's buffer; nothing is allocated; nothing is
 * ever written half: an escape or a character fits whole or waits.
 */
#ifndef SIGTRACE_ESCAPE_H
#define SIGTRACE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* What escape_text does beyond the rules above. */
enum escape_flags {
    ESCAPE_QUOTE = 1, /* " as \" too: for a string shown between quotes */
    /*
     * A stream of lines as people wrote them (a compiler's messages, a
     * server's log): newline, tab and backslash as they are.
     */
    ESCAPE_KEEP_LINES = 2,
};

/*
 * len bytes for people to read into dst (size bytes, NUL-terminated when
 * size > 0). Returns how many bytes of src it took: all len, unless dst
 * filled up first.
 */
size_t escape_text(const uint8_t *src, size_t len, unsigned flags, char *dst, size_t size);

/*
 * A string of total bytes, of which the first len are known (a name, a
 * command line, a line of output; len <= total), escaped for people into
 * dst, with a mark when some is not shown: " ... (N more bytes)", N counted
 * in the original's bytes. Returns dst.
 */
char *escape_cut(const uint8_t *src, size_t len, size_t total, char *dst, size_t size);

/* The same for a NUL-terminated string known whole: escape_cut(s, strlen(s), strlen(s), ...). */
char *escape_str(const char *s, char *dst, size_t size);

/*
 * len bytes as a C string literal, quotes included, as escape_text writes
 * them with ESCAPE_QUOTE. At most max characters are written between the
 * quotes; "..." follows the closing quote when bytes were left out, or when
 * more says the data went on. Always NUL-terminated when size > 0; writes
 * nothing but "" when size is below 8.
 */
void escape_c_literal(const uint8_t *data, uint32_t len, int more, size_t max, char *buf,
                      size_t size);

/*
 * The inside of a JSON string (no quotes) for len bytes: valid UTF-8 as it
 * is (a JSON reader gets "café" back), " and \ escaped, \n \r \t by name,
 * other control bytes, DEL, C1 controls and bidirectional controls as
 * \u00XX or \u202e; a byte that is no part of valid UTF-8 as the six
 * characters \\xNN, so that the reader sees \xNN, as the text timeline
 * shows it. Writes at most room bytes into dst, never half an escape or a
 * character; returns how many it wrote.
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
