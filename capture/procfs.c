/*
 * procfs: reading /proc about traced processes.
 */
#include "procfs.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <unistd.h>

int procfs_fd_socket(pid_t tid, int fd, unsigned long *inode)
{
    char path[64], target[64];
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return -1;
    target[n] = '\0';
    if (sscanf(target, "socket:[%lu]", inode) == 1)
        return 1;
    return 0;
}

int procfs_fd_cloexec(pid_t tid, int fd)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)tid, fd);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int found = -1;
    unsigned long flags;
    while (found < 0 && fgets(line, sizeof(line), f))
        if (sscanf(line, "flags: %lo", &flags) == 1)
            found = (flags & O_CLOEXEC) != 0;
    fclose(f);
    return found;
}

size_t procfs_tcp_fds(pid_t tid, int *fds, unsigned long *inodes, size_t max)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)tid);
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    size_t n = 0, seen = 0;
    struct dirent *d;
    while (n < max && seen++ < PROCFS_FDS_MAX && (d = readdir(dir))) {
        char *end;
        long fd = strtol(d->d_name, &end, 10);
        unsigned long inode;
        if (*end || end == d->d_name || fd < 0 || fd > INT_MAX)
            continue;
        if (procfs_fd_socket(tid, (int)fd, &inode) == 1 && !procfs_fd_other_socket(tid, (int)fd)) {
            fds[n] = (int)fd;
            inodes[n++] = inode;
        }
    }
    closedir(dir);
    return n;
}

int procfs_socket_fd(pid_t pid, unsigned long inode)
{
    char path[64], want[48];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int found = -1;
    size_t seen = 0;
    struct dirent *d;
    while (found < 0 && seen++ < PROCFS_FDS_MAX && (d = readdir(dir))) {
        char link[sizeof(path) + sizeof(d->d_name) + 1], target[48];
        if (d->d_name[0] < '0' || d->d_name[0] > '9')
            continue;
        snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, want) == 0)
            found = atoi(d->d_name);
    }
    closedir(dir);
    return found;
}

/* The protocol of fd of tid's socket ("TCP", "UNIX" ...) into proto: 0, or -1 if it is none. */
static int socket_proto(pid_t tid, int fd, char *proto, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
    ssize_t n = getxattr(path, "system.sockprotoname", proto, len - 1);
    if (n <= 0)
        return -1;
    proto[n] = '\0';
    return 0;
}

int procfs_fd_other_socket(pid_t tid, int fd)
{
    char proto[32];
    if (socket_proto(tid, fd, proto, sizeof proto) < 0)
        return 0; /* no such fd, or no socket: the call shows what happens */
    return strcmp(proto, "TCP") && strcmp(proto, "TCPv6");
}

int procfs_fd_unix_socket(pid_t tid, int fd)
{
    char proto[32];
    /* "UNIX" (datagrams and sequenced packets), "UNIX-STREAM" */
    return socket_proto(tid, fd, proto, sizeof proto) == 0 && strncmp(proto, "UNIX", 4) == 0;
}

int procfs_tcp_socket_in(pid_t tid, unsigned first, unsigned last)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)tid);
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    int found = 0;
    struct dirent *d;
    while (!found && (d = readdir(dir))) {
        char *end;
        unsigned long fd = strtoul(d->d_name, &end, 10);
        struct stat st;
        if (*end || end == d->d_name || fd < first || fd > last)
            continue;
        found = procfs_fd_stat(tid, (int)fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
                !procfs_fd_other_socket(tid, (int)fd);
    }
    closedir(dir);
    return found;
}

int procfs_fd_stat(pid_t tid, int fd, struct stat *st)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)tid, fd);
    return stat(path, st) < 0 ? -1 : 0;
}

/*
 * /proc/net/tcp prints each address as the hex of the 32-bit words of the
 * address in the machine's byte order; reading them back with the same order
 * gives network-order bytes.
 */
