/* libuv_loop.h — libuv's loop with one uv_poll_t per fd, as the ring and churn peers use it. */
#ifndef BENCH_LIBUV_LOOP_H
#define BENCH_LIBUV_LOOP_H

#include "common.h"

#include <uv.h>

/** libuv's loop and one poll handle per fd. */
struct libuv_loop {
    uv_loop_t loop;
    uv_poll_t *handles;
};

/** A loop with one poll handle per fd of `fds[0..count)`, each initialised, none started. */
static inline struct libuv_loop *libuv_loop_open(const int *fds, int count)
{
    struct libuv_loop *l = calloc(1, sizeof *l);
    /* count + 1: the churn's mem mode opens with count = 0, and calloc(0) may return NULL */
    if (l == NULL || (l->handles = calloc((size_t)count + 1, sizeof *l->handles)) == NULL)
        die("calloc");
    if (uv_loop_init(&l->loop) != 0)
        fail("uv_loop_init", 0);
    for (int i = 0; i < count; i++) {
        int rc = uv_poll_init(&l->loop, &l->handles[i], fds[i]);
        if (rc != 0)
            fail("uv_poll_init", rc);
    }
    return l;
}

/** Closes the `count` handles, runs the loop until libuv has let go of them, and frees it all. */
static inline void libuv_loop_close(struct libuv_loop *l, int count)
{
    for (int i = 0; i < count; i++)
        uv_close((uv_handle_t *)&l->handles[i], NULL);
    uv_run(&l->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&l->loop) != 0)
        fail("uv_loop_close", 0);
    free(l->handles);
    free(l);
}

#endif
