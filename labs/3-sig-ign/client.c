/*
 * Lab 3, SIGPIPE ignored: lab 1's client, unchanged.
 *
 * Usage: client [port [host]]     (defaults 3333 and 127.0.0.1)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    int port = argc > 1 ? atoi(argv[1]) : 3333;
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, host, &addr.sin_addr);
    connect(fd, (struct sockaddr *)&addr, sizeof(addr));

    char buffer[4096];
    while (fgets(buffer, 4096, stdin)) {
        send(fd, buffer, strlen(buffer), 0);
        recv(fd, buffer, 4096, 0);
        printf("%s", buffer);
        fflush(stdout);
    }
    close(fd);
    return 0;
}
