/*
 * sel_strerror for every value a sel_* call can return: the library's own short texts where it
 * knows the cause, the system's description for every other errno value this platform
 * defines, a generic text for values that are no errno; static, and the same from any thread.
 */
#define _POSIX_C_SOURCE 200809L /* the XSI strerror_r, which tells unknown values apart */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "harness.h"

/* Linux keeps errno values below 4096 (MAX_ERRNO); the walk covers all of them. */
#define ERRNO_LIMIT 4096

/* The errors the library describes in its own words. */
static const int own_errors[] = {EINVAL, EBADF, EEXIST, ENOENT, EPERM, ENOSYS, EINTR,
                                 EOPNOTSUPP, ENOSPC, ELOOP, EBUSY, ENOTRECOVERABLE};

static int has_own_text(int errnum) {
    size_t i;
    for (i = 0; i < COUNT_OF(own_errors); i++)
        if (own_errors[i] == errnum)
            return 1;
    return 0;
}

/* The system's text for errnum in buffer; 0 when the C library does not know the value. */
static int system_text(int errnum, char *buffer, size_t size) {
    return strerror_r(errnum, buffer, size) == 0;
}

/* Walks 1..ERRNO_LIMIT-1: every value the system describes gets a text that is never the
 * catch-all; where the library has none of its own it is exactly the system's. */
static void every_errno_the_system_defines_is_described(int kind) {
    char expected[256];
    int errnum, defined = 0, highest = 0;
    (void)kind;
    for (errnum = 1; errnum < ERRNO_LIMIT; errnum++) {
        const char *text = sel_strerror(-errnum);
        CHECK(text != NULL);
        if (!system_text(errnum, expected, sizeof expected))
            continue;
        defined++;
        highest = errnum;
        CHECK(strstr(text, "unexpected") == NULL);
        CHECK(strcmp(text, "not an error code of this system") != 0);
        if (!has_own_text(errnum) && strcmp(text, expected) != 0)
            test_fail(__FILE__, __LINE__, "sel_strerror(-errnum) is the system's text", errnum,
                      0);
    }
    /* glibc describes 1..133 (EHWPOISON); a walk that found few would prove nothing. */
    CHECK(defined >= 100);
#ifdef EHWPOISON
    CHECK(highest >= EHWPOISON);
#else
    (void)highest;
#endif
}

/* The library's own texts: short, specific, and not the system's wording. */
static void own_texts_are_short_and_specific(int kind) {
    char system[256];
    size_t i;
    (void)kind;
    for (i = 0; i < COUNT_OF(own_errors); i++) {
        const char *text = sel_strerror(-own_errors[i]);
        CHECK(strlen(text) <= 72);
        CHECK(system_text(own_errors[i], system, sizeof system));
        CHECK(strcmp(text, system) != 0);
    }
    CHECK(strstr(sel_strerror(-EEXIST), "already registered") != NULL);
    CHECK(strstr(sel_strerror(-EBUSY), "another thread") != NULL);
    CHECK(strstr(sel_strerror(-ELOOP), "epoll") != NULL);
}

/* Success, and values no errno has, get texts too; never NULL. */
static void other_values_get_a_generic_text(int kind) {
    char unused[256];
    (void)kind;
    CHECK(strcmp(sel_strerror(0), "success") == 0);
    CHECK(strcmp(sel_strerror(INT_MAX), "success") == 0);
    CHECK(!system_text(ERRNO_LIMIT, unused, sizeof unused));
    CHECK(strcmp(sel_strerror(-ERRNO_LIMIT), "not an error code of this system") == 0);
    CHECK(strcmp(sel_strerror(INT_MIN), "not an error code of this system") == 0);
    CHECK(strcmp(sel_strerror(-INT_MAX), "not an error code of this system") == 0);
}

/* Each thread walks every value and records the pointers it got. */
struct walk {
    const char *texts[ERRNO_LIMIT];
};

static void *walk_all(void *arg) {
    struct walk *walk = arg;
    int errnum;
    for (errnum = 1; errnum < ERRNO_LIMIT; errnum++)
        walk->texts[errnum] = sel_strerror(-errnum);
    return NULL;
}

/* Threads asking at once, the first call included (the system's texts are read on first
 * use), all get the same static strings, which stay valid and unchanged afterwards. */
static void texts_are_static_and_the_same_in_every_thread(int kind) {
    static struct walk walks[4];
    pthread_t threads[4];
    char expected[256];
    int errnum;
    size_t i;
    (void)kind;
    for (i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&threads[i], NULL, walk_all, &walks[i]), 0);
    for (i = 0; i < 4; i++)
        CHECK_EQ(pthread_join(threads[i], NULL), 0);
    for (errnum = 1; errnum < ERRNO_LIMIT; errnum++) {
        for (i = 1; i < 4; i++)
            CHECK(walks[i].texts[errnum] == walks[0].texts[errnum]);
        CHECK(sel_strerror(-errnum) == walks[0].texts[errnum]);
        if (system_text(errnum, expected, sizeof expected) && !has_own_text(errnum))
            CHECK(strcmp(walks[0].texts[errnum], expected) == 0);
    }
}

int main(int argc, char **argv) {
    static const struct test_case cases[] = {
        {"every_errno_the_system_defines_is_described",
         every_errno_the_system_defines_is_described, ONCE},
        {"own_texts_are_short_and_specific", own_texts_are_short_and_specific, ONCE},
        {"other_values_get_a_generic_text", other_values_get_a_generic_text, ONCE},
        {"texts_are_static_and_the_same_in_every_thread",
         texts_are_static_and_the_same_in_every_thread, ONCE},
    };
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
