/*
 * fdcache: each process's fd kinds (fdcache.h), one byte an fd, in a
 * short list of processes.
 */
#include "fdcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* fds at or above this are not remembered: looked up each time. */
#define FDCACHE_MAX_FD 65536

struct fdtable {
    pid_t tgid;
    uint8_t *kind; /* by fd: enum fd_kind */
    int size;
};

struct fdcache {
    struct fdtable *tables;
    size_t n, cap;
};

struct fdcache *fdcache_new(void) { return calloc(1, sizeof(struct fdcache)); }

void fdcache_free(struct fdcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->tables[i].kind);
    free(c->tables);
    free(c);
}

static struct fdtable *find(const struct fdcache *c, pid_t tgid)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->tables[i].tgid == tgid)
            return &c->tables[i];
    return NULL;
}

static struct fdtable *table(struct fdcache *c, pid_t tgid)
{
    struct fdtable *t = find(c, tgid);
    if (t)
        return t;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct fdtable *tables = realloc(c->tables, cap * sizeof(*tables));
        if (!tables)
            return NULL;
        c->tables = tables;
        c->cap = cap;
    }
    t = &c->tables[c->n++];
    memset(t, 0, sizeof(*t));
    t->tgid = tgid;
    return t;
}

enum fd_kind fdcache_get(const struct fdcache *c, pid_t tgid, int fd)
{
    const struct fdtable *t = find(c, tgid);
    if (!t || fd < 0 || fd >= t->size)
        return FDK_UNKNOWN;
    return (enum fd_kind)t->kind[fd];
}

void fdcache_set(struct fdcache *c, pid_t tgid, int fd, enum fd_kind kind)
{
    if (fd < 0 || fd >= FDCACHE_MAX_FD)
        return;
    struct fdtable *t = table(c, tgid);
    if (!t)
        return;
    if (fd >= t->size) {
        int size = t->size ? t->size : 64;
        while (size <= fd)
            size *= 2;
        uint8_t *kind = realloc(t->kind, (size_t)size);
        if (!kind)
            return;
        memset(kind + t->size, FDK_UNKNOWN, (size_t)(size - t->size));
        t->kind = kind;
        t->size = size;
    }
    t->kind[fd] = (uint8_t)kind;
}

void fdcache_forget(struct fdcache *c, pid_t tgid, long first, long last)
{
    struct fdtable *t = find(c, tgid);
    if (!t)
        return;
    if (first < 0)
        first = 0;
    for (long fd = first; fd <= last && fd < t->size; fd++)
        t->kind[fd] = FDK_UNKNOWN;
}

void fdcache_drop(struct fdcache *c, pid_t tgid)
{
    struct fdtable *t = find(c, tgid);
    if (!t)
        return;
    free(t->kind);
    *t = c->tables[--c->n];
}

void fdcache_copy(struct fdcache *c, pid_t from, pid_t to)
{
    const struct fdtable *f = find(c, from);
    if (!f || from == to)
        return;
    for (int fd = f->size; fd-- > 0;) {
        f = find(c, from); /* fdcache_set may move the tables */
        if (f->kind[fd] != FDK_UNKNOWN && fdcache_get(c, to, fd) == FDK_UNKNOWN)
            fdcache_set(c, to, fd, (enum fd_kind)f->kind[fd]);
    }
}
