/*
 * Which interfaces the C tests may use beyond POSIX. Every file of c_tests/ includes this
 * first, before any system header.
 *
 * SELECTORS_TEST_LINUX is 1 where the tests may use Linux's own interfaces (seccomp, eventfd,
 * /proc, epoll's limits, GNU extensions): on Linux, unless SELECTORS_TEST_POSIX_ONLY is defined.
 * `make c-tests-posix` defines it and builds with -D_POSIX_C_SOURCE=200809L, which checks on
 * Linux that everything else compiles with POSIX headers alone, as on macOS and the BSDs; it
 * then runs that build, where the Linux-only cases report themselves skipped (LINUX_ONLY_CASE).
 * Known gaps POSIX headers cannot show on Linux: macOS has no pipe2, accept4, SOCK_NONBLOCK
 * or SOCK_CLOEXEC, so the portable parts use pipe() and socketpair() with fcntl().
 */
#ifndef SELECTORS_TEST_PLATFORM_H
#define SELECTORS_TEST_PLATFORM_H

#if defined(__linux__) && !defined(SELECTORS_TEST_POSIX_ONLY)
#define SELECTORS_TEST_LINUX 1
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#else
#define SELECTORS_TEST_LINUX 0
#endif

#endif