static int parse_hex_endpoint(const char *text, int family, struct endpoint *e)
{
    const char *colon = strchr(text, ':');
    if (!colon)
        return -1;
    size_t words = family == AF_INET ? 1 : 4;
    if ((size_t)(colon - text) != words * 8)
        return -1;
    memset(e, 0, sizeof(*e));
    e->family = family;
    for (size_t i = 0; i < words; i++) {
        char hex[9];
        memcpy(hex, text + i * 8, 8);
        hex[8] = '\0';
        uint32_t word = (uint32_t)strtoul(hex, NULL, 16);
        memcpy(e->addr + i * 4, &word, 4);
    }
    e->port = (uint16_t)strtoul(colon + 1, NULL, 16);
    return 0;
}

static int find_in_table(const char *path, int family, unsigned long inode, struct endpoint *local,
                         struct endpoint *remote, int *state)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[512];
    int found = -1;
    if (!fgets(line, sizeof(line), f)) { /* the header */
        fclose(f);
        return -1;
    }
    while (found < 0 && fgets(line, sizeof(line), f)) {
        char loc[64], rem[64];
        unsigned st;
        unsigned long ino;
        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line, "%*s %63s %63s %x %*s %*s %*s %*s %*s %lu", loc, rem, &st, &ino) != 4)
            continue;
        if (ino != inode)
            continue;
        if (parse_hex_endpoint(loc, family, local) < 0 ||
            parse_hex_endpoint(rem, family, remote) < 0)
            continue;
        *state = (int)st;
        found = 0;
    }
    fclose(f);
    return found;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is shown, and matched, as IPv4. */
static void unmap_v4(struct endpoint *e)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (e->family == AF_INET6 && memcmp(e->addr, prefix, 12) == 0) {
        memmove(e->addr, e->addr + 12, 4);
        memset(e->addr + 4, 0, 12);
        e->family = AF_INET;
    }
}

int procfs_tcp_socket(pid_t tid, unsigned long inode, struct endpoint *local,
                      struct endpoint *remote, int *state)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)tid);
    if (find_in_table(path, AF_INET, inode, local, remote, state) == 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)tid);
    if (find_in_table(path, AF_INET6, inode, local, remote, state) == 0) {
        unmap_v4(local);
        unmap_v4(remote);
        return 0;
    }
    return -1;
}

