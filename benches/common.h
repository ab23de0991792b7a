/* common.h — small helpers shared by every benchmark program: a monotonic clock, the open-files
 * limit, descriptor pairs, a watchdog, argument parsing and malloc accounting.
 *
 * Every bench program includes this first. It defines _GNU_SOURCE itself because the programs
 * are compiled with -std=c99 but use Linux interfaces (epoll, accept4, SO_REUSEPORT, mallinfo2). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Seconds a bench program may run before SIGALRM kills it: a stalled loop must fail, not hang. */
#define BENCH_WATCHDOG_SECONDS 120

/** Print a message with the current errno and exit 1: benchmarks never continue after a failure. */
static inline void die(const char *what)
{
    fprintf(stderr, "fatal: %s: %s\n", what, strerror(errno));
    exit(1);
}

/** Print a message without errno and exit 1 (for failed invariants and library error codes). */
static inline void fail(const char *what, long code)
{
    fprintf(stderr, "fatal: %s (%ld)\n", what, code);
    exit(1);
}

/** Nanoseconds on the monotonic clock. */
static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** Raise the soft RLIMIT_NOFILE to the hard limit, so N = 9,000 pairs (18,000 fds) fit. */
static inline void raise_nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit");
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("setrlimit");
}

/** Start the watchdog and raise the fd limit: the common start of every bench main(). */
static inline void bench_start(void)
{
    alarm(BENCH_WATCHDOG_SECONDS);
    raise_nofile_limit();
}

/** Parse argv[i] as a positive int or exit with the usage line. */
static inline int arg_int(int argc, char **argv, int i, const char *usage)
{
    char *end = NULL;
    long v = i < argc ? strtol(argv[i], &end, 10) : 0;
    if (i >= argc || *end != '\0' || v <= 0 || v > 100000000) {
        fprintf(stderr, "usage: %s %s\n", argv[0], usage);
        exit(2);
    }
    return (int)v;
}

/** Make n connected AF_UNIX stream pairs: rfd[i] is the end that is watched, wfd[i] the end that
 * is written. Both arrays are malloc'd by the caller with n entries. */
static inline void make_socketpairs(int n, int *rfd, int *wfd)
{
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair (is RLIMIT_NOFILE high enough?)");
        rfd[i] = sv[0];
        wfd[i] = sv[1];
    }
}

/** Make n pipes; rfd[i] is the read end, wfd[i] the write end. A pipe's read end is never
 * writable, so watching it for READ|WRITE reports nothing and loops stay idle. */
static inline void make_pipes(int n, int *rfd, int *wfd)
{
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            die("pipe2 (is RLIMIT_NOFILE high enough?)");
        rfd[i] = p[0];
        wfd[i] = p[1];
    }
}

/** malloc'd array of n ints, or exit. */
static inline int *int_array(int n)
{
    int *a = calloc((size_t)n, sizeof *a);
    if (a == NULL)
        die("calloc");
    return a;
}

/** Bytes the process holds from malloc right now: the arena in use plus mmap'd blocks, so that
 * large tables (which glibc serves with mmap) are counted too. */
static inline size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/** Comparison for qsort over uint64_t. */
static inline int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/** Median of n samples (sorts them in place). */
static inline uint64_t median_u64(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

#endif /* BENCH_COMMON_H */
