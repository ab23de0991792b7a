/*
 * Fixtures shared by the C tests: selectors, socket pairs, clocks, one-byte I/O. Each helper
 * CHECKs its own system calls, so a test reads as the behaviour it asserts.
 */
#ifndef SELECTORS_TEST_FIXTURES_H
#define SELECTORS_TEST_FIXTURES_H

#include "selectors.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/** Sleeps `seconds` (resuming after signals), for delays that are the subject of a test. */
void sleep_seconds(double seconds);

/**
 * Installs `handler` for `signo` without SA_RESTART, so a signal that interrupts a blocking call
 * makes it fail with EINTR instead of being restarted by the kernel: the case the library's
 * retry (PEP 475) and SEL_FLAG_EINTR are about.
 */
void catch_signal(int signo, void (*handler)(int));

/** Arms a one-shot ITIMER_REAL: SIGALRM arrives once, `seconds` from now. */
void start_alarm(double seconds);

/**
 * Calls sel_select(sel, timeout, events, max_events) while a helper thread, `delay` seconds
 * after the call starts, either calls sel_wakeup(sel) (signo == 0) or sends `signo` to the
 * calling thread with pthread_kill (its handler is then expected to call sel_wakeup). The
 * helper fails the test if the call has not returned 10 s after the wake, so a lost wakeup
 * fails quickly instead of hanging. Stores the call's duration in *elapsed and returns what
 * sel_select returned.
 */
int select_woken_after(sel_selector *sel, double timeout, sel_event *events, size_t max_events,
                       double delay, int signo, double *elapsed);

/** The fds this process has open, ascending, in fds[0..return) (at most `cap`; Linux /proc). */
size_t list_open_fds(int *fds, size_t cap);

/**
 * A new selector of `kind` with `flags`, and the fds sel_new opened for it, ascending, in
 * fds[0..*count) (at most `cap`): the library's own kernel objects (epoll set, wakeup channel).
 */
sel_selector *open_selector_noting_fds(int kind, unsigned flags, int *fds, size_t cap,
                                       size_t *count);

#ifdef __cplusplus
}
#endif

#endif