/* Read a small /proc file into buf (NUL-terminated); its length, or -1. */
static ssize_t read_small(pid_t tid, const char *name, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

int procfs_signal_masks(pid_t tid, uint64_t *ignored, uint64_t *caught)
{
    char buf[4096];
    if (read_small(tid, "status", buf, sizeof(buf)) <= 0)
        return -1;
    const char *ign = strstr(buf, "\nSigIgn:");
    const char *cgt = strstr(buf, "\nSigCgt:");
    if (!ign || !cgt)
        return -1;
    *ignored = strtoull(ign + 8, NULL, 16);
    *caught = strtoull(cgt + 8, NULL, 16);
    return 0;
}

int procfs_signal_blocked(pid_t tid, uint64_t *blocked)
{
    char buf[4096];
    if (read_small(tid, "status", buf, sizeof(buf)) <= 0)
        return -1;
    const char *blk = strstr(buf, "\nSigBlk:");
    if (!blk)
        return -1;
    *blocked = strtoull(blk + 8, NULL, 16);
    return 0;
}

/* The number after field ("\nTgid:") in tid's status, or -1. */
static pid_t status_pid(pid_t tid, const char *field)
{
    char buf[4096];
    if (read_small(tid, "status", buf, sizeof(buf)) <= 0)
        return -1;
    const char *at = strstr(buf, field);
    return at ? (pid_t)strtol(at + strlen(field), NULL, 10) : -1;
}

pid_t procfs_tgid(pid_t tid) { return status_pid(tid, "\nTgid:"); }

pid_t procfs_ppid(pid_t tid) { return status_pid(tid, "\nPPid:"); }

long long procfs_voluntary_switches(pid_t tid)
{
    char buf[4096];
    if (read_small(tid, "status", buf, sizeof(buf)) <= 0)
        return -1;
    const char *at = strstr(buf, "\nvoluntary_ctxt_switches:");
    return at ? strtoll(at + 26, NULL, 10) : -1;
}

pid_t procfs_ns_tgid(pid_t tid)
{
    char buf[4096];
    if (read_small(tid, "status", buf, sizeof(buf)) <= 0)
        return -1;
    const char *line = strstr(buf, "\nNStgid:");
    if (!line)
        return -1;
    line += 8;
    pid_t last = -1;
    char *end;
    /* One number a namespace, the outermost first: the last is the innermost. */
    for (long v = strtol(line, &end, 10); end != line && *line != '\n';
         v = strtol(line, &end, 10)) {
        last = (pid_t)v;
        line = end;
    }
    return last;
}

int procfs_comm(pid_t tid, char *buf, size_t len)
{
    ssize_t n = read_small(tid, "comm", buf, len);
    if (n <= 0)
        return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

int procfs_exe(pid_t tid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
    ssize_t n = readlink(path, buf, len - 1);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

int procfs_cmdline(pid_t tid, char *buf, size_t len, size_t *total)
{
    char path[64], rest[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || len == 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* What fits in buf, then the rest only counted: a cut command line says by how much. */
    size_t got = 0, all = 0;
    for (;;) {
        bool into_buf = got + 1 < len;
        ssize_t n = into_buf ? read(fd, buf + got, len - 1 - got) : read(fd, rest, sizeof rest);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (into_buf)
            got += (size_t)n;
        all += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    if (got == 0)
        return -1;
    bool cut = all > got;
    /* Arguments are NUL-separated; the last NUL ends the last one. */
    for (size_t i = 0; i < got; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    while (got > 0 && buf[got - 1] == ' ')
        buf[--got] = '\0';
    *total = cut ? all - 1 : got;
    return 0;
}

/* Interpreters that take a script file as their first argument that is no option. */
static int is_interpreter(const char *comm)
{
    static const char *const prefixes[] = { "python", "perl", "ruby", "node", "php", "lua" };
    static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh" };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (!strncmp(comm, prefixes[i], strlen(prefixes[i])))
            return 1;
    for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
        if (!strcmp(comm, shells[i]))
            return 1;
    return 0;
}

int procfs_script_name(pid_t tid, const char *comm, char *name, size_t len)
{
    char args[4096];
    if (!is_interpreter(comm) || len == 0)
        return 0;
    ssize_t n = read_small(tid, "cmdline", args, sizeof(args));
    if (n <= 0)
        return 0;
    const char *arg = args, *end = args + n, *script = NULL;
    arg += strnlen(arg, (size_t)(end - arg)) + 1; /* the interpreter itself */
    while (arg < end && !script) {
        size_t alen = strnlen(arg, (size_t)(end - arg));
        if (!strcmp(arg, "-c") || !strcmp(arg, "-e") || !strcmp(arg, "-m") || !strcmp(arg, "-"))
            return 0; /* code from the command line or standard input: no script file */
        if (!strcmp(arg, "--")) {
            arg += alen + 1;
            script = arg < end ? arg : NULL;
            break;
        }
        if (arg[0] != '-')
            script = arg;
        arg += alen + 1;
    }
    if (!script || !script[0])
        return 0;
    /* A relative path is the process's, not ours: look from its working directory. */
    char path[4200];
    if (script[0] == '/')
        snprintf(path, sizeof(path), "%s", script);
    else
        snprintf(path, sizeof(path), "/proc/%d/cwd/%s", (int)tid, script);
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    const char *base = strrchr(script, '/');
    base = base ? base + 1 : script;
    if (!base[0])
        return 0;
    size_t cut = strlen(base) < 15 ? strlen(base) : 15;
    if (cut >= len)
        cut = len - 1;
    memcpy(name, base, cut);
    name[cut] = '\0';
    return 1;
}
