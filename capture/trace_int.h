/*
 * trace_int: the tracer's own types, shared by trace.c (the process table
 * and the stops: calls, and which stop is what), trace_life.c (signals,
 * execs, exits), trace_fds.c (what the descriptors are: their
 * kinds, sockets others hold at a close, SCM_RIGHTS hand-overs),
 * trace_output.c (what the traced processes write elsewhere than to
 * sockets) and trace_spawn.c (starting the command under its seccomp
 * filter, and ending it). Not for the rest of the tracer.
 */
#ifndef SIGTRACE_TRACE_INT_H
#define SIGTRACE_TRACE_INT_H

#include <linux/audit.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "calls.h"
#include "fdcache.h"
#include "trace.h"

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* One traced thread. */
/* A followed call a signal cut short: what its end will need. */
struct cut_call {
    const struct call_def *def;
    uint64_t args[6];
    struct timespec entered;
    struct syscall_facts facts;
    unsigned long nr;
    int quiet;
};
#define HANDLER_FRAMES_MAX                                                                         \
    4 /* nested handlers followed; a deeper one's cut call is told as it came */

struct proc {
    pid_t tid, tgid;
    char comm[16];
    int top;           /* the command's first process */
    int execed;        /* its name is its own program's, not its parent's */
    int in_call;       /* between a followed call's entry and exit */
    int exit_reported; /* its end was told at PTRACE_EVENT_EXIT */
    int quiet;         /* a receive on another socket: told only if it brings a followed socket */
    const struct call_def *def;
    uint64_t args[6];
    struct timespec entered;
    struct syscall_facts facts; /* what the entry learned */
    unsigned long nr;           /* the followed call's number */
    /* The last signal delivered to the process (to its leader's entry too), and who sent it. */
    int last_signo;
    pid_t last_sender;
    char last_sender_name[16];
    /*
     * A followed call a signal cut short returns a restart code (ERESTARTSYS
     * ...) the program never sees. With no handler to run, the kernel
     * restarts it: the same call enters again, or restart_syscall (cut,
     * pending). A handler's frame takes it instead: when the handler
     * returns, rt_sigreturn's result says whether the call failed with EINTR
     * or is restarted (then pending again). The handler's own calls, and
     * the calls it cuts short in turn, come in between.
     */
    struct cut_call cut;
    int pending;
    struct {
        int has_cut;
        struct cut_call cut;
    } frames[HANDLER_FRAMES_MAX]; /* the handlers running, innermost last */
    int nframes;
    int in_sigreturn;         /* between rt_sigreturn's entry and exit, a frame to take off */
    struct event *held_eintr; /* a call's -1 EINTR, told after the signal that caused it */
    /* Its last execve's entry (0: none seen), and the TCP sockets it held close-on-exec then. */
    struct timespec exec_entered;
    int cloexec_fds[EXEC_CLOEXEC_MAX];
    int ncloexec;
};

/*
 * A followed socket a traced process handed over (sendmsg, SCM_RIGHTS), as
 * the tracer saw it at the send's entry: the receiver's recvmsg finds by
 * the socket's inode who passed it.
 */
struct handed {
    unsigned long inode; /* 0: a free slot */
    pid_t pid;
    int fd;
    char comm[16];
};
#define HANDED_MAX 32 /* the latest kept; an older one is overwritten */

struct tracer {
    struct proc *procs;
    size_t nprocs, cap;
    pid_t top;
    pid_t group; /* the command's process group, as it started */
    int top_status, top_done;
    int seccomp;
    int go_fd;           /* the pipe that holds the command until trace_start */
    int out_known;       /* sigtrace's standard output is open: */
    dev_t out_dev;       /* what it is, to know a traced process's */
    ino_t out_ino;       /* writes to the same place */
    const char *mark;    /* lines that begin with it are reported (EV_VERDICT), or NULL */
    struct fdcache *fds; /* what each process's fds are */
    struct handed handed[HANDED_MAX];
    size_t nhanded; /* sockets handed over so far: the next goes to handed[nhanded % HANDED_MAX] */
    trace_emit_fn emit;
    void *ctx;
};

