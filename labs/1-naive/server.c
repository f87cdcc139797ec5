/*
 * Lab 1, the naive server: the original program, which never looks at what recv() returned.
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
        while (1) {
            int len = recv(client_fd, buffer, 4096, 0);
            (void)len; /* the bug: len is never looked at */
            printf("%s\n", buffer); /* the buffer is not NUL-terminated */
            fflush(stdout);
            send(client_fd, "done\n", 5, 0);
        }
    }
}
