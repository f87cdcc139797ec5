/*
 * options: sigtrace's command line, read and checked before anything runs,
 * and the packet filter its -p and -f make.
 */
#ifndef SIGTRACE_OPTIONS_H
#define SIGTRACE_OPTIONS_H

#include <stddef.h>

#include "output.h"

#define PROG "sigtrace"

struct options {
    const char *iface, *filter, *port, *write_path, *read_path, *json_path;
    /* Pictures of the story, by kind (--html, --svg, --ladder-file): NULL for none. */
    const char *pictures[PICTURES];
    const char *zeek_log_path; /* Zeek's conn.log (--zeek-log) */
    int zeek_log_json;         /* ... as JSON (--zeek-log-format json) */
    enum output_format format;
    unsigned long buffer_kib; /* the kernel's capture buffer (-B) */
    int netns;
    int summary; /* -r --summary: the connections' records only */
    char **command;
};

/*
 * Read argv's options into *opt. A requested help goes to standard output
 * and succeeds; a usage error goes to standard error and exits 2.
 */
void options_parse(int argc, char **argv, struct options *opt);

/* The capture's filter that -p and -f make together into buf ("" for none). */
void options_filter(const struct options *opt, char *buf, size_t len);

#endif
