/* ring_libuv.c — the pipe ring on libuv 1.44 through uv_poll_t (readiness, like every peer).
 * libuv partly defers: uv_poll_stop removes the fd from epoll at once (EPOLL_CTL_DEL), while
 * uv_poll_start only queues it and the EPOLL_CTL_ADD happens in the next uv_run. */
#include "libuv_loop.h"
#include "ring.h"

/* The watcher carries the ring index, so the ring itself is reached here. */
static struct ring *the_ring;

/** libuv callback: the ring index is in the handle's data. */
static void on_read(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        fail("uv_poll status", status);
    ring_on_readable(the_ring, (int)(intptr_t)h->data);
}

static void start(uv_poll_t *h)
{
    int rc = uv_poll_start(h, UV_READABLE, on_read);
    if (rc != 0)
        fail("uv_poll_start", rc);
}

static void libuv_open(struct ring *r)
{
    struct libuv_loop *l = libuv_loop_open(r->rfd, r->n);
    the_ring = r;
    r->loop = l;
    /* Each handle's data holds its ring index. */
    for (int i = 0; i < r->n; i++) {
        l->handles[i].data = (void *)(intptr_t)i;
        start(&l->handles[i]);
    }
}

static void libuv_reregister_all(struct ring *r)
{
    struct libuv_loop *l = r->loop;
    for (int i = 0; i < r->n; i++) {
        uv_poll_stop(&l->handles[i]);
        start(&l->handles[i]);
    }
}

static void libuv_run_once(struct ring *r)
{
    uv_run(&((struct libuv_loop *)r->loop)->loop, UV_RUN_ONCE);
}

static void libuv_close(struct ring *r)
{
    libuv_loop_close(r->loop, r->n);
}

/** Usage: ring_libuv N ACTIVE WRITES ROUNDS */
int main(int argc, char **argv)
{
    static const struct ring_peer peer = {libuv_open, libuv_reregister_all, libuv_run_once,
                                          libuv_close};
    return ring_main(argc, argv, &peer);
}
