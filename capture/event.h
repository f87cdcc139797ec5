/*
 * event: one thing on the timeline, whoever saw it. The capture sees
 * packets; the tracer sees system calls, signals, execs and exits; the end of
 * a run brings connection summaries and the scenario's verdict. Every module
 * speaks in these, and output.c prints them.
 *
 * An event is a plain struct with room for every kind; only the fields of its
 * type mean anything. Events are allocated one by one (event_new) and freed
 * by whoever prints them last.
 */
#ifndef SIGTRACE_EVENT_H
#define SIGTRACE_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "decode.h"
#include "vocab.h"

enum event_type {
    EV_PACKET,
    EV_SYSCALL,
    EV_SIGNAL,
    EV_EXEC,
    EV_EXIT,
    EV_CONNECTION,   /* a connection's summary, when it ended or at the end of the run */
    EV_VERDICT,      /* a traced process wrote a line "verdict: key=value ..." */
    EV_REPEAT_START, /* a process began repeating its last events (text output only) */
    EV_REPEAT,       /* how often a process repeated them: the collapsed events */
    EV_OUTPUT,       /* a traced process wrote to sigtrace's own standard output */
    EV_SKIPPED, /* at the end: frames that carried no TCP segment sigtrace could read, by reason */
};

/* What a process had arranged for a signal when it arrived. */
enum disposition { DISP_DEFAULT, DISP_IGNORED, DISP_CAUGHT };

/* An address and port; family 0 when unknown. */
struct endpoint {
    int family;       /* AF_INET, AF_INET6, or 0 */
    uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t port;    /* host order */
};

/* How the calls we follow are grouped: what they do to a connection. */
enum call_kind {
    CALL_SOCKET,
    CALL_BIND,
    CALL_LISTEN,
    CALL_ACCEPT,
    CALL_CONNECT,
    CALL_SEND,
    CALL_RECV,
    CALL_SHUTDOWN,
    CALL_CLOSE,
    CALL_DUP,      /* dup, dup2, dup3, fcntl F_DUPFD: a second fd for the same socket */
    CALL_OPTION,   /* setsockopt, getsockopt, fcntl F_SETFL: how the socket behaves */
    CALL_SIGNAL,   /* sigaction, sigprocmask, signalfd of SIGPIPE: what a SIGPIPE will do */
    CALL_WAIT,     /* poll, select, epoll_wait ...: waiting until a socket is ready; epoll_ctl */
    CALL_OWN_ARGS, /* never a call's kind: describe_call's for a call with syscall_facts.args */
};

#define EVENT_PREVIEW 40 /* bytes of data kept from each send and receive */
#define EVENT_NOTE 640
#define REPEAT_MAX_PERIOD 8 /* longest cycle of events that collapses */

/*
 * Where a line stands in its call: the whole call (entry and return with
 * nothing between), or its two halves when something happened while it ran
 * (a packet, a signal, another process's call), as strace splits them. An
 * entry is the tracer's word to the timeline that a call began; it is never
 * printed as such. A call still running when its process ended (or ran a new
 * program, which ends its other threads) has no result: its first half is
 * closed by PART_NEVER, at the end, which says it never returned.
 */
enum call_part { PART_WHOLE, PART_ENTRY, PART_UNFINISHED, PART_RESUMED, PART_NEVER };

/* What a socket had been through before a call, as its process's earlier calls showed (sockets.h). */
struct sock_past {
    bool peer_closed;    /* a receive returned 0: the peer's FIN came */
    bool connect_failed; /* its connect() failed */
    bool listening;      /* listen() succeeded on it */
    bool reset;          /* a call on it failed with ECONNRESET: the peer's RST came */
    bool nonblocking;    /* O_NONBLOCK (SOCK_NONBLOCK, or fcntl F_SETFL) */
    bool linger_zero;    /* SO_LINGER set on, with 0 seconds: close() sends RST */
    bool passed;         /* handed to another process (sendmsg, SCM_RIGHTS): it may hold it */
    int others;          /* other fds of this process on the same socket (dup) */
};

/* One followed socket in a wait (poll's pollfd): what was asked, and what came (POLL* bits). */
struct wait_fd {
    int fd;
    uint16_t events, revents;
    int past; /* what earlier calls showed of it (sockets.c): WAIT_LISTENING, WAIT_FIN_SEEN */
};
#define WAIT_LISTENING 1 /* listen() succeeded on it: readable means a connection to accept */
#define WAIT_FIN_SEEN 2  /* a receive on it returned 0: the peer's FIN came */

