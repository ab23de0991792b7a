/* echo_libevent.c — the echo server on libevent 2.1 (readiness events, no bufferevents, so only
 * the event loop differs from echo_epoll.c).
 * Usage: echo_libevent [port]   (prints "Echo server running on localhost:PORT") */
#include "echo_conn.h"

#include <event2/event.h>

static struct event_base *base;

static void on_conn(evutil_socket_t fd, short what, void *arg);

/** (Re)arm a connection's event for what it wants; libevent changes events by del + assign. */
static void watch(struct echo_conn *c, enum echo_want want)
{
    struct event *ev = c->watcher;
    short what = (want == ECHO_WANT_WRITE ? EV_WRITE : EV_READ) | EV_PERSIST;
    if (ev == NULL)
        ev = c->watcher = event_new(base, c->fd, what, on_conn, c);
    else if (event_del(ev) != 0 || event_assign(ev, base, c->fd, what, on_conn, c) != 0)
        ev = NULL;
    if (ev == NULL || event_add(ev, NULL) != 0)
        fail("libevent watch", c->fd);
}

/** A connection is ready: read or flush, then act on what it wants next. */
static void on_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct echo_conn *c = arg;
    enum echo_want before = c->len > 0 ? ECHO_WANT_WRITE : ECHO_WANT_READ;
    enum echo_want want = before == ECHO_WANT_WRITE ? echo_flush(c) : echo_on_readable(c);
    if (want == ECHO_CLOSE) {
        event_free(c->watcher);
        close(c->fd);
        free(c);
    } else if (want != before) {
        watch(c, want);
    }
}

/** The listener is ready: accept everything pending. */
static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    (void)arg;
    int fd;
    while ((fd = echo_accept(lfd)) >= 0)
        watch(echo_conn_new(fd), ECHO_WANT_READ);
}

int main(int argc, char **argv)
{
    bench_start();
    int lfd = echo_listen(echo_port_arg(argc, argv), 0);
    base = event_base_new();
    struct event *listener = base ? event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL)
                                  : NULL;
    if (listener == NULL || event_add(listener, NULL) != 0)
        fail("libevent setup", 0);
    echo_announce(echo_port_of(lfd));
    return event_base_dispatch(base);
}
