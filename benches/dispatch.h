/* dispatch.h — the select-and-dispatch loop that benches/wrapper_overhead runs twice, once on
 * the C API (dispatch_c.c) and once on selectors.hpp (dispatch_cxx.cpp), to count what the C++
 * wrapper adds: the same ready fds, the same handler called through each key's data. C99 and
 * C++17 alike. */
#ifndef BENCH_DISPATCH_H
#define BENCH_DISPATCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Ready fds per wait, and waits per run: enough for the loop to dwarf the set-up. */
#define DISPATCH_FDS 16
#define DISPATCH_ROUNDS 20000

/* What each registration's data points to, as in examples/echo_server.c. */
struct handler {
    void (*on_ready)(struct handler *self, uint32_t mask);
    unsigned long calls;
};

/* The work of a ready fd: only counted, so the loop itself is what is measured. */
static inline void count_call(struct handler *self, uint32_t mask) {
    self->calls += mask;
}

/* Makes DISPATCH_FDS socket pairs whose first ends stay readable (one byte, never read) and
 * stores those ends in readable[]. */
static inline void make_ready_fds(int readable[DISPATCH_FDS]) {
    int i;
    for (i = 0; i < DISPATCH_FDS; i++) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0 || write(pair[1], "x", 1) != 1) {
            perror("dispatch: socketpair");
            exit(1);
        }
        readable[i] = pair[0];
    }
}

/* Checks that every handler ran once per round, and prints the total (so no call is dead). */
static inline void check_calls(const struct handler handlers[DISPATCH_FDS], const char *loop) {
    unsigned long total = 0;
    int i;
    for (i = 0; i < DISPATCH_FDS; i++)
        total += handlers[i].calls;
    if (total != (unsigned long)DISPATCH_FDS * DISPATCH_ROUNDS) {
        fprintf(stderr, "dispatch: %s: %lu calls, expected %lu\n", loop, total,
                (unsigned long)DISPATCH_FDS * DISPATCH_ROUNDS);
        exit(1);
    }
    printf("%s: %lu handler calls\n", loop, total);
}

#endif