#define WAIT_SETS 3      /* select's sets: readfds, writefds, exceptfds */
#define WAIT_FDS_MAX 4   /* followed sockets of one wait kept; the rest are counted */
#define WAIT_READ_MAX 64 /* pollfd entries read from the tracee; the rest are counted */
#define WAIT_BLOCKED_S                                                                             \
    0.005 /* a wait that took longer waited (one that returns at once
                                   takes microseconds, traced well under a millisecond) */

/*
 * A wait on sockets (poll, ppoll, epoll_wait ...): the followed ones among its
 * fds (an epoll instance's: those it watches), and its timeout.
 */
struct wait_facts {
    struct wait_fd fds[WAIT_FDS_MAX];
    int nfds;             /* how many of fds are set */
    int more;             /* followed sockets beyond fds, and entries beyond WAIT_READ_MAX unread */
    int others;           /* entries read that are no followed socket (files, pipes, other fds) */
    long long timeout_ms; /* as given; -1: no timeout, wait for ever */
    /* epoll_wait: the events of the first ready entries (which fd, epoll does not say). */
    uint16_t ready[WAIT_FDS_MAX];
    int nready;
    /*
     * select, pselect6: fds[].events and revents are its three sets, as the
     * bits of select_sets (vocab.h): readfds POLLIN, writefds POLLOUT,
     * exceptfds POLLPRI. Which sets were NULL, how many fds of each are not
     * shown, and the timeout as given (a timeval's microseconds as ns).
     */
    bool sets;
    uint8_t sets_null; /* bit i: the i-th set (select_sets order) was NULL */
    int set_more[WAIT_SETS];
    struct timespec timeout;
    /*
     * Whether the kernel put the task to sleep in the call, from its voluntary
     * context switches at the entry stop and at the exit stop: one more is the
     * exit stop alone (it found something ready at once), two or more is a
     * sleep too. The time between the stops says less: a tracer slow to serve
     * them (a loaded machine) makes a call that never slept look long. These
     * two come last: event_same_call compares what comes before them.
     */
    long long switches; /* at the entry stop; -1: unknown */
    enum wait_slept { SLEPT_UNKNOWN, SLEPT_NO, SLEPT_YES } slept;
};

/* What a process had arranged for SIGPIPE before a call, as its calls and exec showed. */
struct pipe_past {
    enum disposition disposition;
    bool blocked;  /* in its signal mask */
    bool pending;  /* raised by a failed write while blocked, not delivered yet */
    bool signalfd; /* a signalfd of SIGPIPE is open */
};

struct exit_facts {
    int code;             /* exit code, or -1 when killed */
    int signo;            /* terminating signal, or 0 */
    int core;             /* a core dump was written */
    pid_t sender;         /* the terminating signal was sent with kill() by this process; or 0 */
    char sender_name[16]; /* its name, or "" */
};

/* A socket a close closes that other traced processes still hold: this process's fd, and they. */
struct close_held {
    int fd;
    int holders; /* how many other processes hold it; the first one's pid, fd and name: */
    pid_t holder;
    int holder_fd;
    char holder_name[16];
};
#define CLOSE_HELD_MAX 4 /* sockets of one close_range whose holders are named; the rest counted */

/*
 * A followed socket that a sendmsg hands to another process over a UNIX
 * socket (SCM_RIGHTS), or that a recvmsg takes in: the fd in the caller,
 * the connection, and for a receive, who passed it, if the tracer saw it.
 */
struct pass_fd {
    int fd;
    unsigned long inode; /* the socket's, as /proc names it */
    struct endpoint local, remote;
    bool listening; /* a listening socket (its remote is none), not a connection */
    pid_t by;       /* a receive: the traced process that passed it, its fd and name; 0: not seen */
    int by_fd;
    char by_name[16];
};
#define PASS_FDS_MAX 4        /* followed sockets of one message named; the rest counted */
#define PASS_CONTROL_MAX 4096 /* bytes of a message's control data read; the rest counted */