/*
 * trace.c: the thread tid in the table, added if new (with parent's name, if
 * given); NULL when out of memory.
 */
struct proc *proc_add(struct tracer *t, pid_t tid, const struct proc *parent);
/* The process table's entry for tid, or NULL; an entry's removal (the process has ended). */
struct proc *trace_proc_find(struct tracer *t, pid_t tid);
void trace_proc_remove(struct tracer *t, struct proc *p);
/* The process resumed with (or without) sig, after a stop that was not a followed call's. */
void trace_resume(struct tracer *t, pid_t tid, int sig);

/* trace.c: the -1 EINTR p's last call returned, held for the signal that caused it, told now. */
void trace_flush_eintr(struct tracer *t, struct proc *p);

/* trace_life.c: a signal-delivery stop: the signal told, and delivered as it came. */
void trace_on_signal(struct tracer *t, struct proc *p, int sig);
/* trace_life.c: PTRACE_EVENT_EXEC: the new program told. */
void trace_on_exec(struct tracer *t, struct proc *p);
/* trace_life.c: the process's end, told once (at PTRACE_EVENT_EXIT, or when it is gone). */
void trace_report_exit(struct tracer *t, struct proc *p, int status);
/* trace_life.c: the process is gone (waitpid's status): its end told, its entry removed. */
void trace_on_exit_status(struct tracer *t, struct proc *p, int status);

/* trace.c: the time now, as events carry it. */
struct timespec trace_now(void);

/* trace.c: a new event of p's, of this type, at ts; NULL when out of memory. */
struct event *trace_event_for(const struct proc *p, enum event_type type,
                              const struct timespec *ts);

/* trace.c: handle a status waitpid() gave for tid: a stop, an event, or the end. */
void trace_on_status(struct tracer *t, pid_t tid, int status);

/* trace_fds.c: what fd of p is, remembered or looked up; FDK_UNKNOWN if it is not open. */
enum fd_kind trace_fd_kind(struct tracer *t, const struct proc *p, int fd);

/* trace_fds.c: the fds call nr frees, forgotten before it runs (followed or not). */
void trace_forget_freed(struct tracer *t, const struct proc *p, unsigned long nr,
                        const uint64_t args[6]);

/* trace_fds.c: k is a socket of some kind. */
bool trace_is_socket(enum fd_kind k);

/* trace_fds.c: a close or close_range of p's at its entry: the TCP sockets it
 * closes that other traced processes hold too, in f's held sockets. */
void trace_find_closed_held(struct tracer *t, const struct proc *p, const struct call_def *def,
                            const uint64_t args[6], struct syscall_facts *f);

/* trace_fds.c: nr can carry SCM_RIGHTS (sendmsg, recvmsg, sendmmsg, recvmmsg);
 * nr is one of the two that carry several messages. */
bool trace_is_msg_call(unsigned long nr);
bool trace_is_mmsg_call(unsigned long nr);

/* trace_fds.c: p hands over the followed sockets in pass; its send of them failed. */
void trace_handed_add(struct tracer *t, const struct proc *p, const struct pass_facts *pass);
void trace_handed_undo(struct tracer *t, const struct proc *p, const struct pass_facts *pass);

/* trace_fds.c: a receive of p's on a UNIX socket returned: the followed sockets it
 * brought, in p's facts, with who passed them; false if it brought none. */
bool trace_received_sockets(struct tracer *t, struct proc *p, int64_t rval, int is_error);

/* trace_output.c: a write to something that is not a socket: does a line of it begin with the mark? */
void trace_look_for_mark(struct tracer *t, struct proc *p, uint64_t buf, uint64_t len);

/* trace_output.c: a write to sigtrace's own standard output, as an EV_OUTPUT event. */
void trace_report_output(struct tracer *t, struct proc *p, unsigned long nr, int fd,
                         const uint64_t args[6]);

#endif
