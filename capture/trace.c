/*
 * trace: following a command and its descendants with ptrace.
 *
 * The life of a system call we follow, with the seccomp filter:
 *   the filter returns SECCOMP_RET_TRACE  -> PTRACE_EVENT_SECCOMP stop: read
 *   the arguments (and, for sends, the data); resume with PTRACE_SYSCALL ->
 *   syscall-exit-stop: read the result (and, for receives, the data); resume
 *   with PTRACE_CONT, so nothing stops again until the next such call.
 * A read, write or close on something that is not a socket is let go at its
 * first stop. Without the filter every system call stops twice, and the
 * same code runs on the calls we follow. Starting the command, and its
 * seccomp filter: trace_spawn.c; its processes' signals, programs and
 * ends: trace_life.c.
 */
#include "trace.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "trace_int.h"

struct timespec trace_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

/* --- the process table ------------------------------------------------------- */

struct proc *trace_proc_find(struct tracer *t, pid_t tid)
{
    for (size_t i = 0; i < t->nprocs; i++)
        if (t->procs[i].tid == tid)
            return &t->procs[i];
    return NULL;
}

struct proc *proc_add(struct tracer *t, pid_t tid, const struct proc *parent)
{
    struct proc *p = trace_proc_find(t, tid);
    if (p)
        return p;
    if (t->nprocs == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct proc *procs = realloc(t->procs, cap * sizeof(*procs));
        if (!procs)
            return NULL;
        t->procs = procs;
        t->cap = cap;
    }
    p = &t->procs[t->nprocs++];
    memset(p, 0, sizeof(*p));
    p->tid = tid;
    p->tgid = procfs_tgid(tid);
    if (p->tgid <= 0)
        p->tgid = tid;
    /*
     * A new thread or child whose first stop comes before its parent's
     * fork or clone event: the thread's process, or the parent, if traced,
     * gives the name, as the event would (it has run no program of its own).
     */
    if (!parent && tid != t->top) {
        pid_t from = p->tgid != tid ? p->tgid : procfs_ppid(tid);
        for (size_t i = 0; from > 0 && i + 1 < t->nprocs; i++)
            if (t->procs[i].tid == from) {
                parent = &t->procs[i];
                break;
            }
    }
    if (parent)
        memcpy(p->comm, parent->comm, sizeof(p->comm));
    else if (procfs_comm(tid, p->comm, sizeof(p->comm)) < 0)
        snprintf(p->comm, sizeof(p->comm), "?");
    p->top = tid == t->top;
    return p;
}

void trace_proc_remove(struct tracer *t, struct proc *p)
{
    trace_flush_eintr(t, p); /* nothing held is lost with the entry */
    size_t i = (size_t)(p - t->procs);
    t->procs[i] = t->procs[--t->nprocs];
}

struct event *trace_event_for(const struct proc *p, enum event_type type, const struct timespec *ts)
{
    struct event *ev = event_new(type);
    if (!ev)
        return NULL;
    ev->t = *ts;
    ev->pid = p->tgid;
    ev->tid = p->tid;
    ev->top = p->top;
    memcpy(ev->proc, p->comm, sizeof(ev->proc));
    return ev;
}

/* --- system calls ------------------------------------------------------------ */

/*
 * At entry: note the arguments. Returns 1 if the exit must be seen too, 0 if
 * this call is not one we follow (a read or write on a file, say).
 */
