/* The test harness: case selection, per-kind runs, fd leak checks, failure reports. */
#include "platform.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

/* The kinds a PER_KIND case runs on: the two of every platform and its scalable interface. */
#if defined(__linux__)
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
        CHECK_EQ(list_open_fds(NULL, 0), fds_before);
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
