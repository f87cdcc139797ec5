/*
 * calls_signal: the decoders of the calls that change what SIGPIPE does to
 * a process: its disposition (rt_sigaction), whether it is blocked
 * (rt_sigprocmask), and whether it is read from a signalfd.
 */
#include <signal.h>

#include "calls_int.h"
#include "procfs.h"
#include "vocab.h"

/* A signal set in the tracee holds SIGPIPE: 1, 0, or -1 if it cannot be read. */
static int set_has_sigpipe(pid_t tid, uint64_t addr)
{
    uint64_t set;
    if (calls_peek(tid, addr, &set, sizeof(set)) != sizeof(set))
        return -1;
    return (set & (1ULL << (SIGPIPE - 1))) != 0;
}

/* rt_sigaction(signo, act, oldact, size): followed for SIGPIPE, when it changes. */
bool want_sigaction(pid_t tid, const uint64_t args[6])
{
    (void)tid;
    return (int)args[0] == SIGPIPE && args[1] != 0;
}

ENTRY(sigaction)
{
    uint64_t handler;
    f->fd = -1;
    calls_arg(f, "SIGPIPE");
    if (calls_peek(tid, args[1], &handler, sizeof(handler)) == sizeof(handler)) {
        f->value = (long long)handler;
        f->value_known = true;
        if (handler == (uint64_t)(uintptr_t)SIG_DFL)
            calls_arg(f, "{sa_handler=SIG_DFL}");
        else if (handler == (uint64_t)(uintptr_t)SIG_IGN)
            calls_arg(f, "{sa_handler=SIG_IGN}");
        else
            calls_arg(f, "{sa_handler=handler}"); /* its address changes from run to run */
    } else {
        calls_arg_ptr(f, args[1], "act");
    }
    calls_arg_ptr(f, args[2], "oldact");
}

/*
 * rt_sigprocmask(how, set, oldset, size): followed when the set holds
 * SIGPIPE, or SIG_SETMASK changes whether it is blocked; not when every
 * signal is blocked for a moment and the mask put back after (as
 * pthread_create and posix_spawn do): that is about no signal in particular.
 */
#define MASK_ALL_BITS 32 /* a set with more signals than this is "all of them" */

bool want_sigprocmask(pid_t tid, const uint64_t args[6])
{
    uint64_t set, blocked;
    if (!args[1] || calls_peek(tid, args[1], &set, sizeof(set)) != sizeof(set))
        return false;
    bool has = set & (1ULL << (SIGPIPE - 1));
    if (__builtin_popcountll(set) > MASK_ALL_BITS)
        return false;
    if ((int)args[0] != SIG_SETMASK)
        return has;
    if (procfs_signal_blocked(tid, &blocked) < 0)
        return has;
    if (__builtin_popcountll(blocked) > MASK_ALL_BITS)
        return false; /* putting the mask back after blocking everything */
    return has != ((blocked & (1ULL << (SIGPIPE - 1))) != 0);
}

ENTRY(sigprocmask)
{
    f->fd = -1;
    f->option = (int)args[0];
    f->value2 = set_has_sigpipe(tid, args[1]) == 1;
    f->value_known = true;
    calls_arg(f, "%s", tok_name_or(sigmask_hows, f->option, "?"));
    calls_arg(f, "%s", f->value2 ? "[PIPE ...]" : "[~PIPE ...]");
    calls_arg_ptr(f, args[2], "oldset");
}

/* signalfd(fd, mask, size), signalfd4(fd, mask, size, flags): followed when the mask holds SIGPIPE. */
bool want_signalfd(pid_t tid, const uint64_t args[6]) { return set_has_sigpipe(tid, args[1]) == 1; }

ENTRY(signalfd)
{
    (void)tid;
    f->fd2 = (int)args[0];
    f->fd = -1;
    f->value2 = 1;
    calls_arg(f, "%d", (int)args[0]);
    calls_arg(f, "[PIPE ...]");
    calls_arg(f, "%u", (unsigned)args[2]);
}
