/*
 * netns: entering a private network namespace.
 */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *userns_advice =
    "unprivileged user namespaces are not allowed here: run sigtrace as root, or allow them "
    "(as root: sysctl -w kernel.unprivileged_userns_clone=1, or sysctl -w user.max_user_namespaces=10000; "
    "on Ubuntu 23.10 and later: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0), "
    "or run without --netns";

/* The invoker's ids, once netns_enter made a user namespace that maps them to 0. */
static bool mapped;
static uid_t invoker_uid;
static gid_t invoker_gid;

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * A new user namespace, one uid and one gid mapped: inside_uid inside is
 * outside_uid in the namespace we are in (likewise for the gid). Its own
 * setgroups is denied first, as an unprivileged gid_map needs. 0, or -1 with
 * err saying which step failed.
 */
static int map_ids(uid_t inside_uid, uid_t outside_uid, gid_t inside_gid, gid_t outside_gid,
                   char *err, size_t errlen)
{
    char map[64];
    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot set up the user namespace (setgroups: %s): %s",
                 strerror(errno), userns_advice);
        return -1;
    }
    snprintf(map, sizeof(map), "%u %u 1", (unsigned)inside_uid, (unsigned)outside_uid);
    if (write_file("/proc/self/uid_map", map) < 0) {
        snprintf(err, errlen, "cannot set up the user namespace (uid_map: %s): %s", strerror(errno),
                 userns_advice);
        return -1;
    }
    snprintf(map, sizeof(map), "%u %u 1", (unsigned)inside_gid, (unsigned)outside_gid);
    if (write_file("/proc/self/gid_map", map) < 0) {
        snprintf(err, errlen, "cannot set up the user namespace (gid_map: %s): %s", strerror(errno),
                 userns_advice);
        return -1;
    }
    return 0;
}

static int enter_user_and_net(char *err, size_t errlen)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        snprintf(err, errlen, "cannot make a network namespace (unshare: %s): %s", strerror(errno),
                 userns_advice);
        return -1;
    }
    if (map_ids(0, uid, 0, gid, err, errlen) < 0)
        return -1;
    mapped = true;
    invoker_uid = uid;
    invoker_gid = gid;
    return 0;
}

static int bring_lo_up(char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot bring lo up in the namespace (socket: %s)", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(fd);
    if (rc < 0) {
        snprintf(err, errlen, "cannot bring lo up in the namespace (%s)", strerror(saved));
        return -1;
    }
    return 0;
}

int netns_enter(char *err, size_t errlen)
{
    /* Root keeps its own user namespace, and with it every capability it has. */
    if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
        if (enter_user_and_net(err, errlen) < 0)
            return -1;
    }
    return bring_lo_up(err, errlen);
}

int netns_become_invoker(char *err, size_t errlen)
{
    if (!mapped)
        return 0;
    /* The invoker is 0 here; in the nested namespace, 0 here is the invoker's uid again. */
    if (unshare(CLONE_NEWUSER) < 0) {
        snprintf(err, errlen, "cannot run the command as uid %u (unshare: %s): %s",
                 (unsigned)invoker_uid, strerror(errno), userns_advice);
        return -1;
    }
    return map_ids(invoker_uid, 0, invoker_gid, 0, err, errlen);
}
