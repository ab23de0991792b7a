/* ring_epoll.c — the pipe ring on raw epoll: the floor every other peer is measured against.
 * One epoll_ctl per change, the fd's ring index kept in the kernel cookie, level-triggered like
 * every other peer. */
#include "ring.h"

#include <sys/epoll.h>

/* Events fetched per epoll_wait; more than the A = 100 bytes in flight, so one wait drains all. */
#define MAX_EVENTS 256

/** The raw loop: only the epoll fd. */
struct epoll_loop {
    int epfd;
};

/** epoll_ctl ADD of ring fd idx for input, its index as the cookie. */
static void add_fd(int epfd, struct ring *r, int idx)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, r->rfd[idx], &ev) != 0)
        die("epoll_ctl ADD");
}

static void epoll_open(struct ring *r)
{
    struct epoll_loop *l = malloc(sizeof *l);
    if (l == NULL || (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    for (int i = 0; i < r->n; i++)
        add_fd(l->epfd, r, i);
    r->loop = l;
}

static void epoll_reregister_all(struct ring *r)
{
    int epfd = ((struct epoll_loop *)r->loop)->epfd;
    for (int i = 0; i < r->n; i++) {
        if (epoll_ctl(epfd, EPOLL_CTL_DEL, r->rfd[i], NULL) != 0)
            die("epoll_ctl DEL");
        add_fd(epfd, r, i);
    }
}

static void epoll_run_once(struct ring *r)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(((struct epoll_loop *)r->loop)->epfd, evs, MAX_EVENTS, -1);
    if (n < 0)
        die("epoll_wait");
    for (int i = 0; i < n; i++)
        ring_on_readable(r, (int)evs[i].data.u32);
}

static void epoll_close(struct ring *r)
{
    struct epoll_loop *l = r->loop;
    close(l->epfd);
    free(l);
}

/** Usage: ring_epoll N ACTIVE WRITES ROUNDS */
int main(int argc, char **argv)
{
    static const struct ring_peer peer = {epoll_open, epoll_reregister_all, epoll_run_once,
                                          epoll_close};
    return ring_main(argc, argv, &peer);
}
