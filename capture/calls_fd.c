/*
 * calls_fd: the decoders of the calls that copy or close descriptors, and
 * change a socket's file flags (close_range, dup, dup2, dup3, fcntl); close
 * itself needs none.
 */
#include <fcntl.h>

#include "calls_int.h"
#include "procfs.h"
#include "vocab.h"

/* close_range(first, last, flags): every fd from first to last. */
ENTRY(close_range)
{
    char flags[64];
    (void)tid;
    f->fd = (int)args[0];
    f->fd2 = args[1] > 0x7fffffff ? 0x7fffffff : (int)args[1];
    f->option = (int)args[2];
    calls_arg(f, "%u", (unsigned)args[0]);
    if (args[1] >= 0xffffffffULL)
        calls_arg(f, "~0U");
    else
        calls_arg(f, "%u", (unsigned)args[1]);
    calls_arg(f, "%s", tok_flags(close_range_flags, (unsigned)args[2], flags, sizeof flags));
}

/* close_range is followed when it closes a TCP socket. */
bool want_close_range(pid_t tid, const uint64_t args[6])
{
    if (args[0] > args[1])
        return false;
    return procfs_tcp_socket_in(tid, (unsigned)args[0],
                                args[1] > 0xffffffffULL ? 0xffffffffU : (unsigned)args[1]);
}

/* dup(old), dup2(old, new), dup3(old, new, flags). */
ENTRY(dup)
{
    (void)tid;
    f->fd2 = -1;
    calls_arg(f, "%d", f->fd);
    if (f->syscall[3]) { /* dup2, dup3 */
        f->fd2 = (int)args[1];
        calls_arg(f, "%d", (int)args[1]);
    }
    if (f->syscall[3] == '3')
        calls_arg(f, "%s", (int)args[2] & O_CLOEXEC ? "O_CLOEXEC" : "0");
}

/* fcntl(fd, cmd, arg): F_DUPFD and F_DUPFD_CLOEXEC, a dup; F_SETFL, the socket's flags. */
ENTRY(fcntl)
{
    (void)tid;
    char flags[96];
    int cmd = (int)args[1];
    calls_arg(f, "%d", f->fd);
    calls_arg(f, "%s", tok_name_or(fcntl_commands, cmd, "?"));
    f->option_level = -1;
    f->option = cmd;
    if (cmd == F_SETFL) {
        f->kind = CALL_OPTION;
        f->value = (long long)(int)args[2];
        f->value_known = true;
        calls_arg(f, "%s", tok_flags(file_flag_names, (unsigned)args[2], flags, sizeof flags));
    } else {
        f->kind = CALL_DUP;
        f->fd2 = (int)args[2];
        calls_arg(f, "%d", (int)args[2]);
    }
}

/* Which fcntl commands are followed. */
bool want_fcntl(pid_t tid, const uint64_t args[6])
{
    (void)tid;
    return tok_name(fcntl_commands, (long)(int)args[1]) != NULL;
}
