/* churn_epoll.c — registration churn and memory on raw epoll_ctl: the floor. */
#include "churn.h"

#include <sys/epoll.h>

/** The raw loop: only the epoll fd (kept in a malloc'd box so memory is counted like peers'). */
struct epoll_loop {
    int epfd;
};

static int epfd_of(struct churn *c)
{
    return ((struct epoll_loop *)c->loop)->epfd;
}

/** One epoll_ctl with the fd's index as cookie. */
static void ctl(struct churn *c, int op, int i, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)i};
    if (epoll_ctl(epfd_of(c), op, c->fd[i], &ev) != 0)
        die("epoll_ctl");
}

static void epoll_open(struct churn *c)
{
    struct epoll_loop *l = malloc(sizeof *l);
    if (l == NULL || (l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1");
    c->loop = l;
}

static void epoll_register_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        ctl(c, EPOLL_CTL_ADD, i, EPOLLIN);
}

static void epoll_modify_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        ctl(c, EPOLL_CTL_MOD, i, EPOLLIN | EPOLLOUT);
}

static void epoll_unregister_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        ctl(c, EPOLL_CTL_DEL, i, 0);
}

static void epoll_flush(struct churn *c)
{
    struct epoll_event ev;
    if (epoll_wait(epfd_of(c), &ev, 1, 0) != 0)
        fail("epoll_wait reported an idle fd", 0);
}

static void epoll_close(struct churn *c)
{
    close(epfd_of(c));
    free(c->loop);
}

/** Usage: churn_epoll churn M ROUNDS | churn_epoll mem M */
int main(int argc, char **argv)
{
    static const struct churn_peer peer = {epoll_open,         epoll_register_all,
                                           epoll_modify_all,   epoll_unregister_all,
                                           epoll_flush,        epoll_close};
    return churn_main(argc, argv, &peer);
}
