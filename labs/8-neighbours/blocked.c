/*
 * Lab 8, the neighbours: a parent that blocks SIGPIPE, then execs the program it is given.
 *
 * Usage: blocked PROGRAM [ARG...]
 */
#include <signal.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    (void)argc;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, NULL);
    execv(argv[1], argv + 1);
    return 127;
}
