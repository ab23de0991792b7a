/* ring_libev.c — the pipe ring on libev 4.33 with its epoll backend.
 * libev defers kernel changes: ev_io_stop/ev_io_start only queue the fd in its change list and
 * the epoll_ctl calls happen inside the next ev_run. So its setup phase is nearly free and the
 * kernel work lands in the dispatch phase; the harness reports both and their sum. */
#include "ring.h"

#include <ev.h>

/** libev's loop and one ev_io watcher per ring fd; watcher.data holds the ring index. */
struct libev_loop {
    struct ev_loop *loop;
    ev_io *watchers;
};

/* The watcher carries the ring index, so the ring itself is reached here. */
static struct ring *the_ring;

/** libev callback: the ring index is in the watcher's data. */
static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    ring_on_readable(the_ring, (int)(intptr_t)w->data);
}

static void libev_open(struct ring *r)
{
    struct libev_loop *l = calloc(1, sizeof *l);
    if (l == NULL || (l->watchers = calloc((size_t)r->n, sizeof *l->watchers)) == NULL)
        die("calloc");
    if ((l->loop = ev_loop_new(EVBACKEND_EPOLL)) == NULL)
        fail("ev_loop_new", 0);
    the_ring = r;
    r->loop = l;
    for (int i = 0; i < r->n; i++) {
        ev_io_init(&l->watchers[i], on_read, r->rfd[i], EV_READ);
        l->watchers[i].data = (void *)(intptr_t)i;
        ev_io_start(l->loop, &l->watchers[i]);
    }
}

static void libev_reregister_all(struct ring *r)
{
    struct libev_loop *l = r->loop;
    for (int i = 0; i < r->n; i++) {
        ev_io_stop(l->loop, &l->watchers[i]);
        ev_io_set(&l->watchers[i], r->rfd[i], EV_READ);
        ev_io_start(l->loop, &l->watchers[i]);
    }
}

static void libev_run_once(struct ring *r)
{
    ev_run(((struct libev_loop *)r->loop)->loop, EVRUN_ONCE);
}

static void libev_close(struct ring *r)
{
    struct libev_loop *l = r->loop;
    for (int i = 0; i < r->n; i++)
        ev_io_stop(l->loop, &l->watchers[i]);
    ev_loop_destroy(l->loop);
    free(l->watchers);
    free(l);
}

/** Usage: ring_libev N ACTIVE WRITES ROUNDS */
int main(int argc, char **argv)
{
    static const struct ring_peer peer = {libev_open, libev_reregister_all, libev_run_once,
                                          libev_close};
    return ring_main(argc, argv, &peer);
}