static int on_entry(struct tracer *t, struct proc *p, unsigned long nr, const uint64_t args[6])
{
    const struct call_def *def = calls_find(nr);
    if (!def)
        return 0;
    int fd = def->no_fd ? -1 : (int)args[0];
    enum fd_kind k = fd >= 0 ? trace_fd_kind(t, p, fd) : FDK_UNKNOWN;
    trace_forget_freed(t, p, nr, args);
    if (def->want && !def->want(p->tid, args))
        return 0;
    if (def->any_fd) {
        if (k == FDK_UNKNOWN)
            return 0;
        if (!trace_is_socket(k)) {
            if (k == FDK_OUTPUT && (nr == SYS_write || nr == SYS_writev))
                trace_report_output(t, p, nr, fd, args);
            if (nr == SYS_write)
                trace_look_for_mark(t, p, args[1], args[2]);
            /* splice, tee: the socket may be the other end. */
            if (!def->alt_fd)
                return 0;
            fd = (int)args[def->alt_fd];
            if (!trace_is_socket(k = trace_fd_kind(t, p, fd)))
                return 0;
        }
    }
    /*
     * TCP only: a UNIX socket (the name service a shell asks for a user's
     * home, say) or a UDP one is not what the timeline is about, but for
     * the followed sockets handed over on it (SCM_RIGHTS): a send that
     * carries one is followed; a receive with room for fds is looked at
     * when it returns, and told if it brought one.
     */
    struct pass_facts pass = { .n = 0 };
    bool quiet = false;
    if (k == FDK_UNIX && trace_is_msg_call(nr)) {
        bool mmsg = trace_is_mmsg_call(nr);
        if (def->kind == CALL_SEND ? !calls_peek_rights(p->tid, args, mmsg, UINT64_MAX, &pass)
                                   : !calls_may_pass(p->tid, args, mmsg))
            return 0;
        quiet = def->kind == CALL_RECV;
    } else if (def->kind == CALL_SOCKET ? !calls_is_tcp_socket(args)
                                        : k == FDK_OTHER_SOCKET || k == FDK_UNIX) {
        return 0;
    }
    calls_entry(def, p->tid, args, fd, &p->facts);
    p->facts.pass = pass;
    trace_handed_add(t, p, &pass);
    if (def->kind == CALL_CLOSE && (def->no_fd || k == FDK_TCP))
        trace_find_closed_held(t, p, def, args, &p->facts);
    p->def = def;
    p->nr = nr;
    memcpy(p->args, args, sizeof(p->args));
    p->entered = trace_now();
    p->in_call = 1;
    p->quiet = quiet;
    if (quiet)
        return 1;
    /*
     * The timeline hears of the entry now, at its time: what happens while
     * the call runs (the packets a connect waits for) can then be shown
     * inside it, and nothing after its entry goes out before it.
     */
    struct event *ev = trace_event_for(p, EV_SYSCALL, &p->entered);
    if (ev) {
        ev->u.sys = p->facts;
        ev->u.sys.part = PART_ENTRY;
        ev->u.sys.entered = p->entered;
        ev->u.sys.ret = -1;
        t->emit(ev, t->ctx);
    }
    return 1;
}

/*
 * At the return: the result and what it brought, read while the process is
 * stopped. The event is made here and told once the process runs again
 * (the tracer's bookkeeping then overlaps its next steps; its next followed
 * call stops it before it can send anything).
 */
static struct event *on_exit_call(struct tracer *t, struct proc *p, int64_t rval, int is_error)
{
    struct timespec ts = trace_now();
    struct syscall_facts *f = &p->facts;
    p->in_call = 0;
    /*
     * Cut short by a signal, with a restart code the program never sees:
     * the call is not over. What it returns is known when it enters again,
     * or when the handler the signal runs returns (trace_life.c gives it to
     * the handler's frame); if the signal kills the process, the timeline
     * says the call never returned.
     */
    if (is_error && is_restart_code((int)-rval) && !p->pending) {
        p->pending = 1;
        p->cut = (struct cut_call){
            .def = p->def, .entered = p->entered, .facts = p->facts, .nr = p->nr, .quiet = p->quiet
        };
        memcpy(p->cut.args, p->args, sizeof(p->cut.args));
        p->quiet = 0;
        return NULL;
    }
    bool quiet = p->quiet;
    p->quiet = 0;
    if (quiet && !trace_received_sockets(t, p, rval, is_error))
        return NULL;
    if (is_error && f->kind == CALL_SEND)
        trace_handed_undo(t, p, &f->pass);
    calls_exit(p->def, p->tid, p->args, rval, is_error, f);
    f->duration = ts_diff(&ts, &p->entered);
    f->part = PART_WHOLE;
    f->entered = p->entered;
    f->returned = ts;

