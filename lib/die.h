/*
 * die: how the kit's programs (sigtrace, probe, loadgen, gencap) report a
 * failure and stop, in one shape: "program: what failed: why (what to do)".
 * Exit status 1 for a failure, 2 for bad usage. Modules never call these:
 * they return an error to the program, which decides.
 */
#ifndef SIGPIPE_LAB_DIE_H
#define SIGPIPE_LAB_DIE_H

/* The name every message begins with; call first. */
void die_init(const char *program);

/*
 * For a program whose failures mean something else (the grader's probe: 3,
 * "the scenario could not be run"): the status die() and die_hint() exit
 * with, the hint die() adds, and what to do first (kill what was started).
 */
void die_failure(int status, const char *hint, void (*before_exit)(void));

/* "program: <fmt>: <strerror(errno)>", then exit 1 (or die_failure()'s status, hint added). */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "program: <fmt> (<hint>)" (a NULL hint: die_failure()'s, if any), then exit 1 (or die_failure()'s). */
_Noreturn void die_hint(const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "program: <fmt> (program --help says how)", then exit 2. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
