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
static int failure_status = 1;
static const char *failure_hint;
static void (*before_exit)(void);

void die_init(const char *name) { program = name; }

void die_failure(int status, const char *hint, void (*fn)(void))
{
    failure_status = status;
    failure_hint = hint;
    before_exit = fn;
}

/* Stop, failed. */
static _Noreturn void fail(void)
{
    if (before_exit)
        before_exit();
    exit(failure_status);
}

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
    fprintf(stderr, ": %s", strerror(err));
    if (failure_hint)
        fprintf(stderr, " (%s)", failure_hint);
    fputc('\n', stderr);
    fail();
}

void die_hint(const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    begin(fmt, ap);
    va_end(ap);
    if (hint || failure_hint)
        fprintf(stderr, " (%s)", hint ? hint : failure_hint);
    fputc('\n', stderr);
    fail();
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
