/* churn_libuv.c — registration churn and memory on libuv 1.44 (uv_poll_t). uv_poll_start on an
 * active handle changes its events (libuv's modify); EPOLL_CTL_ADD/MOD wait for the next uv_run,
 * while uv_poll_stop removes the fd from epoll at once. */
#include "churn.h"
#include "libuv_loop.h"

/** Never called: the fds are never ready. */
static void on_event(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)events;
    fail("libuv reported an idle fd", status);
}

static void start_all(struct churn *c, int events)
{
    struct libuv_loop *l = c->loop;
    for (int i = 0; i < c->m; i++) {
        int rc = uv_poll_start(&l->handles[i], events, on_event);
        if (rc != 0)
            fail("uv_poll_start", rc);
    }
}

static void libuv_open(struct churn *c)
{
    c->loop = libuv_loop_open(c->fd, c->m);
}

static void libuv_register_all(struct churn *c)
{
    start_all(c, UV_READABLE);
}

static void libuv_modify_all(struct churn *c)
{
    start_all(c, UV_READABLE | UV_WRITABLE);
}

static void libuv_unregister_all(struct churn *c)
{
    struct libuv_loop *l = c->loop;
    for (int i = 0; i < c->m; i++)
        uv_poll_stop(&l->handles[i]);
}

static void libuv_flush(struct churn *c)
{
    uv_run(&((struct libuv_loop *)c->loop)->loop, UV_RUN_NOWAIT);
}

static void libuv_close(struct churn *c)
{
    libuv_loop_close(c->loop, c->m);
}

/** Usage: churn_libuv churn M ROUNDS | churn_libuv mem M */
int main(int argc, char **argv)
{
    static const struct churn_peer peer = {libuv_open,         libuv_register_all,
                                           libuv_modify_all,   libuv_unregister_all,
                                           libuv_flush,        libuv_close};
    return churn_main(argc, argv, &peer);
}