/* The fds an SCM_RIGHTS message carries: the followed sockets among them, and the rest. */
struct pass_facts {
    struct pass_fd fds[PASS_FDS_MAX];
    int n;
    int more;             /* followed sockets beyond fds */
    int others;           /* fds that are no followed socket (a pipe, a file, another socket) */
    uint64_t control_cut; /* bytes of control data beyond PASS_CONTROL_MAX, not read */
};

struct syscall_facts {
    enum call_kind kind;
    const char *call;     /* what the program called, as a programmer says it: "send" */
    const char *syscall;  /* the system call the kernel saw: "sendto" */
    int fd;               /* the socket, or -1 (socket()) */
    long long len;        /* bytes offered or asked for; backlog for listen; how for shutdown; -1 */
    long long ret;        /* the result; -1 when err is set */
    long long moved;      /* bytes the call took from the connection or gave it (ret, but not a
                             MSG_PEEK's; the sum of an mmsg call's messages) */
    int err;              /* errno, 0 on success */
    int msg_flags;        /* MSG_* given to send/recv */
    int domain, socktype; /* socket() arguments */
    uint8_t data[EVENT_PREVIEW];
    uint32_t datalen;     /* how much of data is valid */
    struct endpoint addr; /* the address argument (connect, bind, sendto) or accept's peer */
    struct endpoint local, remote; /* the socket's addresses after the call, from /proc */
    int listening;                 /* after listen(): local is a listening endpoint */
    double duration;               /* seconds from entry to exit */
    struct sock_past past;         /* what its socket had been through before this call */
    struct pipe_past pipe;         /* what SIGPIPE would do, before this call */
    /*
     * Calls with no layout of their own in describe_call: their arguments
     * as strace shows them ("5, NULL, 4, NULL, 8, 0"), and what they mean.
     */
    char args[96];
    int fd2;             /* the other fd: dup's new one, splice's or sendfile's other end; -1 */
    int option_level;    /* setsockopt/getsockopt level; -1 for fcntl */
    int option;          /* SO_LINGER ...; F_SETFL for fcntl; the signal call's how */
    long long value;     /* the option's value; the new file flags; SIGPIPE's new handler */
    long long value2;    /* SO_LINGER's seconds; whether a mask holds SIGPIPE */
    bool value_known;    /* value was read */
    enum call_part part; /* the whole call, or which half of it */
    bool settled;        /* whole for good: a loop's turn, or judged when it returned */
    /*
     * close, close_range: the sockets it closes that other traced processes
     * held at its entry (a forked child, a parent, an exec'd program). While
     * one does, closing sends nothing.
     */
    struct close_held held[CLOSE_HELD_MAX];
    int nheld;
    int held_more; /* close_range: sockets held elsewhere beyond held[] */
    /* sendmsg, recvmsg on a UNIX socket: the followed sockets it passes or receives. */
    struct pass_facts pass;
    /* For PART_NEVER: how its process ended (ended_by_exec: a new program ended the call). */
    struct exit_facts ended;
    bool ended_by_exec;
    struct wait_facts wait;            /* CALL_WAIT: its sockets and timeout */
    struct timespec entered, returned; /* its entry and, but for an entry, its return */
};

/* Did the wait f wait? Its sleep when known, else its time against WAIT_BLOCKED_S. */
bool wait_waited(const struct syscall_facts *f);

struct signal_facts {
    int signo;
    enum disposition disposition;
    enum sig_action action; /* for DISP_DEFAULT: what the default does */
    pid_t sender;           /* si_pid for signals sent with kill(), else 0 */
    char sender_name[16];
    bool after_epipe; /* SIGPIPE right after the process's call failed with EPIPE */
    bool was_blocked; /* SIGPIPE raised by a write while blocked, delivered once unblocked */
};

#define EXEC_CLOEXEC_MAX 8 /* close-on-exec sockets an exec event names */

struct exec_facts {
    char path[256];
    char argv[512];       /* the arguments, joined with spaces */
    size_t argv_total;    /* the whole command line's length: more than strlen(argv) when cut */
    bool sigpipe_ignored; /* it starts with SIGPIPE ignored (SIG_IGN survives exec) */
    bool sigpipe_blocked; /* ... or blocked (the mask survives exec) */
    /* The TCP sockets it held close-on-exec when it called execve: the exec closed them. */
    int cloexec_fds[EXEC_CLOEXEC_MAX];
    int ncloexec;
};

