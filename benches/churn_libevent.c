/* churn_libevent.c — registration churn and memory on libevent 2.1. libevent has no modify:
 * a change of events is event_del + event_assign + event_add, each kernel change made at once.
 * The struct event per fd that the API requires is counted as registration memory. */
#include "churn.h"

#include <event2/event.h>
#include <event2/event_struct.h>

/** libevent's base and one struct event per fd. */
struct libevent_loop {
    struct event_base *base;
    struct event *events;
};

/** Never called: the fds are never ready (the flush would fail on a spurious event). */
static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    fail("libevent reported an idle fd", fd);
}

/** Point event i at fd i with these events and add it. */
static void arm(struct churn *c, int i, short what)
{
    struct libevent_loop *l = c->loop;
    if (event_assign(&l->events[i], l->base, c->fd[i], what | EV_PERSIST, on_event, NULL) != 0 ||
        event_add(&l->events[i], NULL) != 0)
        fail("event_assign/event_add", i);
}

static void libevent_open(struct churn *c)
{
    struct libevent_loop *l = calloc(1, sizeof *l);
    /* m + 1: the mem mode opens with m = 0 too, and calloc(0) may return NULL */
    if (l == NULL || (l->events = calloc((size_t)c->m + 1, sizeof *l->events)) == NULL)
        die("calloc");
    if ((l->base = event_base_new()) == NULL)
        fail("event_base_new", 0);
    c->loop = l;
}

static void libevent_register_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        arm(c, i, EV_READ);
}

static void libevent_modify_all(struct churn *c)
{
    struct libevent_loop *l = c->loop;
    for (int i = 0; i < c->m; i++) {
        event_del(&l->events[i]);
        arm(c, i, EV_READ | EV_WRITE);
    }
}

static void libevent_unregister_all(struct churn *c)
{
    struct libevent_loop *l = c->loop;
    for (int i = 0; i < c->m; i++)
        event_del(&l->events[i]);
}

static void libevent_flush(struct churn *c)
{
    event_base_loop(((struct libevent_loop *)c->loop)->base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
}

static void libevent_close(struct churn *c)
{
    struct libevent_loop *l = c->loop;
    event_base_free(l->base);
    free(l->events);
    free(l);
}

/** Usage: churn_libevent churn M ROUNDS | churn_libevent mem M */
int main(int argc, char **argv)
{
    static const struct churn_peer peer = {libevent_open,         libevent_register_all,
                                           libevent_modify_all,   libevent_unregister_all,
                                           libevent_flush,        libevent_close};
    return churn_main(argc, argv, &peer);
}
