/*
 * trace_spawn: starting the traced command, and ending it. The command is
 * forked and held on a pipe until trace_start(), so that the caller can open
 * the capture first; it is seized with the options that trace every process
 * it starts and kill them all if the tracer dies. In the child, before the
 * exec, a seccomp filter (where the kernel allows one) makes only the calls
 * the tracer follows stop it. What happens at each stop is trace.c's.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "trace_int.h"

/* --- starting the command ------------------------------------------------------ */

#ifdef NATIVE_AUDIT_ARCH
#define MORE_CALLS 4 /* execve, execveat; rt_sigreturn, restart_syscall (an interrupted call) */

/* In the child: only the calls we follow stop the process; the rest run freely. */
static int install_filter(void)
{
    /*
     * The followed calls; execve and execveat (an exec is stamped at its entry,
     * trace.c); rt_sigreturn and restart_syscall (how a call a signal cut short ends).
     */
    struct sock_filter prog[CALLS_MAX + MORE_CALLS + 5];
    long nrs[CALLS_MAX + MORE_CALLS];
    if (ncalls > CALLS_MAX) {
        errno = E2BIG;
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < ncalls; i++)
        nrs[m++] = calls[i].nr;
    nrs[m++] = SYS_execve;
    nrs[m++] = SYS_execveat;
    nrs[m++] = SYS_rt_sigreturn;
    nrs[m++] = SYS_restart_syscall;
    size_t n = 0;
    prog[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 0,
                                             (uint8_t)(m + 1));
    prog[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < m; i++)
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nrs[i],
                                                 (uint8_t)(m - i), 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    struct sock_fprog fprog = { (unsigned short)n, prog };
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == 0)
        return 0;
    /* Without CAP_SYS_ADMIN a filter needs no_new_privs first. */
    if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
}
#else
static int install_filter(void)
{
    errno = ENOSYS;
    return -1;
}
#endif

static void child(char *const argv[], const sigset_t *mask, int sigpipe_ignored,
                  int stdout_to_stderr, int go_fd)
{
    char go = 0;
    ssize_t n;
    /* Wait until the tracer is ready; end if it went away instead. */
    do
        n = read(go_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != 'g')
        _exit(127);
    /* Under --netns, the command runs as whoever ran sigtrace, not as the namespace's root. */
    char why[512];
    if (netns_become_invoker(why, sizeof why) < 0) {
        dprintf(2, "sigtrace: %s\n", why);
        _exit(126);
    }
    /*
     * With the filter in place, a close() stops us: that first stop is how
     * the tracer learns that the filter works. Without it, the exec is the
     * first stop. SIGPIPE is set up first, out of the timeline: the
     * command's own disposition shows at its exec.
     */
    signal(SIGPIPE, sigpipe_ignored ? SIG_IGN : SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (install_filter() == 0)
        close(-1);
    if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        dprintf(2, "sigtrace: the command's output stays on standard output: dup2: %s\n",
                strerror(errno));
    execvp(argv[0], argv);
    int err = errno;
    dprintf(2, "sigtrace: cannot run %s: %s (%s)\n", argv[0], strerror(err),
            err == ENOENT ? "check the name, or give a path" : "check its permissions");
    _exit(err == ENOENT ? 127 : 126);
}

struct tracer *trace_spawn(char *const argv[], const sigset_t *child_mask,
                           int child_sigpipe_ignored, int stdout_to_stderr, const char *mark,
                           trace_emit_fn emit, void *ctx, char *err, size_t errlen)
{
    struct tracer *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->emit = emit;
    t->ctx = ctx;
    t->mark = mark;
    if (!(t->fds = fdcache_new())) {
        snprintf(err, errlen, "out of memory");
        free(t);
        return NULL;
    }
    struct stat out;
    if (fstat(stdout_to_stderr ? STDERR_FILENO : STDOUT_FILENO, &out) == 0) {
        t->out_known = 1;
        t->out_dev = out.st_dev;
        t->out_ino = out.st_ino;
    }
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        fdcache_free(t->fds);
        free(t);
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(go[0]);
        close(go[1]);
        fdcache_free(t->fds);
        free(t);
        return NULL;
    }
    if (pid == 0) {
        close(go[1]);
        child(argv, child_mask, child_sigpipe_ignored, stdout_to_stderr, go[0]);
    }
    close(go[0]);
    t->top = pid;
    t->group = getpgrp(); /* the child's: it starts in ours */
    t->go_fd = go[1];
    long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                   PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
                   PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)options) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot trace the command (ptrace: %s): %s", strerror(e),
                 e == EPERM ? "is sigtrace itself being traced? In a container, ptrace may need "
                              "--cap-add=SYS_PTRACE, or kernel.yama.ptrace_scope set to 1 or less"
                            : "this kernel may lack PTRACE_SEIZE");
        trace_free(t);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return NULL;
    }
    if (!proc_add(t, pid, NULL)) {
        snprintf(err, errlen, "out of memory");
        trace_free(t);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, __WALL);
        return NULL;
    }
    return t;
}

int trace_start(struct tracer *t)
{
    if (write(t->go_fd, "g", 1) != 1)
        return 0; /* the command is gone: its exit will be reported */
    close(t->go_fd);
    t->go_fd = -1;
    /* The first stop tells whether the filter is in place (see child()). */
    for (;;) {
        int status;
        pid_t tid = waitpid(t->top, &status, __WALL);
        if (tid < 0 && errno == EINTR)
            continue;
        if (tid < 0)
            return 0;
        if (WIFSTOPPED(status) && (unsigned)status >> 16 == PTRACE_EVENT_SECCOMP) {
            t->seccomp = 1;
            ptrace(PTRACE_CONT, t->top, 0, 0);
            return 1;
        }
        if (WIFSTOPPED(status) && (unsigned)status >> 16 == 0 &&
            WSTOPSIG(status) != (SIGTRAP | 0x80)) {
            ptrace(PTRACE_CONT, t->top, 0, (void *)(long)WSTOPSIG(status)); /* a signal, early */
            continue;
        }
        trace_on_status(t, tid, status); /* the exec, or the end: no filter */
        return 0;
    }
}

void trace_signal_command(struct tracer *t, int sig, int from_terminal)
{
    /*
     * The group, not the first process alone: a shell that waits for a child
     * takes a SIGINT the child did not die of as the child's to handle, and
     * goes on (bash's "wait and cooperative exit"); its trap never runs.
     */
    pid_t group = t->top_done ? -1 : getpgid(t->top);
    if (group < 0)
        group = t->group;
    if (from_terminal && group == getpgrp())
        return;
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct proc *p = &t->procs[i];
        if (p->tid == p->tgid && getpgid(p->tid) == group)
            kill(p->tid, sig);
    }
}

void trace_kill_all(struct tracer *t)
{
    for (size_t i = 0; i < t->nprocs; i++)
        kill(t->procs[i].tid, SIGKILL);
}

int trace_command_status(const struct tracer *t, int *status)
{
    if (!t->top_done)
        return 0;
    *status = t->top_status;
    return 1;
}

void trace_free(struct tracer *t)
{
    if (!t)
        return;
    if (t->go_fd >= 0)
        close(t->go_fd);
    fdcache_free(t->fds);
    for (size_t i = 0; i < t->nprocs; i++)
        event_free(t->procs[i].held_eintr);
    free(t->procs);
    free(t);
}