/*
 * options: sigtrace's command line. Every option is checked here, before
 * anything runs: a bad value, an option that means nothing with another,
 * or an output that would overwrite the input or another output is said,
 * with the way out, and ends the program (status 2).
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The kernel's capture buffer, in KiB (-B): room for a burst of many thousand frames. */
#define CAPTURE_BUFFER_KIB 32768
/* -B's bounds: a page (the kernel's smallest ring), and 4 GiB. */
#define CAPTURE_BUFFER_MIN 4
#define CAPTURE_BUFFER_MAX 4194304

static void usage(FILE *to, int status) __attribute__((noreturn));
static void usage(FILE *to, int status)
{
    fprintf(
        to,
        "usage: " PROG
        " [options] -- COMMAND [ARG...]   run COMMAND and its children, trace them and the wire\n"
        "       " PROG
        " [options] -r FILE               annotate a capture made elsewhere (pcap or pcapng)\n"
        "\n"
        "  -i IFACE           interface to capture (default lo)\n"
        "  -p PORT            only this TCP port\n"
        "  -f EXPR            only packets that match this BPF filter (man pcap-filter)\n"
        "  -w FILE            write the capture as pcapng, each annotation a packet comment\n"
        "  -o, --json-file FILE  write the events as JSON Lines to FILE too\n"
        "  -B KIB             the kernel's capture buffer, in KiB (default 32768)\n"
        "  --json             JSON Lines on standard output instead of the text timeline\n"
        "                     (COMMAND's own standard output then goes to standard error)\n"
        "  --ladder           a sequence (ladder) diagram: client side left, server side right\n"
        "  --html FILE        write the story as a page: a sequence diagram to click through\n"
        "  --svg FILE         write the story's sequence diagram as an SVG image\n"
        "  --ladder-file FILE write the ladder (as --ladder draws it) to FILE too, from the same\n"
        "                     run as the timeline on standard output\n"
        "  --zeek-log FILE    write the TCP connections as Zeek's conn.log (TSV)\n"
        "  --zeek-log-format tsv|json  conn.log as Zeek's TSV (the default) or its JSON (one\n"
        "                     object a line, as LogAscii::use_json=T writes it)\n"
        "  --summary          with -r: the connections' records only (and the counts of frames\n"
        "                     skipped), no packets, no notes on them: fast on a large capture\n"
        "  --netns            run COMMAND in a private network namespace (no root needed where the\n"
        "                     kernel allows unprivileged user namespaces)\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: COMMAND's (128+N if killed by signal N); 3 if COMMAND succeeded but the\n"
        "capture lost packets; 130/143/129 if sigtrace was interrupted by SIGINT/SIGTERM/SIGHUP;\n"
        "1 on failure; 2 on bad arguments; 0 after --help.\n");
    exit(status);
}

/*
 * Does output name the file that input names? Same name, or same device and
 * inode. An input of "-" is standard input (as -r takes it); an output is
 * always a file of that name.
 */
static int same_file(const char *input, int input_is_read, const char *output)
{
    int stdin_input = input_is_read && !strcmp(input, "-");
    if (!stdin_input && !strcmp(input, output))
        return 1;
    struct stat si, so;
    if ((stdin_input ? fstat(0, &si) : stat(input, &si)) < 0 || stat(output, &so) < 0)
        return 0;
    return si.st_dev == so.st_dev && si.st_ino == so.st_ino;
}

