/*
 * capture: the libpcap side. Open, filter, loop: the rest is decoding.
 */
#include "capture.h"

#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct capture {
    pcap_t *pcap;
    int live;
    int nano; /* timestamps are in nanoseconds (else microseconds) */
    char name[256];
    capture_packet_fn fn;
    void *ctx;
    char *buffer; /* the file's stdio buffer (open_buffered), freed once pcap_close closed it */
};

/* Compile the BPF expression text and set it. */
static int apply_filter(struct capture *c, const char *text, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(c->pcap, &prog, text, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(err, errlen, "bad capture filter \"%s\": %s (see man pcap-filter)", text,
                 pcap_geterr(c->pcap));
        return -1;
    }
    int rc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(err, errlen, "cannot set the capture filter: %s", pcap_geterr(c->pcap));
        return -1;
    }
    return 0;
}

/* A live capture's filter: only TCP (lo and Ethernet carry it plainly), and expr if given. */
static int set_filter(struct capture *c, const char *expr, char *err, size_t errlen)
{
    char text[1024];
    if (expr && *expr)
        snprintf(text, sizeof(text), "tcp and (%s)", expr);
    else
        snprintf(text, sizeof(text), "tcp");
    return apply_filter(c, text, err, errlen);
}

/* What to do when capturing is not allowed, naming this very program for setcap. */
static void permission_advice(char *buf, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0)
        self[n] = '\0';
    else
        snprintf(self, sizeof(self), "sigtrace");
    snprintf(buf, len,
             "run as root, or give sigtrace the capabilities "
             "(sudo setcap cap_net_raw,cap_net_admin+eip %s), or use --netns",
             self);
}

struct capture *capture_open_live(const char *iface, const char *filter, uint32_t snaplen,
                                  size_t buffer_bytes, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct capture *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->live = 1;
    snprintf(c->name, sizeof(c->name), "%s", iface);
    c->pcap = pcap_create(iface, pcap_err);
    if (!c->pcap) {
        snprintf(err, errlen, "cannot capture on %s: %s", iface, pcap_err);
        free(c);
        return NULL;
    }
    pcap_set_snaplen(c->pcap, (int)snaplen);
    pcap_set_promisc(c->pcap, 0);
    pcap_set_immediate_mode(c->pcap, 1);
    pcap_set_buffer_size(c->pcap, buffer_bytes > INT_MAX ? INT_MAX : (int)buffer_bytes);
    c->nano = pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO) == 0;
    int rc = pcap_activate(c->pcap);
    if (rc < 0) {
        const char *why = pcap_geterr(c->pcap);
        char advice[4352];
        permission_advice(advice, sizeof(advice));
        if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
            snprintf(err, errlen, "cannot capture on %s: permission denied (%s)", iface, advice);
        else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
            snprintf(err, errlen,
                     "cannot capture on %s: no such interface (see ip link; the default is lo)",
                     iface);
        else
            snprintf(err, errlen, "cannot capture on %s: %s", iface,
                     why && *why ? why : pcap_statustostr(rc));
        pcap_close(c->pcap);
        free(c);
        return NULL;
    }
    if (c->nano)
        c->nano = pcap_get_tstamp_precision(c->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    if (set_filter(c, filter, err, errlen) < 0 || pcap_setnonblock(c->pcap, 1, pcap_err) < 0) {
        if (!*err)
            snprintf(err, errlen, "cannot capture on %s: %s", iface, pcap_err);
        pcap_close(c->pcap);
        free(c);
        return NULL;
    }
    /* The traced command must not inherit the capture socket. */
    int fd = pcap_get_selectable_fd(c->pcap);
    if (fd >= 0)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    return c;
}

/*
 * A capture file read through a larger buffer than stdio's own (4 KB): a
 * million packets are then some 560 reads instead of eighteen thousand, and
 * each read costs a system call. No larger, though: 128 KB stays in the
 * cache with the connections the packets go to, where each read of a 1 MB
 * buffer pushed them out (and its 256 pages each cost a fault on first
 * use). NULL when that cannot be done (standard input, a file that will not
 * open or is no capture): libpcap then opens it itself, and says what is
 * wrong in its words.
 */
