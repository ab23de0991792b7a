/*
 * A small test harness for the C tests of libselectors.
 *
 * Each test program lists its cases in a table and hands it to run_tests(). Run with no argument
 * it runs every case, each in a child process of its own, and prints "N passed, N failed"; with
 * `--list` it prints the case names; with a name it runs that case alone in this process
 * (tests/c_api.rs runs each case so). Either way the signal handlers, rlimits, seccomp filters
 * and threads of one case never disturb another. A case marked PER_KIND runs once for each kind
 * of the platform (SELECT, POLL, and EPOLL on Linux, KQUEUE on macOS and the BSDs, DEVPOLL on
 * illumos and Solaris; on Linux KQUEUE too in the build with libkqueue, SEL_TEST_LIBKQUEUE); the harness checks that no fd leaked across each run. A case that needs
 * Linux (LINUX_ONLY_CASE) is still listed where it is turned off, and reports itself skipped.
 *
 * A failed CHECK prints where and why and exits the process with status 1.
 */
#ifndef SELECTORS_TEST_HARNESS_H
#define SELECTORS_TEST_HARNESS_H

#include <stddef.h>

#include "platform.h"
#include "selectors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a case runs: once (with SEL_KIND_DEFAULT), or once for each kind of the platform. */
enum test_scope { ONCE, PER_KIND };

/**
 * One test case: its name, its body (given the kind under test; NULL: turned off in this build,
 * reported as skipped) and its scope.
 */
struct test_case {
    const char *name;
    void (*run)(int kind);
    enum test_scope scope;
};

/**
 * The table entry of a case that needs Linux (seccomp, eventfd, /proc, epoll alone): the case
 * where SELECTORS_TEST_LINUX is 1, elsewhere a skipped entry of the same name. Its body is
 * defined under `#if SELECTORS_TEST_LINUX` only.
 */
#if SELECTORS_TEST_LINUX
#define LINUX_ONLY_CASE(function, scope) {#function, function, scope}
#else
#define LINUX_ONLY_CASE(function, scope) {#function, NULL, scope}
#endif

/** Runs the cases named by argv (see above); returns the process's exit status. */
int run_tests(int argc, char **argv, const struct test_case *cases, size_t count);

/** Reports a failed check and exits with status 1. */
void test_fail(const char *file, int line, const char *what, long long left, long long right);

/** The name of the kind under test, for messages. */
const char *kind_label(int kind);

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond))                                                      \
            test_fail(__FILE__, __LINE__, #cond, 0, 0);                   \
    } while (0)

#define CHECK_EQ(actual, expected)                                        \
    do {                                                                  \
        long long actual_value_ = (long long)(actual);                    \
        long long expected_value_ = (long long)(expected);                \
        if (actual_value_ != expected_value_)                             \
            test_fail(__FILE__, __LINE__, #actual " == " #expected,       \
                      actual_value_, expected_value_);                    \
    } while (0)

/** Whether `kind` runs on libkqueue, a user-space kqueue for Linux (the build with the
 * `libkqueue` feature defines SEL_TEST_LIBKQUEUE): where libkqueue differs from the BSD
 * kernels, a test asserts what libkqueue does and says what the BSDs do beside it. */
#ifdef SEL_TEST_LIBKQUEUE
#define ON_LIBKQUEUE(kind) ((kind) == SEL_KIND_KQUEUE)
#else
#define ON_LIBKQUEUE(kind) ((void)(kind), 0)
#endif

/** The number of entries in a test table. */
#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

#ifdef __cplusplus
}
#endif

#endif
