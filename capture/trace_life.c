/*
 * trace_life: what happens to a traced process besides its calls: the
 * signals it gets (and who sent them), the programs it runs, its end.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "procfs.h"
#include "trace_int.h"

void trace_on_signal(struct tracer *t, struct proc *p, int sig)
{
    struct timespec ts = trace_now();
    uint64_t ignored = 0, caught = 0, bit = 1ULL << (sig - 1);
    enum disposition disposition = DISP_DEFAULT;
    if (procfs_signal_masks(p->tid, &ignored, &caught) == 0)
        disposition = ignored & bit ? DISP_IGNORED : caught & bit ? DISP_CAUGHT : DISP_DEFAULT;
    /* A handler will run: its frame takes the call this signal cut short, if there is one. */
    if (disposition == DISP_CAUGHT && p->nframes < HANDLER_FRAMES_MAX) {
        p->frames[p->nframes].has_cut = p->pending;
        p->frames[p->nframes].cut = p->cut;
        p->nframes++;
        p->pending = 0;
    }
    /*
     * A call that failed with EINTR because of this signal returned before
     * its delivery stop: the signal was there first, and is told so, just
     * before the call's result.
     */
    if (p->held_eintr) {
        struct timespec before = p->held_eintr->u.sys.returned;
        if (before.tv_nsec-- == 0) {
            before.tv_sec--;
            before.tv_nsec = 999999999;
        }
        if (ts_cmp(&before, &ts) < 0)
            ts = before;
    }
    struct event *ev = trace_event_for(p, EV_SIGNAL, &ts);
    if (ev) {
        struct signal_facts *s = &ev->u.sig;
        s->signo = sig;
        s->disposition = disposition;
        s->action = sig_default_action(sig);
        siginfo_t si;
        if (ptrace(PTRACE_GETSIGINFO, p->tid, 0, &si) == 0) {
            /*
             * si_pid is numbered in the receiver's PID namespace: the
             * process's own number there means the kernel raised it (a
             * failed write's SIGPIPE); another one, in a namespace of its
             * own, names nobody the tracer can look up.
             */
            pid_t self_ns = procfs_ns_tgid(p->tid);
            bool nested = self_ns > 0 && self_ns != p->tgid;
            if ((si.si_code == SI_USER || si.si_code == SI_TKILL || si.si_code == SI_QUEUE) &&
                si.si_pid > 0 && si.si_pid != p->tgid && si.si_pid != self_ns) {
                s->sender = si.si_pid;
                struct proc *sender = nested ? NULL : trace_proc_find(t, si.si_pid);
                s->sender_name[0] = '\0';
                if (sender)
                    memcpy(s->sender_name, sender->comm, sizeof(s->sender_name));
                else if (!nested &&
                         procfs_comm(si.si_pid, s->sender_name, sizeof(s->sender_name)) < 0)
                    s->sender_name[0] = '\0';
            }
        }
        /* Kept for the process's end, should this signal be what kills it. */
        struct proc *leader = p->tid == p->tgid ? p : trace_proc_find(t, p->tgid);
        for (struct proc *q = p; q; q = q == leader ? NULL : leader) {
            q->last_signo = sig;
            q->last_sender = s->sender;
            memcpy(q->last_sender_name, s->sender_name, sizeof(q->last_sender_name));
        }
        t->emit(ev, t->ctx);
    }
    trace_flush_eintr(t, p);
    /* Deliver it exactly as it came. */
    trace_resume(t, p->tid, sig);
}

