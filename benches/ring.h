/* ring.h — the pipe-ring workload, after the design of libevent's test/bench.c (our own code).
 *
 * N socketpairs; the read end of each is watched for READ. A round has two timed phases:
 *   setup    — every watched fd is unregistered and registered again (N of each);
 *   dispatch — A pairs, spread evenly, get one byte; each readable fd reads its byte and, while
 *              writes remain (W per round), writes one byte into the next pair of the ring.
 *              The round ends when every byte written has been read (A + W reads).
 * Each peer file supplies the four operations of struct ring_peer; everything else is here, so
 * every peer does exactly the same work per event. The program prints the medians over ROUNDS
 * rounds (after one warm-up round): "setup_ns dispatch_ns total_ns". */
#ifndef BENCH_RING_H
#define BENCH_RING_H

#include "common.h"

/** State of one ring run; `loop` belongs to the peer. */
struct ring {
    int n, active, writes;
    int *rfd, *wfd;
    long fired, count, writes_left;
    void *loop;
};

/** What a peer implements. run_once waits (blocking is safe: a byte is always in flight while
 * count < fired) and calls ring_on_readable(r, index) once per ready fd. */
struct ring_peer {
    void (*open)(struct ring *r);           /* create the loop, register every rfd for READ */
    void (*reregister_all)(struct ring *r); /* the setup phase */
    void (*run_once)(struct ring *r);       /* one wait + the callbacks it triggers */
    void (*close)(struct ring *r);          /* free the loop (the fds are the harness's) */
};

/** Handle one readable fd of the ring: consume a byte, pass one on while writes remain. */
static inline void ring_on_readable(struct ring *r, int idx)
{
    char byte;
    if (read(r->rfd[idx], &byte, 1) != 1)
        die("ring read");
    r->count++;
    if (r->writes_left > 0) {
        int next = idx + 1 == r->n ? 0 : idx + 1;
        if (write(r->wfd[next], "e", 1) != 1)
            die("ring write");
        r->writes_left--;
        r->fired++;
    }
}

/** Run one round; stores its setup and dispatch times. */
static void ring_round(struct ring *r, const struct ring_peer *peer, uint64_t *setup_ns,
                       uint64_t *dispatch_ns)
{
    uint64_t t0 = now_ns();
    peer->reregister_all(r);
    uint64_t t1 = now_ns();
    int space = r->n / r->active;
    r->count = 0;
    r->fired = 0;
    r->writes_left = r->writes;
    for (int i = 0; i < r->active; i++) {
        if (write(r->wfd[i * space], "e", 1) != 1)
            die("ring kick");
        r->fired++;
    }
    while (r->count < r->fired)
        peer->run_once(r);
    *setup_ns = t1 - t0;
    *dispatch_ns = now_ns() - t1;
}

/** main() of every ring program: argv = N A W ROUNDS. */
static int ring_main(int argc, char **argv, const struct ring_peer *peer)
{
    static const char usage[] = "N ACTIVE WRITES ROUNDS";
    struct ring r = {0};
    r.n = arg_int(argc, argv, 1, usage);
    r.active = arg_int(argc, argv, 2, usage);
    r.writes = arg_int(argc, argv, 3, usage);
    int rounds = arg_int(argc, argv, 4, usage);
    if (r.active > r.n)
        r.active = r.n;
    bench_start();
    r.rfd = int_array(r.n);
    r.wfd = int_array(r.n);
    make_socketpairs(r.n, r.rfd, r.wfd);
    peer->open(&r);

    uint64_t *setup = calloc((size_t)rounds, sizeof *setup);
    uint64_t *dispatch = calloc((size_t)rounds, sizeof *dispatch);
    uint64_t *total = calloc((size_t)rounds, sizeof *total);
    if (setup == NULL || dispatch == NULL || total == NULL)
        die("calloc");
    uint64_t warm_setup, warm_dispatch;
    ring_round(&r, peer, &warm_setup, &warm_dispatch);
    for (int i = 0; i < rounds; i++) {
        ring_round(&r, peer, &setup[i], &dispatch[i]);
        total[i] = setup[i] + dispatch[i];
    }
    printf("%llu %llu %llu\n", (unsigned long long)median_u64(setup, rounds),
           (unsigned long long)median_u64(dispatch, rounds),
           (unsigned long long)median_u64(total, rounds));

    peer->close(&r);
    for (int i = 0; i < r.n; i++) {
        close(r.rfd[i]);
        close(r.wfd[i]);
    }
    free(setup);
    free(dispatch);
    free(total);
    free(r.rfd);
    free(r.wfd);
    return 0;
}

#endif /* BENCH_RING_H */
