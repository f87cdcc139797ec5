/*
 * connlog: Zeek's conn.log for the TCP connections summarised (--zeek-log
 * FILE), as Zeek writes it: TSV with its header lines, or JSON as with
 * LogAscii::use_json=T (--zeek-log-format json: one object a line, the
 * #fields names as keys, ts a number, unset fields left out, no header).
 * Written to a temporary file beside FILE and renamed over it at the end,
 * so a reader never sees half a log.
 *
 * Only what the tracker knows is filled in: service, local_orig,
 * local_resp and tunnel_parents are unset ("-"); uid is derived from the connection's ends and first time, so the
 * same capture gives the same uids.
 */
#ifndef SIGTRACE_CONNLOG_H
#define SIGTRACE_CONNLOG_H

#include "event.h"

struct connlog;

/*
 * The log for path, as JSON if json, else TSV with its header written; NULL
 * with err filled (the path named) on failure.
 */
struct connlog *connlog_open(const char *path, int json, char *err, size_t errlen);

/* One line for one connection. */
void connlog_write(struct connlog *l, const struct conn_summary *s);

/* The #close line (TSV), then the file in place. 0, or -1 with err filled (the log removed). */
int connlog_close(struct connlog *l, char *err, size_t errlen);

#endif
