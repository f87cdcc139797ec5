/*
 * die: the kit's programs' failure messages (die.h).
 */
#include "die.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *program = "sigpipe-lab";

void die_init(const char *name) { program = name; }

/* "program: " and the formatted message, on standard error. */
static void begin(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
}

void die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;
    va_start(ap, fmt);
    begin(fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", strerror(err));
    exit(1);
}

void die_hint(const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    begin(fmt, ap);
    va_end(ap);
    if (hint)
        fprintf(stderr, " (%s)", hint);
    fputc('\n', stderr);
    exit(1);
}

void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    begin(fmt, ap);
    va_end(ap);
    fprintf(stderr, " (%s --help says how)\n", program);
    exit(2);
}
