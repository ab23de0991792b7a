/* echo_libev.c — the echo server on libev 4.33 (epoll backend).
 * Usage: echo_libev [port]   (prints "Echo server running on localhost:PORT") */
#include "echo_conn.h"

#include <ev.h>

/** A connection's watcher, with the connection behind it. */
struct conn_watcher {
    ev_io io;
    struct echo_conn *conn;
};

static void on_conn(struct ev_loop *loop, ev_io *w, int revents);

/** (Re)arm a connection's watcher for what it wants (libev: stop, set, start). */
static void watch(struct ev_loop *loop, struct echo_conn *c, enum echo_want want)
{
    struct conn_watcher *w = c->watcher;
    if (w == NULL) {
        if ((w = c->watcher = malloc(sizeof *w)) == NULL)
            die("malloc");
        w->conn = c;
        ev_init(&w->io, on_conn);
    } else {
        ev_io_stop(loop, &w->io);
    }
    ev_io_set(&w->io, c->fd, want == ECHO_WANT_WRITE ? EV_WRITE : EV_READ);
    ev_io_start(loop, &w->io);
}

/** A connection is ready: read or flush, then act on what it wants next. */
static void on_conn(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)revents;
    struct conn_watcher *w = (struct conn_watcher *)io;
    struct echo_conn *c = w->conn;
    enum echo_want before = c->len > 0 ? ECHO_WANT_WRITE : ECHO_WANT_READ;
    enum echo_want want = before == ECHO_WANT_WRITE ? echo_flush(c) : echo_on_readable(c);
    if (want == ECHO_CLOSE) {
        ev_io_stop(loop, io);
        close(c->fd);
        free(w);
        free(c);
    } else if (want != before) {
        watch(loop, c, want);
    }
}

/** The listener is ready: accept everything pending. */
static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    int fd;
    while ((fd = echo_accept(w->fd)) >= 0)
        watch(loop, echo_conn_new(fd), ECHO_WANT_READ);
}

int main(int argc, char **argv)
{
    bench_start();
    int lfd = echo_listen(echo_port_arg(argc, argv), 0);
    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);
    if (loop == NULL)
        fail("ev_loop_new", 0);
    ev_io listener;
    ev_io_init(&listener, on_accept, lfd, EV_READ);
    ev_io_start(loop, &listener);
    echo_announce(echo_port_of(lfd));
    return ev_run(loop, 0) ? 0 : 1;
}