struct packet_facts {
    struct tcp_seg seg; /* seg.payload points into frame */
    uint8_t *frame;     /* a copy of the captured bytes */
    uint32_t caplen, wirelen;
    char src[64], dst[64];
    char from[32], to[32];             /* owners' process names, or "" */
    char from_label[40], to_label[40]; /* the same, as the text timeline shows them */
    int from_orig;                     /* sent by the side that opened the connection */
    uint32_t rel_seq, rel_ack;         /* relative to each side's first sequence number */
};

#define EVENT_OUTPUT_MAX 512 /* bytes of a write kept in an EV_OUTPUT */

struct output_facts {
    int fd;           /* the descriptor written to */
    long long len;    /* bytes offered */
    uint32_t textlen; /* how much of text is valid */
    char text[EVENT_OUTPUT_MAX];
};

struct skipped_facts {
    const char *reason; /* decode_frame()'s why, or "out of memory" */
    unsigned long frames;
};

struct repeat_facts {
    int period; /* how many events make one cycle */
    struct event *pattern[REPEAT_MAX_PERIOD];
    unsigned long count[REPEAT_MAX_PERIOD]; /* how many more times each was seen */
    unsigned long cycles;                   /* complete cycles after the first */
    struct timespec first, last;            /* the first and last repeated event */
    /*
     * The cycle has a call, and none of its calls was cut short by a signal
     * (EINTR, or a restart the kernel does unseen, as the tracer's own stops
     * cause): only such a cycle can be a busy loop. Signals alone (two
     * SIGCHLDs close together) are none.
     */
    bool calls_return;
    /* Its waits (poll ...), every turn's: how many, and how many waited (WAIT_BLOCKED_S). */
    unsigned long waits, waits_blocked;
};

/* What a RST meant, as far as the segments before it tell. */
enum rst_kind {
    RST_NONE,
    RST_REFUSED,        /* answers a SYN: nothing listens */
    RST_CANCEL,         /* the originator gives up before the handshake completed */
    RST_AFTER_FIN_DATA, /* answers data the peer sent after our FIN */
    RST_AFTER_FIN,      /* after our FIN, no data from the peer since */
    RST_UNREAD,         /* no FIN, and the peer's last data was never answered */
    RST_ABORT, /* no FIN, nothing unanswered: unread data or SO_LINGER zero, the wire cannot tell */
    RST_ABORT_NO_DATA, /* no FIN, and the peer never sent data: nothing to leave unread */
    RST_AFTER_BOTH,    /* both sides had sent FIN */
    RST_AGAIN,         /* a second RST */
    RST_UNKNOWN,       /* the first segment seen: too little to tell why */
};

/*
 * Why a side reset a connection before sending FIN. The wire alone cannot
 * tell unread data (the kernel acknowledges data before the program reads
 * it) from SO_LINGER zero; the processes can: a RST that follows the owner's
 * close() comes with what the owner read, against what arrived on the wire.
 */
struct rst_cause {
    bool first; /* the RST came before any FIN of either side */
    bool
        peer_answered; /* the resetting side had sent data after the last its peer sent (or it sent none) */
    long long unread;    /* bytes its process left unread at close(), just before; -1: not seen */
    bool linger_zero;    /* its process had set SO_LINGER {on, 0}: close() aborts with RST */
    bool never_accepted; /* its listener closed with the connection in its queue, never accepted */
};

/* How a process let go of a socket, which sends its FIN (or RST) as it closes. */
enum close_how {
    CLOSED_UNKNOWN, /* no close of it was seen */
    CLOSED_BY_CALL, /* close(), close_range(), dup2() over it */
    CLOSED_BY_EXIT, /* its process ended: the kernel closed what it held */
    CLOSED_BY_EXEC, /* close-on-exec, as its process ran a new program */
};

/* What one side of a connection did, as the summary and its note need it. */
struct conn_side {
    bool syn_seen, sent_any, fin_seen, rst_seen;
    bool wrote_after_peer_fin; /* sent data after the other side's FIN */
    enum rst_kind rst_kind;    /* what its first RST meant */
    bool reset_first;          /* its first RST came before any FIN of either side */
    struct rst_cause cause;    /* for reset_first: why */
};