    /* The event's time: where it returned, or where it started (call_at_return). */
    struct timespec at = call_at_return(f) ? ts : p->entered;
    struct event *ev = trace_event_for(p, EV_SYSCALL, &at);
    if (ev)
        ev->u.sys = *f;
    return ev;
}

/* Resume a process that is not in the middle of a followed call. */
void trace_resume(struct tracer *t, pid_t tid, int sig)
{
    ptrace(t->seccomp ? PTRACE_CONT : PTRACE_SYSCALL, tid, 0, (void *)(long)sig);
}

/*
 * An execve or execveat begins: the exec is stamped here, before the kernel
 * closes the close-on-exec fds (a FIN that close sends comes after it), and
 * those of them that are TCP sockets are noted now, while they are open.
 * The event itself waits for PTRACE_EVENT_EXEC: a failed exec makes none,
 * and the new program's path and arguments are read from /proc then, as the
 * kernel resolved them (a #! script included).
 */
static void on_exec_entry(struct proc *p)
{
    int fds[EXEC_CLOEXEC_MAX];
    unsigned long inodes[EXEC_CLOEXEC_MAX];
    p->exec_entered = trace_now();
    p->ncloexec = 0;
    size_t n = procfs_tcp_fds(p->tid, fds, inodes, EXEC_CLOEXEC_MAX);
    for (size_t i = 0; i < n; i++)
        if (procfs_fd_cloexec(p->tid, fds[i]) == 1)
            p->cloexec_fds[p->ncloexec++] = fds[i];
}

static bool is_exec(unsigned long nr) { return nr == SYS_execve || nr == SYS_execveat; }

int trace_exec_since(const struct tracer *t, struct timespec *since)
{
    struct timespec now = trace_now();
    int found = 0;
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct timespec *e = &t->procs[i].exec_entered;
        if (!e->tv_sec || ts_diff(&now, e) * 1e9 > (double)TRACE_EXEC_HOLD_NS)
            continue;
        if (!found || ts_cmp(e, since) < 0)
            *since = *e;
        found = 1;
    }
    return found;
}

void trace_flush_eintr(struct tracer *t, struct proc *p)
{
    if (p->held_eintr) {
        struct event *ev = p->held_eintr;
        p->held_eintr = NULL;
        t->emit(ev, t->ctx);
    }
}

/* A cut call's state back in p's call fields: it is under way again. */
static void resume_cut(struct proc *p, const struct cut_call *c)
{
    p->def = c->def;
    memcpy(p->args, c->args, sizeof(p->args));
    p->entered = c->entered;
    p->facts = c->facts;
    p->nr = c->nr;
    p->quiet = c->quiet;
    p->in_call = 1;
}

/*
 * A call enters while one cut short waits to be restarted: the same call
 * with the same arguments, or restart_syscall, is the kernel restarting it
 * (one call, whose exit is awaited): 1. Anything else, and the thread went
 * on some other way (a handler that jumped out, say): the call is told as
 * it ended, with its restart code, and 0.
 */
static int restarted(struct tracer *t, struct proc *p, unsigned long nr, const uint64_t args[6])
{
    p->pending = 0;
    struct cut_call c = p->cut;
    resume_cut(p, &c);
    if (nr == SYS_restart_syscall || (nr == c.nr && memcmp(args, c.args, sizeof(c.args)) == 0))
        return 1;
    struct event *ev = on_exit_call(t, p, -(int64_t)c.facts.err, 1);
    if (ev)
        t->emit(ev, t->ctx);
    return 0;
}

/*
 * rt_sigreturn returned: the handler's frame comes off. A call it had cut
 * short failed with EINTR if that is the result (the program sees it now),
 * else the kernel restarts it at the thread's next entry.
 */
