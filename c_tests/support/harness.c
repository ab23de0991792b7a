/* The test harness: case selection, per-kind runs, fd leak checks, failure reports. */
#include "platform.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

/* The kinds a PER_KIND case runs on: the two of every platform and its scalable interface, and
 * on Linux KQUEUE too in the build with libkqueue. */
#if defined(__linux__) && defined(SEL_TEST_LIBKQUEUE)
static const int platform_kinds[] = {SEL_KIND_SELECT, SEL_KIND_POLL, SEL_KIND_EPOLL,
                                     SEL_KIND_KQUEUE};
#elif defined(__linux__)
static const int platform_kinds[] = {SEL_KIND_SELECT, SEL_KIND_POLL, SEL_KIND_EPOLL};
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__)
static const int platform_kinds[] = {SEL_KIND_SELECT, SEL_KIND_POLL, SEL_KIND_KQUEUE};
#elif defined(__sun)
static const int platform_kinds[] = {SEL_KIND_SELECT, SEL_KIND_POLL, SEL_KIND_DEVPOLL};
#else
static const int platform_kinds[] = {SEL_KIND_SELECT, SEL_KIND_POLL};
#endif

static const char *current_case = "";
static int current_kind = SEL_KIND_DEFAULT;

const char *kind_label(int kind) {
    const char *name = sel_kind_name(kind);
    return name ? name : "unknown kind";
}

void test_fail(const char *file, int line, const char *what, long long left, long long right) {
    fprintf(stderr, "FAIL %s [%s] at %s:%d: %s", current_case, kind_label(current_kind), file,
            line, what);
    if (left != right)
        fprintf(stderr, " (got %lld, expected %lld)", left, right);
    fputc('\n', stderr);
    exit(1);
}

#ifdef SEL_TEST_LIBKQUEUE
/* A pause of `ms` milliseconds. */
static void pause_ms(long ms) {
    struct timespec pause = {0, 0};
    pause.tv_nsec = ms * 1000000L;
    nanosleep(&pause, NULL);
}

/* Opens and closes a KQUEUE selector, then waits until the number of open fds stays the same
 * for 50 ms: libkqueue's first kqueue starts a monitoring thread with fds of its own, and
 * closes a kqueue's fds from that thread shortly after close() returns (see open_fds_back_to).
 * So no case counts fds while libkqueue is still settling. */
static void let_libkqueue_settle(void) {
    size_t count, steady = 0;
    int waits;
    sel_selector *sel = sel_new(SEL_KIND_KQUEUE, 0);
    if (sel == NULL) {
        perror("built with libkqueue, yet sel_new(SEL_KIND_KQUEUE) fails");
        exit(1);
    }
    sel_close(sel);
    count = list_open_fds(NULL, 0);
    for (waits = 0; steady < 5 && waits < 200; waits++) {
        size_t now;
        pause_ms(10);
        now = list_open_fds(NULL, 0);
        steady = now == count ? steady + 1 : 0;
        count = now;
    }
}
#endif

/* The number of open fds once it comes back to `expected`, or after 2 s. Only the build with
 * libkqueue waits (any case may open a kqueue): libkqueue closes a kqueue's own fds (its epoll
 * set, its pipe, one eventfd per filter) from a monitoring thread shortly after close()
 * returns, where the BSD kernels free a kqueue in close() itself. A leak still fails: the
 * count never comes back. */
static size_t open_fds_back_to(size_t expected) {
    size_t count = list_open_fds(NULL, 0);
#ifdef SEL_TEST_LIBKQUEUE
    int waits;
    for (waits = 0; count != expected && waits < 200; waits++) {
        pause_ms(10);
        count = list_open_fds(NULL, 0);
    }
#else
    (void)expected;
#endif
    return count;
}

static void run_case(const struct test_case *test) {
    size_t runs = test->scope == PER_KIND ? COUNT_OF(platform_kinds) : 1;
    size_t i;
    current_case = test->name;
    if (test->run == NULL) {
        printf("SKIPPED (not a pass): %s needs Linux, turned off in this build\n", test->name);
        return;
    }
    for (i = 0; i < runs; i++) {
        size_t fds_before;
        current_kind = test->scope == PER_KIND ? platform_kinds[i] : SEL_KIND_DEFAULT;
        fds_before = list_open_fds(NULL, 0);
        test->run(current_kind);
        CHECK_EQ(open_fds_back_to(fds_before), fds_before);
        printf("ok %s [%s]\n", test->name, kind_label(current_kind));
        fflush(stdout);
    }
}

/* Runs one case in a child process, so that what it changes process-wide (signal handlers,
 * rlimits, seccomp filters, threads) ends with it; returns whether it passed. */
static int run_case_isolated(const struct test_case *test) {
    int status;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        run_case(test);
        fflush(stdout);
        _exit(0);
    }
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int run_tests(int argc, char **argv, const struct test_case *cases, size_t count) {
    size_t i;
    int failed = 0, skipped = 0;
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < count; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
#ifdef SEL_TEST_LIBKQUEUE
    let_libkqueue_settle();
#endif
    if (argc > 1) {
        for (i = 0; i < count; i++)
            if (strcmp(argv[1], cases[i].name) == 0) {
                run_case(&cases[i]);
                return 0;
            }
        fprintf(stderr, "no test case named %s\n", argv[1]);
        return 2;
    }
    for (i = 0; i < count; i++) {
        if (cases[i].run == NULL)
            skipped++;
        else
            failed += !run_case_isolated(&cases[i]);
    }
    printf("%d passed, %d failed, %d skipped\n", (int)count - failed - skipped, failed, skipped);
    return failed ? 1 : 0;
}