/* A connection's summary, in Zeek's terms, and what each side did. */
struct conn_summary {
    char orig[64], resp[64]; /* endpoint strings, decode_endpoint_str() form */
    struct endpoint orig_ep, resp_ep;
    char orig_name[40], resp_name[40]; /* the owners' names as the timeline gives them, else "" */
    char conn_state[8];                /* S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH */
    char history[32];                  /* Zeek's history letters, e.g. "ShADadFr" */
    uint64_t orig_bytes, resp_bytes;   /* payload bytes each way */
    uint64_t orig_pkts, resp_pkts;
    uint64_t orig_ip_bytes, resp_ip_bytes; /* the IP lengths of each side's packets, headers too */
    uint64_t missed_bytes; /* Zeek's missed_bytes: content gaps, bytes the capture never showed */
    uint64_t orig_missed, resp_missed; /* of them, those each side sent */
    /* The outermost tunnel it came through ("GRE", "VXLAN" ...) and its ends, or NULL. */
    const char *tunnel;
    char tunnel_src[48], tunnel_dst[48];
    struct timespec first, last;
    struct conn_side orig_side, resp_side;
    int first_close;      /* -1: neither side closed; 0: the originator first; 1: the responder */
    bool first_close_rst; /* and it did so with RST */
    bool capture_cut;     /* the capture file ended cut short, or its reading was interrupted */
};

struct event {
    enum event_type type;
    struct timespec t;
    pid_t pid, tid; /* process events */
    char proc[16];  /* the process's name (comm) */
    char label[40]; /* how the text timeline names it: "client", "client 2" */
    int top;        /* the command sigtrace started, not one of its descendants */
    char note[EVENT_NOTE];
    unsigned long repeat; /* 1, or how many identical events this one stands for */
    union {
        struct syscall_facts sys;
        struct signal_facts sig;
        struct exit_facts exit;
        struct exec_facts exec;
        struct packet_facts pkt;
        struct conn_summary conn;
        struct repeat_facts rep;
        struct output_facts output;
        struct skipped_facts skipped;
        char verdict[512]; /* the line, after "verdict: " */
    } u;
};

/* A zeroed event of this type, or NULL when out of memory. */
struct event *event_new(enum event_type type);
/* A deep copy (frame and repeat pattern included), or NULL. */
struct event *event_copy(const struct event *ev);
void event_free(struct event *ev);

/* 1 if a and b are the same happening apart from time: the test for collapsing repeats. */
int event_same(const struct event *a, const struct event *b);
/* 1 if a and b are the same call with the same result, whole or split. */
int event_same_call(const struct event *a, const struct event *b);

/*
 * Where a whole call stands on the timeline: one that takes what packets
 * brought (accept, recv, a wait such as poll) where it returned, after
 * them; one that makes packets (connect, send, close, shutdown) where it
 * started, before them.
 */
bool call_at_return(const struct syscall_facts *f);

/*
 * s after the first n bytes of buf (size bytes), cut to fit and terminated,
 * as snprintf(buf + n, size - n, "%s", s) would for n < size (nothing for
 * n >= size), without its parsing; returns n + strlen(s), the length had
 * nothing been cut, as snprintf does.
 */
size_t str_append(char *buf, size_t size, size_t n, const char *s);

/* Seconds between two times. */
double ts_diff(const struct timespec *later, const struct timespec *earlier);
/* -1, 0, 1 */
int ts_cmp(const struct timespec *a, const struct timespec *b);
/* The last nanosecond before t. */
struct timespec ts_before(const struct timespec *t);

/* "127.0.0.1:3333" or "[::1]:3333", "?" when unknown; returns buf. */
char *endpoint_str(const struct endpoint *e, char *buf, size_t len);
int endpoint_equal(const struct endpoint *a, const struct endpoint *b);

/* FNV-1a, 64 bits: the hash of every table of the tracer. */
#define FNV64_OFFSET 14695981039346656037ULL
uint64_t fnv1a(uint64_t h, const void *data, size_t len);
/* h carried on over what endpoint_equal compares. */
uint64_t endpoint_hash(uint64_t h, const struct endpoint *e);
/* The wildcard address (0.0.0.0 or ::). */
int endpoint_is_any(const struct endpoint *e);

/* "EPIPE"; "ERESTARTSYS" for the kernel's internal restart codes. */
const char *errno_name(int err);
/* "SIGPIPE" */
const char *signal_name(int signo);

#endif
