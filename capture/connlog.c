/*
 * connlog: Zeek's conn.log as TSV or JSON (connlog.h says what is filled in).
 */
#include "connlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct connlog {
    FILE *f;
    char *path, *tmp;
    int json;
};

static void stamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%d-%H-%M-%S", &tm);
}

struct connlog *connlog_open(const char *path, int json, char *err, size_t errlen)
{
    struct connlog *l = calloc(1, sizeof *l);
    size_t n = strlen(path) + 8;
    if (!l || !(l->path = strdup(path)) || !(l->tmp = malloc(n))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    snprintf(l->tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(l->tmp);
    if (fd < 0 || !(l->f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(l->tmp);
        }
        goto fail;
    }
    l->json = json;
    if (json)
        return l; /* JSON has no header: each line names its fields */
    char open[32];
    stamp(open, sizeof open);
    fprintf(l->f,
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            "#path\tconn\n#open\t%s\n"
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
            "duration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\t"
            "history\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"
            "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t"
            "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
            open);
    return l;
fail:
    if (l) {
        free(l->path);
        free(l->tmp);
        free(l);
    }
    return NULL;
}

/* Zeek's uids: 'C' and base62; here from the ends and the first time. */
static void uid(const struct conn_summary *s, char *buf, size_t len)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t h = FNV64_OFFSET;
    h = fnv1a(h, &s->orig_ep, sizeof s->orig_ep);
    h = fnv1a(h, &s->resp_ep, sizeof s->resp_ep);
    h = fnv1a(h, &s->first.tv_sec, sizeof s->first.tv_sec);
    h = fnv1a(h, &s->first.tv_nsec, sizeof s->first.tv_nsec);
    uint64_t more = fnv1a(h, "uid", 3);
    size_t i = 0;
    if (len > 1)
        buf[i++] = 'C';
    /* 17 digits, as long as Zeek's: 10 from one hash, 7 from another. */
    for (; i + 1 < len && i <= 17; i++) {
        uint64_t *from = i <= 10 ? &h : &more;
        buf[i] = digits[*from % 62];
        *from /= 62;
    }
    buf[i] = '\0';
}

/* An endpoint string "a.b.c.d:p" or "[v6]:p" as Zeek's addr and port columns. */
static void split(const char *ep, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon = strrchr(ep, ':');
    size_t hl = colon ? (size_t)(colon - ep) : strlen(ep);
    if (hl >= 2 && ep[0] == '[' && ep[hl - 1] == ']')
        ep++, hl -= 2;
    snprintf(host, hostlen, "%.*s", (int)hl, ep);
    snprintf(port, portlen, "%s", colon ? colon + 1 : "-");
}

/* Is s a port, digits only? (A JSON number; else the field is unset.) */
static int digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/*
 * One line as LogAscii::use_json=T writes it: the fields in the #fields
 * order, unset ones left out; a port and a count are numbers, and so are ts
 * and duration (JSON::TS_EPOCH, the default).
 */
static void write_json(struct connlog *l, const struct conn_summary *s, const char *id,
                       const char *oh, const char *op, const char *rh, const char *rp,
                       double duration)
{
    fprintf(l->f, "{\"ts\":%lld.%06ld,\"uid\":\"%s\",\"id.orig_h\":\"%s\"",
            (long long)s->first.tv_sec, s->first.tv_nsec / 1000, id, oh);
    if (digits(op))
        fprintf(l->f, ",\"id.orig_p\":%s", op);
    fprintf(l->f, ",\"id.resp_h\":\"%s\"", rh);
    if (digits(rp))
        fprintf(l->f, ",\"id.resp_p\":%s", rp);
    fputs(",\"proto\":\"tcp\"", l->f);
    if (duration > 0)
        fprintf(l->f, ",\"duration\":%.6f,\"orig_bytes\":%llu,\"resp_bytes\":%llu", duration,
                (unsigned long long)s->orig_bytes, (unsigned long long)s->resp_bytes);
    fprintf(l->f, ",\"conn_state\":\"%s\",\"missed_bytes\":%llu", s->conn_state,
            (unsigned long long)s->missed_bytes);
    if (s->history[0])
        fprintf(l->f, ",\"history\":\"%s\"", s->history);
    fprintf(
        l->f,
        ",\"orig_pkts\":%llu,\"orig_ip_bytes\":%llu,\"resp_pkts\":%llu,\"resp_ip_bytes\":%llu}\n",
        (unsigned long long)s->orig_pkts, (unsigned long long)s->orig_ip_bytes,
        (unsigned long long)s->resp_pkts, (unsigned long long)s->resp_ip_bytes);
}

void connlog_write(struct connlog *l, const struct conn_summary *s)
{
    char id[24], oh[64], op[8], rh[64], rp[8];
    uid(s, id, sizeof id);
    split(s->orig, oh, sizeof oh, op, sizeof op);
    split(s->resp, rh, sizeof rh, rp, sizeof rp);
    double duration = (double)(s->last.tv_sec - s->first.tv_sec) +
                      (double)(s->last.tv_nsec - s->first.tv_nsec) / 1e9;
    if (l->json) {
        write_json(l, s, id, oh, op, rh, rp, duration);
        return;
    }
    fprintf(l->f, "%lld.%06ld\t%s\t%s\t%s\t%s\t%s\ttcp\t-\t", (long long)s->first.tv_sec,
            s->first.tv_nsec / 1000, id, oh, op, rh, rp);
    /* main.zeek's set_conn: duration and sizes only for a connection that lasted. */
    if (duration > 0)
        fprintf(l->f, "%.6f\t%llu\t%llu\t", duration, (unsigned long long)s->orig_bytes,
                (unsigned long long)s->resp_bytes);
    else
        fputs("-\t-\t-\t", l->f);
    fprintf(l->f, "%s\t-\t-\t%llu\t%s\t%llu\t%llu\t%llu\t%llu\t-\n", s->conn_state,
            (unsigned long long)s->missed_bytes, s->history[0] ? s->history : "-",
            (unsigned long long)s->orig_pkts, (unsigned long long)s->orig_ip_bytes,
            (unsigned long long)s->resp_pkts, (unsigned long long)s->resp_ip_bytes);
}

int connlog_close(struct connlog *l, char *err, size_t errlen)
{
    char close_[32];
    stamp(close_, sizeof close_);
    if (!l->json)
        fprintf(l->f, "#close\t%s\n", close_);
    int bad = ferror(l->f);
    int saved = errno;
    if (fclose(l->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (!bad && rename(l->tmp, l->path) != 0) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        snprintf(err, errlen, "cannot write %s: %s", l->path, strerror(saved));
        unlink(l->tmp);
    }
    free(l->path);
    free(l->tmp);
    free(l);
    return bad ? -1 : 0;
}