static struct event *sigreturn_exit(struct tracer *t, struct proc *p, int64_t rval, int is_error)
{
    p->in_sigreturn = 0;
    if (p->nframes == 0)
        return NULL;
    p->nframes--;
    if (!p->frames[p->nframes].has_cut)
        return NULL;
    struct cut_call c = p->frames[p->nframes].cut;
    if (is_error && rval == -EINTR) {
        resume_cut(p, &c);
        return on_exit_call(t, p, rval, is_error);
    }
    p->cut = c;
    p->pending = 1;
    return NULL;
}

/* A call's entry, after what a signal left to settle: 1 if the stop is dealt with. */
static int entry_after_signal(struct tracer *t, struct proc *p, unsigned long nr,
                              const uint64_t args[6])
{
    if (nr == SYS_rt_sigreturn && p->nframes > 0) {
        p->in_sigreturn = 1;
        ptrace(PTRACE_SYSCALL, p->tid, 0, 0);
        return 1;
    }
    if (p->pending && nr != SYS_rt_sigreturn && restarted(t, p, nr, args)) {
        ptrace(PTRACE_SYSCALL, p->tid, 0, 0);
        return 1;
    }
    return 0;
}

static void on_syscall_stop(struct tracer *t, struct proc *p)
{
    struct __ptrace_syscall_info info;
    memset(&info, 0, sizeof(info));
    if (ptrace(PTRACE_GET_SYSCALL_INFO, p->tid, (void *)sizeof(info), &info) <= 0) {
        trace_resume(t, p->tid, 0);
        return;
    }
#ifdef NATIVE_AUDIT_ARCH
    /* A 32-bit program on a 64-bit kernel numbers its calls differently: let it be. */
    if (info.arch != NATIVE_AUDIT_ARCH && info.op != PTRACE_SYSCALL_INFO_EXIT) {
        trace_resume(t, p->tid, 0);
        return;
    }
#endif
    switch (info.op) {
    case PTRACE_SYSCALL_INFO_SECCOMP:
        if (entry_after_signal(t, p, info.seccomp.nr, info.seccomp.args))
            return;
        if (info.seccomp.nr == SYS_rt_sigreturn || info.seccomp.nr == SYS_restart_syscall) {
            trace_resume(t, p->tid, 0); /* no call of ours was cut short */
            return;
        }
        if (is_exec(info.seccomp.nr)) {
            /* Stop at its exit too: a failed exec ends there, and is under way no more. */
            on_exec_entry(p);
            ptrace(PTRACE_SYSCALL, p->tid, 0, 0);
            return;
        }
        if (on_entry(t, p, info.seccomp.nr, info.seccomp.args))
            ptrace(PTRACE_SYSCALL, p->tid, 0, 0);
        else
            trace_resume(t, p->tid, 0);
        return;
    case PTRACE_SYSCALL_INFO_ENTRY:
        p->in_call = 0;
        if (entry_after_signal(t, p, info.entry.nr, info.entry.args))
            return;
        if (is_exec(info.entry.nr))
            on_exec_entry(p);
        on_entry(t, p, info.entry.nr, info.entry.args);
        ptrace(PTRACE_SYSCALL, p->tid, 0, 0);
        return;
    case PTRACE_SYSCALL_INFO_EXIT: {
        /* A successful exec was told at PTRACE_EVENT_EXEC; a failed one ends here unsaid. */
        p->exec_entered = (struct timespec){ 0, 0 };
        struct event *ev = NULL;
        bool direct = !p->in_sigreturn;
        if (p->in_sigreturn)
            ev = sigreturn_exit(t, p, info.exit.rval, info.exit.is_error);
        else if (p->in_call)
            ev = on_exit_call(t, p, info.exit.rval, info.exit.is_error);
        trace_resume(t, p->tid, 0);
        if (ev && direct && ev->type == EV_SYSCALL && ev->u.sys.err == EINTR) {
            /* A signal made it fail: told after that signal, whose stop is next, at its return. */
            ev->t = ev->u.sys.returned;
            p->held_eintr = ev;
        } else if (ev)
            t->emit(ev, t->ctx);
        return;
    }
    default: trace_resume(t, p->tid, 0);
    }
}

