/* The test harness: case selection, per-kind runs, fd leak checks, failure reports. */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__)
#include <dirent.h>
#endif

static const int linux_kinds[] = {SEL_KIND_SELECT, SEL_KIND_POLL, SEL_KIND_EPOLL};

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

/* The number of open fds of this process, or -1 where /proc is not available. */
static int count_open_fds(void) {
#if defined(__linux__)
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *entry;
    int count = 0;
    if (!dir)
        return -1;
    while ((entry = readdir(dir)) != NULL)
        if (entry->d_name[0] != '.')
            count++;
    closedir(dir);
    return count;
#else
    return -1;
#endif
}

static void run_case(const struct test_case *test) {
    size_t runs = test->scope == PER_KIND ? COUNT_OF(linux_kinds) : 1;
    size_t i;
    current_case = test->name;
    for (i = 0; i < runs; i++) {
        int fds_before;
        current_kind = test->scope == PER_KIND ? linux_kinds[i] : SEL_KIND_DEFAULT;
        fds_before = count_open_fds();
        test->run(current_kind);
        CHECK_EQ(count_open_fds(), fds_before);
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
    int failed = 0;
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
    for (i = 0; i < count; i++)
        failed += !run_case_isolated(&cases[i]);
    printf("%d passed, %d failed\n", (int)count - failed, failed);
    return failed ? 1 : 0;
}