void options_parse(int argc, char **argv, struct options *opt)
{
    enum {
        OPT_JSON = 256,
        OPT_LADDER,
        OPT_NETNS,
        OPT_HTML,
        OPT_SVG,
        OPT_ZEEK_LOG,
        OPT_SUMMARY,
        OPT_ZEEK_LOG_FORMAT,
        OPT_LADDER_FILE
    };
    static const struct option longopts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "ladder", no_argument, NULL, OPT_LADDER },
        { "netns", no_argument, NULL, OPT_NETNS },
        { "json-file", required_argument, NULL, 'o' },
        { "html", required_argument, NULL, OPT_HTML },
        { "svg", required_argument, NULL, OPT_SVG },
        { "zeek-log", required_argument, NULL, OPT_ZEEK_LOG },
        { "summary", no_argument, NULL, OPT_SUMMARY },
        { "zeek-log-format", required_argument, NULL, OPT_ZEEK_LOG_FORMAT },
        { "ladder-file", required_argument, NULL, OPT_LADDER_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(opt, 0, sizeof(*opt));
    opt->format = OUT_TEXT;
    opt->buffer_kib = CAPTURE_BUFFER_KIB;
    int formats = 0, c;
    const char *zeek_format = NULL;
    /* "+": stop at the first word that is not an option: it is COMMAND. */
    while ((c = getopt_long(argc, argv, "+i:p:f:w:r:o:B:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': opt->iface = optarg; break;
        case 'p': opt->port = optarg; break;
        case 'f': opt->filter = optarg; break;
        case 'w': opt->write_path = optarg; break;
        case 'r': opt->read_path = optarg; break;
        case 'o': opt->json_path = optarg; break;
        case 'B': {
            char *end;
            errno = 0;
            unsigned long kib = strtoul(optarg, &end, 10);
            if (errno || *end || optarg[0] < '1' || optarg[0] > '9' || kib < CAPTURE_BUFFER_MIN ||
                kib > CAPTURE_BUFFER_MAX) {
                fprintf(stderr, PROG ": bad buffer size '%s': give KiB from %d to %d\n", optarg,
                        CAPTURE_BUFFER_MIN, CAPTURE_BUFFER_MAX);
                usage(stderr, 2);
            }
            opt->buffer_kib = kib;
            break;
        }
        case OPT_JSON:
            opt->format = OUT_JSON;
            formats++;
            break;
        case OPT_LADDER:
            opt->format = OUT_LADDER;
            formats++;
            break;
        case OPT_NETNS: opt->netns = 1; break;
        case OPT_HTML: opt->pictures[PICTURE_PAGE] = optarg; break;
        case OPT_SVG: opt->pictures[PICTURE_SVG] = optarg; break;
        case OPT_LADDER_FILE: opt->pictures[PICTURE_LADDER] = optarg; break;
        case OPT_ZEEK_LOG: opt->zeek_log_path = optarg; break;
        case OPT_SUMMARY: opt->summary = 1; break;
        case OPT_ZEEK_LOG_FORMAT: zeek_format = optarg; break;
        case 'h': usage(stdout, 0);
        default: usage(stderr, 2);
        }
    }
    if (formats > 1) {
        fprintf(stderr, PROG ": choose one of --json and --ladder\n");
        usage(stderr, 2);
    }
    if (zeek_format) {
        if (strcmp(zeek_format, "json") != 0 && strcmp(zeek_format, "tsv") != 0) {
            fprintf(stderr, PROG ": bad conn.log format '%s': give tsv or json\n", zeek_format);
            usage(stderr, 2);
        }
        if (!opt->zeek_log_path) {
            fprintf(stderr, PROG ": --zeek-log-format says how to write --zeek-log FILE: give "
                                 "that too\n");
            usage(stderr, 2);
        }
        opt->zeek_log_json = !strcmp(zeek_format, "json");
    }
    if (opt->port) {
        char *end;
        long port = strtol(opt->port, &end, 10);
        if (*end || port < 1 || port > 65535) {
            fprintf(stderr, PROG ": bad port '%s': give a number from 1 to 65535\n", opt->port);
            usage(stderr, 2);
        }
    }
    if (optind < argc)
        opt->command = argv + optind;
    if (!opt->command == !opt->read_path) {
        fprintf(stderr, PROG ": give either a COMMAND (after --) or -r FILE\n");
        usage(stderr, 2);
    }
    if (opt->read_path && opt->netns) {
        fprintf(stderr, PROG ": --netns runs a COMMAND; it means nothing with -r\n");
        usage(stderr, 2);
    }
    if (opt->summary && !opt->read_path) {
        fprintf(stderr, PROG ": --summary summarises a capture file: give -r FILE\n");
        usage(stderr, 2);
    }
    /* The summary has no packets: what draws or comments them has nothing to work on. */
    const struct {
        const char *flag;
        int given;
    } per_packet[] = { { "--ladder", opt->format == OUT_LADDER },
                       { picture_options[PICTURE_PAGE], opt->pictures[PICTURE_PAGE] != NULL },
                       { picture_options[PICTURE_SVG], opt->pictures[PICTURE_SVG] != NULL },
                       { picture_options[PICTURE_LADDER], opt->pictures[PICTURE_LADDER] != NULL },
                       { "-w", opt->write_path != NULL } };
    for (size_t i = 0; opt->summary && i < sizeof(per_packet) / sizeof(per_packet[0]); i++)
        if (per_packet[i].given) {
            fprintf(stderr,
                    PROG ": %s needs each packet, and --summary leaves the packets out: give one "
                         "or the other\n",
                    per_packet[i].flag);
            usage(stderr, 2);
        }
    /* An output opened on the input, or on the other output, would destroy what is in it. */
    const struct {
        const char *flag, *path;
    } outputs[] = { { "-w", opt->write_path },
                    { "-o", opt->json_path },
                    { picture_options[PICTURE_PAGE], opt->pictures[PICTURE_PAGE] },
                    { picture_options[PICTURE_SVG], opt->pictures[PICTURE_SVG] },
                    { picture_options[PICTURE_LADDER], opt->pictures[PICTURE_LADDER] },
                    { "--zeek-log", opt->zeek_log_path } };
    for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
        if (opt->read_path && outputs[i].path && same_file(opt->read_path, 1, outputs[i].path)) {
            fprintf(
                stderr,
                PROG
                ": %s %s is the capture -r reads: writing it would destroy it; give another file\n",
                outputs[i].flag, outputs[i].path);
            exit(2);
        }
    size_t n = sizeof(outputs) / sizeof(outputs[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (outputs[i].path && outputs[j].path &&
                same_file(outputs[i].path, 0, outputs[j].path)) {
                fprintf(stderr,
                        PROG ": %s and %s both name %s: each output needs a file of its own\n",
                        outputs[i].flag, outputs[j].flag, outputs[i].path);
                exit(2);
            }
}

void options_filter(const struct options *opt, char *buf, size_t len)
{
    buf[0] = '\0';
    if (opt->port && opt->filter)
        snprintf(buf, len, "port %s and (%s)", opt->port, opt->filter);
    else if (opt->port)
        snprintf(buf, len, "port %s", opt->port);
    else if (opt->filter)
        snprintf(buf, len, "%s", opt->filter);
}
