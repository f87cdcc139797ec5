/*
 * Lab 4, the third attempted fix: a SIGPIPE handler clears a `connected`
 * flag, the loop runs while the flag is set, and the connection is closed
 * after it.
 *
 * It works for a client that closes normally: the send() after the client
 * has gone raises SIGPIPE, the handler runs, the loop ends, and the server
 * goes back to accept(). Two things are left as they were written, on
 * purpose, because they are the exercises: the handler is installed late,
 * inside the loop after the first send(), and the flag is a plain int, not a
 * volatile sig_atomic_t.
 *
 * Usage: server [port]            (default port 3333)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int connected;

void reset(int sig)
{
    (void)sig; /* the handler does not need to know which signal it was */
    connected = 0;
}

int main(int argc, char *argv[])
{
    int port = argc > 1 ? atoi(argv[1]) : 3333;

    int server_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = INADDR_ANY;
    addr.sin_port = htons(port);
    bind(server_fd, (struct sockaddr *)&addr, sizeof(addr));
    listen(server_fd, 10);

    while (1) {
        int client_fd = accept(server_fd, NULL, NULL);
        char buffer[4096];
        connected = 1;
        while (connected) {
            int len = recv(client_fd, buffer, 4096, 0);
            (void)len; /* the bug: len is never looked at */
            printf("%s\n", buffer); /* the buffer is not NUL-terminated */
            fflush(stdout);
            send(client_fd, "done\n", 5, 0);
            signal(SIGPIPE, reset);
        }
        close(client_fd);
    }
}