void trace_on_exec(struct tracer *t, struct proc *p)
{
    unsigned long former = 0;
    /* A thread that execs takes over the leader's id; forget the thread. */
    if (ptrace(PTRACE_GETEVENTMSG, p->tid, 0, &former) == 0 && (pid_t)former != p->tid) {
        struct proc *old = trace_proc_find(t, (pid_t)former);
        if (old) {
            pid_t tid = p->tid;
            p->exec_entered = old->exec_entered;
            p->ncloexec = old->ncloexec;
            memcpy(p->cloexec_fds, old->cloexec_fds, sizeof(p->cloexec_fds));
            trace_proc_remove(t, old);
            p = trace_proc_find(t, tid);
            if (!p)
                return;
        }
    }
    p->in_call = p->pending = p->nframes = p->in_sigreturn = 0;
    p->tgid = p->tid;
    p->execed = 1;
    fdcache_drop(t->fds, p->tgid); /* close-on-exec fds are gone; the rest are looked at again */
    /*
     * A script goes by its own name, as the kernel names a script it starts
     * by its #! line: one run through "#!/usr/bin/env bash" is env first,
     * then bash with the script as argument, and "python3 server.py" is
     * server.py.
     */
    if (procfs_comm(p->tid, p->comm, sizeof(p->comm)) < 0)
        snprintf(p->comm, sizeof(p->comm), "?");
    else
        procfs_script_name(p->tid, p->comm, p->comm, sizeof(p->comm));
    /* Stamped at its entry; at this stop if the entry was not seen. */
    struct timespec ts = p->exec_entered.tv_sec ? p->exec_entered : trace_now();
    p->exec_entered = (struct timespec){ 0, 0 };
    struct event *ev = trace_event_for(p, EV_EXEC, &ts);
    if (ev) {
        ev->u.exec.ncloexec = p->ncloexec;
        memcpy(ev->u.exec.cloexec_fds, p->cloexec_fds, sizeof(p->cloexec_fds));
        if (procfs_exe(p->tid, ev->u.exec.path, sizeof(ev->u.exec.path)) < 0)
            snprintf(ev->u.exec.path, sizeof(ev->u.exec.path), "?");
        if (procfs_cmdline(p->tid, ev->u.exec.argv, sizeof(ev->u.exec.argv),
                           &ev->u.exec.argv_total) < 0)
            ev->u.exec.argv[0] = '\0';
        /* What SIGPIPE does in the new program: SIG_IGN and the mask survive exec. */
        uint64_t ignored, caught, blocked, bit = 1ULL << (SIGPIPE - 1);
        if (procfs_signal_masks(p->tid, &ignored, &caught) == 0)
            ev->u.exec.sigpipe_ignored = (ignored & bit) != 0;
        if (procfs_signal_blocked(p->tid, &blocked) == 0)
            ev->u.exec.sigpipe_blocked = (blocked & bit) != 0;
        t->emit(ev, t->ctx);
    }
}

/*
 * A process's end, reported once: at PTRACE_EVENT_EXIT, while its files are
 * still open (the FIN or RST its sockets' closing sends comes after), or,
 * when that stop was missed (killed before it could stop), when it is gone.
 */
void trace_report_exit(struct tracer *t, struct proc *p, int status)
{
    /* A thread's end is not the process's end: only the leader's is reported. */
    if (p->tid == p->tgid && !p->exit_reported) {
        p->exit_reported = 1;
        fdcache_drop(t->fds, p->tgid);
        struct timespec ts = trace_now();
        struct event *ev = trace_event_for(p, EV_EXIT, &ts);
        if (ev) {
            if (WIFEXITED(status)) {
                ev->u.exit.code = WEXITSTATUS(status);
            } else {
                ev->u.exit.code = -1;
                ev->u.exit.signo = WTERMSIG(status);
                ev->u.exit.core = WCOREDUMP(status) != 0;
                if (p->last_signo == ev->u.exit.signo && p->last_sender) {
                    ev->u.exit.sender = p->last_sender;
                    memcpy(ev->u.exit.sender_name, p->last_sender_name,
                           sizeof(ev->u.exit.sender_name));
                }
            }
            t->emit(ev, t->ctx);
        }
    }
}

void trace_on_exit_status(struct tracer *t, struct proc *p, int status)
{
    if (p->tid == t->top) {
        t->top_status = status;
        t->top_done = 1;
    }
    trace_report_exit(t, p, status);
    trace_proc_remove(t, p);
}
