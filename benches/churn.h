/* churn.h — registration workloads: churn (time) and memory (bytes), on M descriptors.
 *
 * churn M ROUNDS: a round registers M pipe read ends for READ, modifies all of them to
 *   READ|WRITE, unregisters all of them, with a zero-timeout wait after each of the three
 *   phases. The waits are where deferring peers (libev, libuv) make their kernel calls, so every
 *   peer's kernel state really changes; a pipe's read end is never writable, so the waits report
 *   nothing. Prints the median ns per round over ROUNDS rounds (after one warm-up round).
 * mem M: M descriptors numbered densely from the lowest free one (both ends of M/2 pipes) are
 *   registered for READ; prints the bytes of malloc'd memory this took, counting the loop and
 *   every per-registration structure the peer's API makes the caller hold (struct event, ev_io,
 *   uv_poll_t), and the loop's own fixed part as measured with zero registrations. */
#ifndef BENCH_CHURN_H
#define BENCH_CHURN_H

#include "common.h"

/** State of one run; `loop` belongs to the peer. */
struct churn {
    int m;
    int *fd;
    void *loop;
};

/** What a peer implements. open creates the loop and whatever per-fd structures the API needs,
 * without registering anything; flush is one zero-timeout wait. */
struct churn_peer {
    void (*open)(struct churn *c);
    void (*register_all)(struct churn *c);   /* each fd for READ */
    void (*modify_all)(struct churn *c);     /* each fd to READ|WRITE */
    void (*unregister_all)(struct churn *c);
    void (*flush)(struct churn *c);
    void (*close)(struct churn *c);
};

/** One churn round. */
static void churn_round(struct churn *c, const struct churn_peer *peer)
{
    peer->register_all(c);
    peer->flush(c);
    peer->modify_all(c);
    peer->flush(c);
    peer->unregister_all(c);
    peer->flush(c);
}

/** The churn mode: median ns per round. */
static void churn_time(struct churn *c, const struct churn_peer *peer, int rounds)
{
    int *wfd = int_array(c->m);
    make_pipes(c->m, c->fd, wfd);
    peer->open(c);
    uint64_t *t = calloc((size_t)rounds, sizeof *t);
    if (t == NULL)
        die("calloc");
    churn_round(c, peer);
    for (int i = 0; i < rounds; i++) {
        uint64_t t0 = now_ns();
        churn_round(c, peer);
        t[i] = now_ns() - t0;
    }
    printf("%llu\n", (unsigned long long)median_u64(t, rounds));
    peer->close(c);
    for (int i = 0; i < c->m; i++)
        close(wfd[i]);
    free(wfd);
    free(t);
}

/** Heap bytes taken by opening the loop over c->m fds and registering them all. */
static size_t churn_heap_delta(struct churn *c, const struct churn_peer *peer)
{
    size_t before = heap_in_use();
    peer->open(c);
    if (c->m > 0)
        peer->register_all(c);
    peer->flush(c);
    size_t after = heap_in_use();
    if (c->m > 0)
        peer->unregister_all(c);
    peer->close(c);
    return after > before ? after - before : 0;
}

/** The mem mode: "bytes_with_m fixed_bytes" (the second with no registration). */
static void churn_memory(struct churn *c, const struct churn_peer *peer)
{
    int m = c->m;
    for (int i = 0; i + 1 < m; i += 2) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            die("pipe2");
        c->fd[i] = p[0];
        c->fd[i + 1] = p[1];
    }
    c->m = 0;
    size_t fixed = churn_heap_delta(c, peer);
    c->m = m & ~1;
    size_t with_m = churn_heap_delta(c, peer);
    printf("%zu %zu\n", with_m, fixed);
}

/** main() of every churn program: argv = churn M ROUNDS | mem M. */
static int churn_main(int argc, char **argv, const struct churn_peer *peer)
{
    static const char usage[] = "churn M ROUNDS | mem M";
    struct churn c = {0};
    c.m = arg_int(argc, argv, 2, usage);
    bench_start();
    c.fd = int_array(c.m);
    if (strcmp(argv[1], "churn") == 0)
        churn_time(&c, peer, arg_int(argc, argv, 3, usage));
    else if (strcmp(argv[1], "mem") == 0)
        churn_memory(&c, peer);
    else
        fail(usage, 2);
    free(c.fd);
    return 0;
}

#endif /* BENCH_CHURN_H */
