/*
 * notebuf: a note built phrase by phrase is what snprintf would make of the
 * same phrases, whole or cut at any buffer size, whichever way notebuf
 * writes each phrase (its own for %s, %d, %u; vsnprintf for the rest).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../capture/notebuf.h"
#include "check.h"

/* The same three phrases through notebuf and through snprintf, into cap bytes. */
static void same_as_snprintf(size_t cap, const char *name, int d, unsigned u, long long lld,
                             unsigned long long llu, long ld, double f)
{
    char got[256], want[256];
    struct notebuf n = notebuf_at(got, cap);
    notebuf_add(&n, "%s closed first%s: %d, %u", name, "", d, u);
    notebuf_add(&n, "; %lld left, %llu sent, %ld%% more", lld, llu, ld);
    notebuf_add(&n, " (%.1f s)", f);
    char whole[512];
    snprintf(whole, sizeof whole,
             "%s closed first%s: %d, %u; %lld left, %llu sent, %ld%% more (%.1f s)", name, "", d, u,
             lld, llu, ld, f);
    snprintf(want, cap, "%s", whole);
    CHECK_STR(got, want);
    CHECK(n.len == strlen(want));
}

int main(void)
{
    for (size_t cap = 1; cap <= 160; cap++) {
        same_as_snprintf(cap, "the client", 0, 0, 0, 0, 0, 0.0);
        same_as_snprintf(cap, "server 2", -1, 1, -1, 1, -1, 1.25);
        same_as_snprintf(cap, "", INT_MIN, UINT_MAX, LLONG_MIN, ULLONG_MAX, LONG_MIN, 1e9);
        same_as_snprintf(cap, "x", INT_MAX, 4294967295u, LLONG_MAX, 10, LONG_MAX, -0.5);
    }
    /* Where the note is full, nothing more is written. */
    char buf[8];
    struct notebuf n = notebuf_at(buf, sizeof buf);
    notebuf_add(&n, "%s", "1234567890");
    notebuf_add(&n, "%d", 5);
    CHECK_STR(buf, "1234567");
    CHECK(n.len == 7);
    /* A trailing '%' or an unknown conversion goes to vsnprintf, whole. */
    n = notebuf_at(buf, sizeof buf);
    notebuf_add(&n, "%5s|", "ab");
    CHECK_STR(buf, "   ab|");
    return check_done();
}
