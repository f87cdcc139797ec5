/*
 * trace: run a command, and follow it and every process it starts with
 * ptrace. What it reports, as events: the socket calls (socket, bind,
 * listen, accept, connect, the sends and receives, shutdown, close) with the
 * arguments that matter and their results; every signal a process receives,
 * with the disposition it had at that moment; execs; and how each process
 * ended.
 *
 * Processes are seized (PTRACE_SEIZE), so group-stops are handled with
 * PTRACE_LISTEN and a stopped process stays stopped exactly as it would
 * untraced. Signals are re-injected unchanged. System calls are decoded with
 * PTRACE_GET_SYSCALL_INFO, so there is no per-architecture register code.
 * Where the kernel allows it, a seccomp filter installed before the exec
 * makes only the calls above stop the process: everything else runs at full
 * speed. If the tracer dies, PTRACE_O_EXITKILL kills every traced process.
 */
#ifndef SIGTRACE_TRACE_H
#define SIGTRACE_TRACE_H

#include <stddef.h>
#include <sys/types.h>

#include "event.h"

struct tracer;

/* Called with each new event; the callee owns it. */
typedef void (*trace_emit_fn)(struct event *ev, void *ctx);

/*
 * Create the process that will run argv[0] (looked up in PATH) with argv,
 * and seize it; it waits, before the exec, for trace_start(), so that
 * whatever must be ready first (the capture) can be opened in between. The
 * caller must have blocked SIGCHLD (it learns of stops through a signalfd);
 * the command starts with the signal mask and SIGPIPE disposition given
 * here, and with its standard output on our standard error if
 * stdout_to_stderr (when ours carries JSON). Its writes to where its
 * standard output went are reported as EV_OUTPUT events; a line it writes
 * to anything but a socket that begins with mark (if not NULL) is reported
 * as an EV_VERDICT event with the rest of the line. NULL on failure, with
 * the reason in err.
 */
struct tracer *trace_spawn(char *const argv[], const sigset_t *child_mask,
                           int child_sigpipe_ignored, int stdout_to_stderr, const char *mark,
                           trace_emit_fn emit, void *ctx, char *err, size_t errlen);

/* Let the command run. Returns 1 if the seccomp filter is in use, else 0. */
int trace_start(struct tracer *t);

/*
 * Handle at most max pending stops and exits, without blocking. Returns how
 * many were handled (0: none pending), or -1 once no traced process is left.
 */
int trace_pump(struct tracer *t, int max);

/*
 * Send sig to the command's processes, as a terminal sends its Ctrl-C to the
 * foreground job: to every traced process in the process group of the
 * command's first process. A signal that came from the terminal itself
 * (from_terminal) reached that group already when it is sigtrace's own, and
 * is not sent again.
 */
void trace_signal_command(struct tracer *t, int sig, int from_terminal);

/* SIGKILL every traced process: none is left stopped, and none outlives the tracer. */
void trace_kill_all(struct tracer *t);

/*
 * The entry of the oldest exec still under way (an execve entered, its
 * PTRACE_EVENT_EXEC or failure not yet seen): 1 and *since set, else 0. The
 * exec's event is stamped at its entry but made when it completes: nothing
 * after since may be let out before it. An exec under way longer than
 * TRACE_EXEC_HOLD_NS is let be (and its event comes out at once, later).
 */
#define TRACE_EXEC_HOLD_NS 1000000000LL
int trace_exec_since(const struct tracer *t, struct timespec *since);

/* The command's wait status, once it has ended: 1 and *status set, else 0. */
int trace_command_status(const struct tracer *t, int *status);

void trace_free(struct tracer *t);

#endif
