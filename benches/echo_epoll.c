/* echo_epoll.c — the echo server on raw epoll: the floor for the echo workload.
 * Usage: echo_epoll [port]   (prints "Echo server running on localhost:PORT") */
#include "echo_conn.h"

#include <sys/epoll.h>

#define MAX_EVENTS 256

/** Watch fd for the events a connection wants; data.ptr is the connection (NULL: listener). */
static void watch(int epfd, int op, struct echo_conn *c, enum echo_want want)
{
    struct epoll_event ev = {.events = want == ECHO_WANT_WRITE ? EPOLLOUT : EPOLLIN,
                             .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) != 0)
        die("epoll_ctl");
}

/** Act on what a connection wants after an event: change interest, or close. */
static void apply(int epfd, struct echo_conn *c, enum echo_want before, enum echo_want want)
{
    if (want == ECHO_CLOSE) {
        close(c->fd); /* closing removes it from the epoll set */
        free(c);
    } else if (want != before) {
        watch(epfd, EPOLL_CTL_MOD, c, want);
    }
}

int main(int argc, char **argv)
{
    bench_start();
    int lfd = echo_listen(echo_port_arg(argc, argv), 0);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0)
        die("epoll setup");
    echo_announce(echo_port_of(lfd));
    for (;;) {
        struct epoll_event evs[MAX_EVENTS];
        int n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct echo_conn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = echo_accept(lfd)) >= 0)
                    watch(epfd, EPOLL_CTL_ADD, echo_conn_new(fd), ECHO_WANT_READ);
            } else if (c->len > 0) {
                apply(epfd, c, ECHO_WANT_WRITE, echo_flush(c));
            } else {
                apply(epfd, c, ECHO_WANT_READ, echo_on_readable(c));
            }
        }
    }
}
