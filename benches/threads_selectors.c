/* threads_selectors.c — registration from other threads while one thread is blocked in
 * sel_select(-1), for one selector kind (epoll, poll or select).
 *
 * REGISTRARS threads each make PAIRS sel_register/sel_unregister pairs on a pipe of their own.
 * Most pairs are on an empty pipe (nothing to report: the ideal waiter sleeps through them);
 * every SAMPLE_EVERY-th pair writes a byte to the pipe first, so the blocked wait must report
 * the new registration: the waiter reads the byte back and the registrar, told through a
 * semaphore, unregisters. The time from just before that sel_register to the return of the
 * sel_select that reported it is one latency sample.
 *
 * Prints the waiter's CPU time (its thread clock), the process's CPU time (user + system, every
 * thread), the waiter's voluntary context switches (how often it blocked: a measure of its
 * wake-ups) and the latency's p50 and p99. */
#include "common.h"
#include "selectors_kind.h"

#include <pthread.h>
#include <semaphore.h>

enum { REGISTRARS = 4, SAMPLE_EVERY = 100 };

/* One registrar thread: its pipe, its samples and the handshake with the waiter. */
struct registrar {
    sel_selector *sel;
    int pairs;
    int pipe_read, pipe_write;
    /* Set by the registrar just before a sampled sel_register; read by the waiter. */
    uint64_t registered_at;
    sem_t reported;
    uint64_t *latencies;
    int samples;
};

/* The waiting thread's result. */
struct waiter {
    sel_selector *sel;
    int stop;
    uint64_t cpu_ns;
    long voluntary_switches;
};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        die("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check(const char *what, int rc)
{
    if (rc < 0)
        fail(what, rc);
}

static void *wait_for_ever(void *arg)
{
    struct waiter *w = arg;
    sel_event events[REGISTRARS];
    while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
        int n = sel_select(w->sel, -1.0, events, REGISTRARS);
        uint64_t reported_at = now_ns();
        check("sel_select", n);
        for (int i = 0; i < n; i++) {
            struct registrar *r = events[i].key.data;
            char byte;
            if (read(r->pipe_read, &byte, 1) != 1)
                die("read (a reported pipe holds a byte)");
            r->latencies[r->samples++] =
                reported_at - __atomic_load_n(&r->registered_at, __ATOMIC_ACQUIRE);
            if (sem_post(&r->reported) != 0)
                die("sem_post");
        }
    }
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) != 0)
        die("getrusage");
    w->voluntary_switches = usage.ru_nvcsw;
    w->cpu_ns = thread_cpu_ns();
    return NULL;
}

static void *register_and_unregister(void *arg)
{
    struct registrar *r = arg;
    for (int i = 1; i <= r->pairs; i++) {
        int sampled = i % SAMPLE_EVERY == 0;
        if (sampled) {
            if (write(r->pipe_write, "x", 1) != 1)
                die("write");
            __atomic_store_n(&r->registered_at, now_ns(), __ATOMIC_RELEASE);
        }
        check("sel_register", sel_register(r->sel, r->pipe_read, SEL_EVENT_READ, r, NULL));
        if (sampled)
            while (sem_wait(&r->reported) != 0)
                if (errno != EINTR)
                    die("sem_wait");
        check("sel_unregister", sel_unregister(r->sel, r->pipe_read, NULL));
    }
    return NULL;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double cpu_ms(const struct rusage *usage)
{
    return (double)(usage->ru_utime.tv_sec + usage->ru_stime.tv_sec) * 1e3 +
           (double)(usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1e3;
}

/** Usage: threads_selectors KIND PAIRS — prints one line of figures. */
int main(int argc, char **argv)
{
    int kind = kind_arg(argc, argv);
    int pairs = arg_int(argc, argv, 2, "epoll|poll|select PAIRS");
    struct waiter waiter = {.sel = sel_new_or_die(kind)};
    struct registrar registrars[REGISTRARS];
    pthread_t waiter_thread, threads[REGISTRARS];
    int samples_each = pairs / SAMPLE_EVERY;
    uint64_t *latencies = calloc((size_t)(REGISTRARS * samples_each) + 1, sizeof *latencies);
    bench_start();
    if (latencies == NULL)
        die("calloc");
    if (pthread_create(&waiter_thread, NULL, wait_for_ever, &waiter) != 0)
        die("pthread_create");
    uint64_t started = now_ns();
    for (int t = 0; t < REGISTRARS; t++) {
        struct registrar *r = &registrars[t];
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            die("pipe2");
        *r = (struct registrar){.sel = waiter.sel, .pairs = pairs, .pipe_read = fds[0],
                                .pipe_write = fds[1], .latencies = latencies + t * samples_each};
        if (sem_init(&r->reported, 0, 0) != 0)
            die("sem_init");
        if (pthread_create(&threads[t], NULL, register_and_unregister, r) != 0)
            die("pthread_create");
    }
    for (int t = 0; t < REGISTRARS; t++)
        if (pthread_join(threads[t], NULL) != 0)
            die("pthread_join");
    double wall_s = (double)(now_ns() - started) / 1e9;
    __atomic_store_n(&waiter.stop, 1, __ATOMIC_RELEASE);
    check("sel_wakeup", sel_wakeup(waiter.sel));
    if (pthread_join(waiter_thread, NULL) != 0)
        die("pthread_join");
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        die("getrusage");
    size_t count = 0;
    for (int t = 0; t < REGISTRARS; t++) {
        if (registrars[t].samples != samples_each)
            fail("a sampled registration was not reported once", registrars[t].samples);
        count += (size_t)samples_each;
    }
    qsort(latencies, count, sizeof *latencies, compare_u64);
    double p50 = count ? (double)latencies[count / 2] / 1e3 : 0;
    double p99 = count ? (double)latencies[count * 99 / 100] / 1e3 : 0;
    printf("kind=%s threads=%d pairs_each=%d wall_s=%.3f waiter_cpu_ms=%.1f total_cpu_ms=%.1f "
           "waiter_blocks=%ld samples=%zu p50_us=%.1f p99_us=%.1f\n",
           argv[1], REGISTRARS, pairs, wall_s, (double)waiter.cpu_ns / 1e6, cpu_ms(&usage),
           waiter.voluntary_switches, count, p50, p99);
    for (int t = 0; t < REGISTRARS; t++) {
        close(registrars[t].pipe_read);
        close(registrars[t].pipe_write);
        sem_destroy(&registrars[t].reported);
    }
    check("sel_close", sel_close(waiter.sel));
    free(latencies);
    return 0;
}
