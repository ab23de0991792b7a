/* ring_libevent.c — the pipe ring on libevent 2.1 (its default backend, epoll, level-triggered).
 * libevent has no "modify": the setup phase is event_del + event_assign + event_add per fd, the
 * same triple as libevent's own test/bench.c. Its kernel changes happen at once (no changelist
 * unless EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST, which we leave off as its default is). */
#include "ring.h"

#include <event2/event.h>
#include <event2/event_struct.h>

/** libevent's base and one struct event per ring fd. */
struct libevent_loop {
    struct event_base *base;
    struct event *events;
    struct ring *ring;
};

/* The callback argument carries the ring index, so the loop (and ring) is reached here. */
static struct libevent_loop *the_loop;

/** libevent callback: the ring index is the callback argument. */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ring_on_readable(the_loop->ring, (int)(intptr_t)arg);
}

/** Point event idx at ring fd idx and add it. */
static void arm(struct libevent_loop *l, int idx)
{
    struct event *ev = &l->events[idx];
    if (event_assign(ev, l->base, l->ring->rfd[idx], EV_READ | EV_PERSIST, on_read,
                     (void *)(intptr_t)idx) != 0 ||
        event_add(ev, NULL) != 0)
        fail("event_assign/event_add", idx);
}

static void libevent_open(struct ring *r)
{
    struct libevent_loop *l = calloc(1, sizeof *l);
    if (l == NULL || (l->events = calloc((size_t)r->n, sizeof *l->events)) == NULL)
        die("calloc");
    if ((l->base = event_base_new()) == NULL)
        fail("event_base_new", 0);
    l->ring = r;
    the_loop = l;
    r->loop = l;
    for (int i = 0; i < r->n; i++)
        arm(l, i);
}

static void libevent_reregister_all(struct ring *r)
{
    struct libevent_loop *l = r->loop;
    for (int i = 0; i < r->n; i++) {
        event_del(&l->events[i]);
        arm(l, i);
    }
}

static void libevent_run_once(struct ring *r)
{
    if (event_base_loop(((struct libevent_loop *)r->loop)->base, EVLOOP_ONCE) < 0)
        fail("event_base_loop", -1);
}

static void libevent_close(struct ring *r)
{
    struct libevent_loop *l = r->loop;
    for (int i = 0; i < r->n; i++)
        event_del(&l->events[i]);
    event_base_free(l->base);
    free(l->events);
    free(l);
}

/** Usage: ring_libevent N ACTIVE WRITES ROUNDS */
int main(int argc, char **argv)
{
    static const struct ring_peer peer = {libevent_open, libevent_reregister_all,
                                          libevent_run_once, libevent_close};
    return ring_main(argc, argv, &peer);
}
