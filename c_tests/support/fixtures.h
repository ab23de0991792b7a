/*
 * Fixtures shared by the C tests: selectors, socket pairs, clocks, one-byte I/O. Each helper
 * CHECKs its own system calls, so a test reads as the behaviour it asserts.
 */
#ifndef SELECTORS_TEST_FIXTURES_H
#define SELECTORS_TEST_FIXTURES_H

#include "selectors.h"

/** A new selector of `kind` with `flags`; the test fails if it cannot be made. */
sel_selector *open_selector(int kind, unsigned flags);

/** A connected, non-blocking, close-on-exec AF_UNIX stream socket pair. */
void make_socketpair(int fds[2]);

/** Closes both ends of a socket pair or pipe. */
void close_pair(const int fds[2]);

/** Seconds on the monotonic clock. */
double now_seconds(void);

/** Writes one byte to `fd`. */
void write_byte(int fd);

/** Reads everything `fd` has buffered (non-blocking). */
void drain_fd(int fd);

/** Fills `fd`'s socket buffer until a write would block. */
void fill_socket(int fd);

/** The entry for `fd` among the first `count` of `events`, or NULL. */
const sel_event *find_event(const sel_event *events, int count, int fd);

/** Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long raise_fd_limit(void);

#endif
