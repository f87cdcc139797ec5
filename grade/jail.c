/*
 * jail: the first process of a grading sandbox. It runs a command under
 * resource limits, reaps every process of the sandbox, and reports how the
 * command ended.
 *
 * scripts/grade starts it with bubblewrap as process 1 of the sandbox's own
 * PID namespace (bwrap --as-pid-1), so that when it ends, the kernel kills
 * every process left in the sandbox. It
 *
 *   1. makes itself undumpable, so the command (same uid) can neither trace
 *      it nor read or write its memory, and forge its report;
 *   2. forks the command in a process group of its own, with the limits
 *      given by --rlimit (set in the child only, after the sandbox's user
 *      namespace exists, so that the process limit counts the sandbox's
 *      processes and nothing else), every signal at its default action and
 *      unblocked, only descriptors 0, 1 and 2, and only PATH and LANG in
 *      its environment;
 *   3. with --status-fd FD, writes "pid N" (the command's pid in the
 *      sandbox) and, when the command ends, "exit N" or "signal N" on FD;
 *   4. reaps the command and every orphan that comes back to it, as init
 *      does. Without --stay it then exits as the command did (128 + N for
 *      signal N); with --stay it waits to be killed, so that whoever runs
 *      the sandbox can see what the command left behind.
 *
 * Usage: jail [--stay] [--status-fd FD] [--rlimit NAME=VALUE]... -- COMMAND [ARG...]
 *        NAME: nproc, as, data, fsize, cpu, nofile, stack, core
 *
 * Exit status: the command's (128 + N if signal N killed it); 125 usage or
 * a failed setup; 127 the command could not be run.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    SETUP_FAILED = 125,
    CANNOT_RUN = 127,
    MAX_LIMITS = 16,
    SIGNAL_STATUS_BASE = 128, /* a shell's status for a process killed by signal N */
};

static const struct limit_name {
    const char *name;
    int resource;
} LIMIT_NAMES[] = {
    { "nproc", RLIMIT_NPROC }, { "as", RLIMIT_AS },     { "data", RLIMIT_DATA },
    { "fsize", RLIMIT_FSIZE }, { "cpu", RLIMIT_CPU },   { "nofile", RLIMIT_NOFILE },
    { "stack", RLIMIT_STACK }, { "core", RLIMIT_CORE },
};

struct limit {
    int resource;
    rlim_t value;
};

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "jail: ");
    fprintf(stderr, fmt, arg);
    fprintf(
        stderr,
        "\nusage: jail [--stay] [--status-fd FD] [--rlimit NAME=VALUE]... -- COMMAND [ARG...]\n");
    exit(SETUP_FAILED);
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "jail: %s: %s (the sandbox could not be set up)\n", what, strerror(errno));
    exit(SETUP_FAILED);
}

/* NAME=VALUE into *L; false if NAME is unknown or VALUE is not a number. */
static bool parse_limit(const char *arg, struct limit *l)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return false;
    for (size_t i = 0; i < sizeof LIMIT_NAMES / sizeof *LIMIT_NAMES; i++) {
        if (strlen(LIMIT_NAMES[i].name) == (size_t)(eq - arg) &&
            strncmp(arg, LIMIT_NAMES[i].name, (size_t)(eq - arg)) == 0) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(eq + 1, &end, 10);
            if (errno || end == eq + 1 || *end)
                return false;
            l->resource = LIMIT_NAMES[i].resource;
            l->value = (rlim_t)v;
            return true;
        }
    }
    return false;
}

/* Write all of TEXT to FD (-1: nowhere); a reader that has gone is not our problem. */
static void report(int fd, const char *text)
{
    size_t len = strlen(text), done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        done += (size_t)n;
    }
}

/* In the child: limits, signals, descriptors, then exec; never returns. */
static _Noreturn void run_command(char **argv, const struct limit *limits, int nlimits)
{
    if (setpgid(0, 0) < 0)
        die("setpgid");
    for (int i = 0; i < nlimits; i++) {
        struct rlimit rl = { .rlim_cur = limits[i].value, .rlim_max = limits[i].value };
        if (setrlimit(limits[i].resource, &rl) < 0)
            die("setrlimit");
    }
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL); /* fails harmlessly for SIGKILL, SIGSTOP and the gaps */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (close_range(3, ~0u, 0) < 0)
        die("close_range");
    /* The environment is PATH and LANG only (bwrap adds PWD). */
    const char *path = getenv("PATH"), *lang = getenv("LANG");
    char path_var[512], lang_var[128];
    snprintf(path_var, sizeof path_var, "PATH=%s", path ? path : "/usr/bin:/bin");
    snprintf(lang_var, sizeof lang_var, "LANG=%s", lang ? lang : "C.UTF-8");
    char *env[] = { path_var, lang_var, NULL };
    execve(argv[0], argv, env);
    fprintf(stderr, "jail: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(CANNOT_RUN);
}

int main(int argc, char *argv[])
{
    bool stay = false;
    int status_fd = -1;
    struct limit limits[MAX_LIMITS];
    int nlimits = 0;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--stay") == 0) {
            stay = true;
        } else if (strcmp(argv[i], "--status-fd") == 0 && i + 1 < argc) {
            status_fd = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--rlimit") == 0 && i + 1 < argc) {
            if (nlimits == MAX_LIMITS || !parse_limit(argv[++i], &limits[nlimits++]))
                usage_error(
                    "bad limit '%s' (NAME=VALUE, NAME one of nproc, as, data, fsize, cpu, nofile, "
                    "stack, core)",
                    argv[i]);
        } else {
            usage_error("unknown option '%s'", argv[i]);
        }
    }
    if (i + 1 >= argc)
        usage_error("no command%s", "");
    char **command = argv + i + 1;

    if (prctl(PR_SET_DUMPABLE, 0) < 0)
        die("prctl PR_SET_DUMPABLE");
    /* As init, signals from inside the sandbox reach us only if caught: catch none. */
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        run_command(command, limits, nlimits);

    char line[64];
    snprintf(line, sizeof line, "pid %d\n", (int)pid);
    report(status_fd, line);
    int exit_status = -1;
    for (;;) {
        int status;
        pid_t w = wait(&status);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            /* Nothing left to reap: done, or wait to be killed. */
            if (!stay)
                break;
            pause();
            continue;
        }
        if (w != pid)
            continue; /* an orphan of the command's */
        if (WIFSIGNALED(status)) {
            snprintf(line, sizeof line, "signal %d\n", WTERMSIG(status));
            exit_status = SIGNAL_STATUS_BASE + WTERMSIG(status);
        } else {
            snprintf(line, sizeof line, "exit %d\n", WEXITSTATUS(status));
            exit_status = WEXITSTATUS(status);
        }
        report(status_fd, line);
        if (!stay)
            break; /* what is left dies with us */
    }
    return exit_status;
}