static int is_stop_signal(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void trace_on_status(struct tracer *t, pid_t tid, int status)
{
    struct proc *p = trace_proc_find(t, tid);
    if (!p)
        p = proc_add(t, tid, NULL);
    if (!p) { /* out of memory: keep the process running, untraced in effect */
        if (WIFSTOPPED(status))
            ptrace(PTRACE_CONT, tid, 0, 0);
        return;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        trace_flush_eintr(t, p);
        trace_on_exit_status(t, p, status);
        return;
    }
    if (!WIFSTOPPED(status))
        return;
    int sig = WSTOPSIG(status);
    int ptrace_event = (unsigned)status >> 16;
    /* A -1 EINTR waits for the signal-delivery stop that follows it; any other stop lets it go. */
    if (p->held_eintr && (ptrace_event != 0 || sig == (SIGTRAP | 0x80)))
        trace_flush_eintr(t, p);
    unsigned long msg;
    switch (ptrace_event) {
    case 0: break;
    case PTRACE_EVENT_SECCOMP: on_syscall_stop(t, p); return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
        if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0) {
            struct proc parent = *p; /* proc_add may move the table */
            struct proc *child = proc_add(t, (pid_t)msg, &parent);
            /*
             * A child whose first stop came before this event was named from
             * /proc; until it runs a program of its own, it goes by its parent's name.
             */
            if (child && !child->execed)
                memcpy(child->comm, parent.comm, sizeof(child->comm));
            /* A new process has a copy of its parent's fds; a thread shares them. */
            if (child && child->tgid != parent.tgid)
                fdcache_copy(t->fds, parent.tgid, child->tgid);
        }
        trace_resume(t, tid, 0);
        return;
    case PTRACE_EVENT_EXEC:
        trace_on_exec(t, p);
        trace_resume(t, tid, 0);
        return;
    case PTRACE_EVENT_EXIT:
        /* The status it will end with; its files are not closed yet. */
        if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0)
            trace_report_exit(t, p, (int)msg);
        trace_resume(t, tid, 0);
        return;
    case PTRACE_EVENT_STOP:
        /*
         * A group-stop (SIGSTOP and friends took effect): PTRACE_LISTEN keeps
         * the process stopped, as it would be untraced, until a SIGCONT.
         * Anything else here is a new child's first stop, or the end of a
         * listen: let it run.
         */
        if (is_stop_signal(sig))
            ptrace(PTRACE_LISTEN, tid, 0, 0);
        else
            trace_resume(t, tid, 0);
        return;
    default: trace_resume(t, tid, 0); return;
    }
    if (sig == (SIGTRAP | 0x80)) {
        on_syscall_stop(t, p);
        return;
    }
    trace_on_signal(t, p, sig);
}

/* The most stops taken from the kernel before any is handled. */
#define PUMP_BATCH 64

/*
 * Every process stopped now is taken first, then each is handled (and
 * resumed) in turn, as strace does. Handling each as waitpid returns it
 * starves the others: waitpid(-1) reports the newest tracee first, and a
 * busy loop resumed a moment ago is stopped again by the next call, so a
 * spinning server kept its parent shell from ever being served.
 */
int trace_pump(struct tracer *t, int max)
{
    int handled = 0;
    while (handled < max) {
        pid_t tids[PUMP_BATCH];
        int statuses[PUMP_BATCH], n = 0, left = max - handled;
        while (n < PUMP_BATCH && n < left) {
            pid_t tid = waitpid(-1, &statuses[n], __WALL | WNOHANG);
            if (tid < 0 && errno == EINTR)
                continue;
            if (tid <= 0) {
                if (tid < 0 && n == 0 && handled == 0)
                    return -1; /* ECHILD: nobody is left */
                break;
            }
            tids[n++] = tid;
        }
        for (int i = 0; i < n; i++)
            trace_on_status(t, tids[i], statuses[i]);
        handled += n;
        if (n < PUMP_BATCH && n < left)
            break; /* the kernel had no more */
    }
    return handled;
}
