/* churn_libev.c — registration churn and memory on libev 4.33 (epoll backend). libev defers:
 * start/stop only queue the fd, and the epoll_ctl calls happen in the zero-timeout ev_run after
 * each phase. It also never issues EPOLL_CTL_DEL on stop (it drops the fd lazily when the kernel
 * reports it), which makes its unregister phase cheaper than a real removal. */
#include "churn.h"

#include <ev.h>

/** libev's loop and one ev_io per fd. */
struct libev_loop {
    struct ev_loop *loop;
    ev_io *watchers;
};

/** Never called: the fds are never ready. */
static void on_event(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    fail("libev reported an idle fd", w->fd);
}

static void libev_open(struct churn *c)
{
    struct libev_loop *l = calloc(1, sizeof *l);
    /* m + 1: the mem mode opens with m = 0 too, and calloc(0) may return NULL */
    if (l == NULL || (l->watchers = calloc((size_t)c->m + 1, sizeof *l->watchers)) == NULL)
        die("calloc");
    if ((l->loop = ev_loop_new(EVBACKEND_EPOLL)) == NULL)
        fail("ev_loop_new", 0);
    for (int i = 0; i < c->m; i++)
        ev_io_init(&l->watchers[i], on_event, c->fd[i], EV_READ);
    c->loop = l;
}

static void libev_register_all(struct churn *c)
{
    struct libev_loop *l = c->loop;
    for (int i = 0; i < c->m; i++) {
        ev_io_set(&l->watchers[i], c->fd[i], EV_READ);
        ev_io_start(l->loop, &l->watchers[i]);
    }
}

static void libev_modify_all(struct churn *c)
{
    struct libev_loop *l = c->loop;
    for (int i = 0; i < c->m; i++) {
        ev_io_stop(l->loop, &l->watchers[i]);
        ev_io_modify(&l->watchers[i], EV_READ | EV_WRITE);
        ev_io_start(l->loop, &l->watchers[i]);
    }
}

static void libev_unregister_all(struct churn *c)
{
    struct libev_loop *l = c->loop;
    for (int i = 0; i < c->m; i++)
        ev_io_stop(l->loop, &l->watchers[i]);
}

static void libev_flush(struct churn *c)
{
    ev_run(((struct libev_loop *)c->loop)->loop, EVRUN_NOWAIT);
}

static void libev_close(struct churn *c)
{
    struct libev_loop *l = c->loop;
    ev_loop_destroy(l->loop);
    free(l->watchers);
    free(l);
}

/** Usage: churn_libev churn M ROUNDS | churn_libev mem M */
int main(int argc, char **argv)
{
    static const struct churn_peer peer = {libev_open,         libev_register_all,
                                           libev_modify_all,   libev_unregister_all,
                                           libev_flush,        libev_close};
    return churn_main(argc, argv, &peer);
}
