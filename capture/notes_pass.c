/*
 * notes_pass: the notes of a socket handed from one process to another
 * over a UNIX socket (sendmsg and recvmsg with SCM_RIGHTS): which followed
 * sockets went, who took them, and what that means for their close().
 */
#include "notes.h"

#include <stdint.h>

#include "notebuf.h"
#include "notes_int.h"

/* "fd 5, the connection to 127.0.0.1:40000", or a listening socket's. */
static void name_socket(const struct pass_fd *p, struct notebuf *n)
{
    char at[64];
    if (p->listening)
        notebuf_add(n, "fd %d, the socket listening on %s", p->fd,
                    endpoint_str(&p->local, at, sizeof at));
    else
        notebuf_add(n, "fd %d, the connection to %s", p->fd,
                    endpoint_str(&p->remote, at, sizeof at));
}

/* What else the message carried: sockets beyond those named, other fds, control data not read. */
static void explain_rest(const struct pass_facts *pass, struct notebuf *n)
{
    if (pass->more)
        notebuf_add(n, "; and %d more followed socket%s", pass->more, pass->more == 1 ? "" : "s");
    if (pass->others)
        notebuf_add(n, "; and %d other fd%s (no TCP connection)", pass->others,
                    pass->others == 1 ? "" : "s");
    if (pass->control_cut)
        notebuf_add(n, "; %llu bytes of its control data were not read (more than %d)",
                    (unsigned long long)pass->control_cut, PASS_CONTROL_MAX);
}

/* A sendmsg that hands followed sockets over: which, and what their close() does from now on. */
static void explain_handed(const struct syscall_facts *f, struct notebuf *n)
{
    const struct pass_facts *pass = &f->pass;
    notebuf_add(n, "hands over ");
    for (int i = 0; i < pass->n; i++) {
        if (i)
            notebuf_add(n, "; ");
        name_socket(&pass->fds[i], n);
    }
    if (pass->n + pass->more == 1)
        notebuf_add(n,
                    " (SCM_RIGHTS) to the process that receives on the other end of fd %d: it "
                    "gets an fd of its own for the same socket, and while it holds it, a close() "
                    "here sends nothing",
                    f->fd);
    else
        notebuf_add(n,
                    " (SCM_RIGHTS) to the process that receives on the other end of fd %d: it "
                    "gets fds of its own for the same sockets, and while it holds one, a close() "
                    "of it here sends nothing",
                    f->fd);
    explain_rest(pass, n);
}

/* A recvmsg that took followed sockets in: each new fd, its connection, and who passed it. */
static void explain_received(const struct syscall_facts *f, struct notebuf *n)
{
    const struct pass_facts *pass = &f->pass;
    for (int i = 0; i < pass->n; i++) {
        const struct pass_fd *r = &pass->fds[i];
        notebuf_add(n, "%sreceives ", i ? "; " : "");
        name_socket(r, n);
        if (r->by)
            notebuf_add(n, ", passed by pid %d (%s) as its fd %d", (int)r->by, r->by_name,
                        r->by_fd);
        else
            notebuf_add(n, ", passed by a process the tracer did not see send it");
    }
    if (pass->n + pass->more == 1)
        notebuf_add(n, " (SCM_RIGHTS): this process holds the same socket now, and its calls on "
                       "it are followed");
    else
        notebuf_add(n, " (SCM_RIGHTS): this process holds the same sockets now, and its calls on "
                       "them are followed");
    explain_rest(pass, n);
}

void notes_pass(const struct syscall_facts *f, struct notebuf *n)
{
    if (f->kind == CALL_SEND)
        explain_handed(f, n);
    else
        explain_received(f, n);
}

void notes_close_passed(const struct syscall_facts *f, struct notebuf *n)
{
    notebuf_add(n,
                "fd %d is closed, but its socket was handed to another process (sendmsg, "
                "SCM_RIGHTS), which may hold it still: then nothing is sent now, and FIN (or "
                "RST) comes when the last holder closes it or exits",
                f->fd);
}