static pcap_t *open_buffered(struct capture *c, const char *path)
{
    enum { READ_BUFFER = 1 << 17 };
    if (!strcmp(path, "-"))
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char unused[PCAP_ERRBUF_SIZE];
    pcap_t *p = NULL;
    /* glibc sizes the buffer it allocates itself by the file system's block, whatever we ask. */
    c->buffer = malloc(READ_BUFFER);
    if (c->buffer && setvbuf(f, c->buffer, _IOFBF, READ_BUFFER) == 0)
        p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, unused);
    if (!p) {
        fclose(f);
        free(c->buffer);
        c->buffer = NULL;
    }
    return p;
}

struct capture *capture_open_file(const char *path, const char *filter, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct capture *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(c->name, sizeof(c->name), "%s", path);
    c->pcap = open_buffered(c, path);
    if (!c->pcap)
        c->pcap =
            pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (!c->pcap) {
        snprintf(err, errlen, "cannot read %s: %s (give a pcap or pcapng file)", path, pcap_err);
        free(c);
        return NULL;
    }
    c->nano = 1;
    /*
     * The user's filter as given, and no "tcp" before it: BPF's tcp looks at
     * one place in the frame, and a VLAN tag, an IPv6 extension header or a
     * tunnel moves the TCP header elsewhere, so it would hide what
     * decode_frame reads. Every frame comes to the decoder; those with no TCP
     * segment are counted.
     */
    if (filter && *filter && apply_filter(c, filter, err, errlen) < 0) {
        pcap_close(c->pcap);
        free(c->buffer);
        free(c);
        return NULL;
    }
    return c;
}

int capture_fd(const struct capture *c) { return c->live ? pcap_get_selectable_fd(c->pcap) : -1; }
int capture_linktype(const struct capture *c) { return pcap_datalink(c->pcap); }
uint32_t capture_snaplen(const struct capture *c) { return (uint32_t)pcap_snapshot(c->pcap); }
const char *capture_name(const struct capture *c) { return c->name; }
const char *capture_error(const struct capture *c) { return pcap_geterr(c->pcap); }

char *capture_linktype_str(int linktype, char *buf, size_t len)
{
    const char *name = pcap_datalink_val_to_name(linktype);
    const char *what = pcap_datalink_val_to_description(linktype);
    if (name && what)
        snprintf(buf, len, "%d, %s (%s)", linktype, name, what);
    else
        snprintf(buf, len, "%d, unknown to libpcap", linktype);
    return buf;
}

const char *capture_time_problem(const struct timespec *ts)
{
    if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
        return "impossible timestamp (fraction of a second out of range)";
    if (ts->tv_sec < 0)
        return "impossible timestamp (before 1970)";
    if ((long long)ts->tv_sec > CAPTURE_TIME_MAX_SEC)
        return "impossible timestamp (after 2255)";
    return NULL;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;
    struct timespec ts = { h->ts.tv_sec, c->nano ? h->ts.tv_usec : h->ts.tv_usec * 1000L };
    c->fn(&ts, bytes, h->caplen, h->len, c->ctx);
}

int capture_dispatch(struct capture *c, int max, capture_packet_fn fn, void *ctx)
{
    c->fn = fn;
    c->ctx = ctx;
    int n = pcap_dispatch(c->pcap, max, on_packet, (u_char *)c);
    if (n == PCAP_ERROR)
        return -2;
    if (n == 0 && !c->live)
        return -1;
    return n < 0 ? 0 : n;
}

int capture_drain(struct capture *c, int max_batches, capture_packet_fn fn, void *ctx)
{
    int total = 0;
    for (int i = 0; i < max_batches; i++) {
        int n = capture_dispatch(c, CAPTURE_BATCH, fn, ctx);
        if (n < 0)
            return n == -2 ? -2 : total;
        total += n;
        if (n < CAPTURE_BATCH)
            break;
    }
    return total;
}

int capture_stats(const struct capture *c, struct capture_stats *st)
{
    struct pcap_stat ps;
    if (!c->live || pcap_stats(c->pcap, &ps) < 0)
        return -1;
    st->received = ps.ps_recv;
    st->dropped = ps.ps_drop;
    st->ifdropped = ps.ps_ifdrop;
    return 0;
}

void capture_close(struct capture *c)
{
    if (!c)
        return;
    pcap_close(c->pcap);
    free(c->buffer);
    free(c);
}
