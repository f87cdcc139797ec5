/*
 * procfs: what /proc says about a traced process: whether an fd is a
 * socket, that socket's addresses (from the process's own view of
 * /proc/net/tcp and tcp6, so it works inside a network namespace), how the
 * process disposes of each signal, its name and command line.
 *
 * Every function reads the files afresh: the answer is the one at the moment
 * of the call, which is the point (a disposition can change at any time).
 */
#ifndef SIGTRACE_PROCFS_H
#define SIGTRACE_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "event.h"

/* 1 and *inode set if fd of tid is a socket, 0 if it is something else, -1 if no such fd. */
int procfs_fd_socket(pid_t tid, int fd, unsigned long *inode);

/* 1 if fd of tid is close-on-exec (O_CLOEXEC in /proc/TID/fdinfo/FD's flags), 0 if not, -1 if no such fd. */
int procfs_fd_cloexec(pid_t tid, int fd);

/*
 * The TCP sockets tid has open: up to max fds (lowest first is not
 * promised) and their inodes, looked at in no more than PROCFS_FDS_MAX
 * entries of /proc/TID/fd. How many were found.
 */
#define PROCFS_FDS_MAX 1024
size_t procfs_tcp_fds(pid_t tid, int *fds, unsigned long *inodes, size_t max);

/* The fd of pid that refers to the socket with this inode (the first PROCFS_FDS_MAX looked at), or -1. */
int procfs_socket_fd(pid_t pid, unsigned long inode);

/* What fd of tid refers to, as stat(2) says (a socket, a pipe, a file): 0, or -1 if no such fd. */
int procfs_fd_stat(pid_t tid, int fd, struct stat *st);

/*
 * 1 if fd of tid is a socket of another protocol than TCP (a UNIX socket a
 * name lookup opens, a UDP one), as the socket's own "system.sockprotoname"
 * says; 0 if it is a TCP socket, not a socket, or not there at all.
 */
int procfs_fd_other_socket(pid_t tid, int fd);

/* 1 if fd of tid is a UNIX socket (the one kind that hands fds over, SCM_RIGHTS), else 0. */
int procfs_fd_unix_socket(pid_t tid, int fd);

/* 1 if tid has a TCP socket open on an fd from first to last, else 0. */
int procfs_tcp_socket_in(pid_t tid, unsigned first, unsigned last);

/*
 * The TCP socket with this inode, as tid's network namespace sees it: its
 * local and remote endpoints and its state (TCP_ESTABLISHED ..., as in
 * /proc/net/tcp). 0, or -1 if it is not a TCP socket there.
 */
int procfs_tcp_socket(pid_t tid, unsigned long inode, struct endpoint *local,
                      struct endpoint *remote, int *state);

/* The SigIgn and SigCgt masks (bit signo-1). 0, or -1. */
int procfs_signal_masks(pid_t tid, uint64_t *ignored, uint64_t *caught);
/* The thread's signal mask, SigBlk (bit signo-1). 0, or -1. */
int procfs_signal_blocked(pid_t tid, uint64_t *blocked);

/* The thread group (process) id of tid, or -1. */
pid_t procfs_tgid(pid_t tid);
/* The process that started tid's process (its parent, as the kernel has it now), or -1. */
pid_t procfs_ppid(pid_t tid);
/* The same, as tid's own PID namespace numbers it (the last of NStgid), or -1. */
pid_t procfs_ns_tgid(pid_t tid);
/*
 * How many times tid has given up the CPU of its own accord so far (it slept,
 * or stopped for the tracer: voluntary_ctxt_switches), or -1.
 */
long long procfs_voluntary_switches(pid_t tid);

/*
 * If tid runs an interpreter (comm python3, bash, perl, node ...) on a
 * script file, the script's name as the kernel would name a process (its
 * file name, cut to 15 bytes) into name: 1. 0 if it runs no script file
 * (inline code, as with -c, -e or -m, included).
 */
int procfs_script_name(pid_t tid, const char *comm, char *name, size_t len);

/* Name (comm), executable path: 0, or -1. */
int procfs_comm(pid_t tid, char *buf, size_t len);
int procfs_exe(pid_t tid, char *buf, size_t len);
/*
 * The command line, arguments joined with spaces, as much as fits in buf;
 * *total gets its whole length (more than strlen(buf) when it was cut). 0, or -1.
 */
int procfs_cmdline(pid_t tid, char *buf, size_t len, size_t *total);

#endif
