/* echo_libuv.c — the echo server on libuv 1.44 through uv_poll_t (readiness, no uv_stream_t
 * buffering, so only the event loop differs from echo_epoll.c).
 * Usage: echo_libuv [port]   (prints "Echo server running on localhost:PORT") */
#include "echo_conn.h"

#include <uv.h>

static uv_loop_t loop;

static void on_conn(uv_poll_t *h, int status, int events);

/** (Re)arm a connection's poll handle for what it wants (libuv: start again with new events). */
static void watch(struct echo_conn *c, enum echo_want want)
{
    uv_poll_t *h = c->watcher;
    int rc = 0;
    if (h == NULL) {
        if ((h = c->watcher = malloc(sizeof *h)) == NULL)
            die("malloc");
        rc = uv_poll_init(&loop, h, c->fd);
        h->data = c;
    }
    if (rc != 0 || uv_poll_start(h, want == ECHO_WANT_WRITE ? UV_WRITABLE : UV_READABLE,
                                 on_conn) != 0)
        fail("libuv watch", c->fd);
}

/** After uv_close: the handle is done, free it with its connection. */
static void on_closed(uv_handle_t *h)
{
    struct echo_conn *c = h->data;
    close(c->fd);
    free(h);
    free(c);
}

/** A connection is ready: read or flush, then act on what it wants next. */
static void on_conn(uv_poll_t *h, int status, int events)
{
    (void)events;
    struct echo_conn *c = h->data;
    enum echo_want before = c->len > 0 ? ECHO_WANT_WRITE : ECHO_WANT_READ;
    enum echo_want want = status < 0 ? ECHO_CLOSE
                          : before == ECHO_WANT_WRITE ? echo_flush(c)
                                                      : echo_on_readable(c);
    if (want == ECHO_CLOSE)
        uv_close((uv_handle_t *)h, on_closed);
    else if (want != before)
        watch(c, want);
}

/** The listener is ready: accept everything pending. */
static void on_accept(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        fail("listener poll", status);
    int fd;
    while ((fd = echo_accept(*(int *)h->data)) >= 0)
        watch(echo_conn_new(fd), ECHO_WANT_READ);
}

int main(int argc, char **argv)
{
    bench_start();
    int lfd = echo_listen(echo_port_arg(argc, argv), 0);
    uv_poll_t listener;
    if (uv_loop_init(&loop) != 0 || uv_poll_init(&loop, &listener, lfd) != 0)
        fail("libuv setup", 0);
    listener.data = &lfd;
    if (uv_poll_start(&listener, UV_READABLE, on_accept) != 0)
        fail("uv_poll_start", lfd);
    echo_announce(echo_port_of(lfd));
    return uv_run(&loop, UV_RUN_DEFAULT);
}
