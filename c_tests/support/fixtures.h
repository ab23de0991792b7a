/*
 * Fixtures shared by the C tests: selectors, socket pairs, clocks, one-byte I/O. Each helper
 * CHECKs its own system calls, so a test reads as the behaviour it asserts.
 */
#ifndef SELECTORS_TEST_FIXTURES_H
#define SELECTORS_TEST_FIXTURES_H

#include <sys/types.h>

#include "selectors.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A new selector of `kind` with `flags`; the test fails if it cannot be made. */
sel_selector *open_selector(int kind, unsigned flags);

/** A connected, non-blocking, close-on-exec AF_UNIX stream socket pair. */
void make_socketpair(int fds[2]);

/** A non-blocking, close-on-exec pipe; returns 0, or -1 with errno as pipe(2) sets it. */
int open_pipe(int ends[2]);

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

/** Registers `number` for READ with `old_data`, then, behind the selector's back, keeps its
 * file open in a dup (returned), closes the number and unregisters it, puts `new_fd`'s file at
 * the same number and registers that for READ with `new_data`. Epoll may still hold the old
 * file's registration under that number, and reports of it are stale. */
int reuse_number_behind_the_selector(sel_selector *sel, int number, void *old_data, int new_fd,
                                     void *new_data);

/** Checks that a select which returned `count` entries reported `number` alone, readable, with
 * `data` (the new registration of a reused number). libkqueue may have lost that registration
 * (its BUGS.md: an fd closed behind its back is not cleaned up): on KQUEUE a count of 0 prints a
 * note naming `test` instead. Returns whether the number was reported. */
int check_reused_number_reported(int kind, int count, const sel_event *events, int number,
                                 const void *data, const char *test);

/** Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long raise_fd_limit(void);

/**
 * The most a call that should return at once, or just after its timeout, may take beyond that.
 * Generous (a noisy 2-core machine, valgrind): it only tells "returned" from "kept waiting";
 * lower bounds are what the contract promises.
 */
#define SLACK_SECONDS 2.0

/**
 * Checks that sel_select(sel, timeout) with nothing ready returns 0 entries after its whole
 * timeout, never a moment early: the wait really blocked, no wakeup was pending.
 */
void check_select_waits(sel_selector *sel, double timeout);

/**
 * Checks that a 10 s sel_select with nothing ready returns 0 entries within SLACK_SECONDS:
 * a wakeup was pending.
 */
void check_select_woken_at_once(sel_selector *sel);

/**
 * Installs `handler` for `signo` without SA_RESTART, so a signal that interrupts a blocking call
 * makes it fail with EINTR instead of being restarted by the kernel: the case the library's
 * retry (PEP 475) and SEL_FLAG_EINTR are about.
 */
void catch_signal(int signo, void (*handler)(int));

/**
 * Catches `signo` (as catch_signal does) with a handler that counts its calls and, unless `wake`
 * is NULL, calls sel_wakeup(wake), which the contract makes async-signal-safe. Resets the count.
 * One such handler at a time; install it again with NULL before closing `wake`.
 */
void catch_signal_counting(int signo, sel_selector *wake);

/** How many times the handler of catch_signal_counting ran since it was installed. */
int signals_caught(void);

/**
 * Calls sel_select(sel, timeout, events, max_events) while a helper thread waits until the call
 * sleeps in the kernel (blocked_in_readiness_wait), then `delay` seconds more, and then calls sel_wakeup(sel) (signo == 0) or sends `signo` to the
 * calling thread with pthread_kill (a handler may call sel_wakeup). So a signal always
 * interrupts a wait in progress, never arrives just before it. If the call returns on its own
 * first, the helper does nothing; if it has not returned 10 s after the wake, the test fails
 * (a lost wakeup fails quickly instead of hanging). Stores the call's duration in *elapsed and
 * returns what sel_select returned.
 */
int select_woken_after(sel_selector *sel, double timeout, sel_event *events, size_t max_events,
                       double delay, int signo, double *elapsed);

/** The calling thread, as blocked_in_readiness_wait names it (0 where it needs no name). */
long current_thread_id(void);

/**
 * How long a thread that has begun to call sel_select is given to reach the kernel's wait where
 * nothing can tell that it did (blocked_in_readiness_wait off Linux).
 */
#define SETTLE_SECONDS 0.1

/**
 * Whether thread `tid` of this process sleeps in a readiness wait now, asked `waited` seconds
 * after the caller began to ask. Linux: /proc/self/task/<tid>/syscall shows a select, poll or
 * epoll wait. Elsewhere no portable interface tells: yes once `waited` reaches SETTLE_SECONDS,
 * which a machine that is not badly overloaded gives the thread to get there; so a signal
 * meant to interrupt the wait may, rarely, come before it.
 */
int blocked_in_readiness_wait(long tid, double waited);

/** Returns once thread `tid` sleeps in a readiness wait (see above); fails after 10 s. */
void wait_until_blocked(long tid);

/**
 * How many fds this process has open; with `fds`, also the fds, ascending, in
 * fds[0..return) (at most `cap`). Linux lists /proc/self/fd; elsewhere every number below the
 * soft RLIMIT_NOFILE is asked with fcntl.
 */
size_t list_open_fds(int *fds, size_t cap);

/** Room enough for the fds sel_new opens for one selector (one or two on Linux). */
#define MOST_OWN_FDS 8

/**
 * A new selector of `kind` with `flags`, and the fds sel_new opened for it, ascending, in
 * fds[0..*count) (at most `cap`): the library's own kernel objects (epoll set, wakeup channel).
 */
sel_selector *open_selector_noting_fds(int kind, unsigned flags, int *fds, size_t cap,
                                       size_t *count);

/**
 * Waits up to 2 s for `fd` to be closed; returns at once if it is. libkqueue closes a kqueue's
 * own fds (its epoll set, its pipe, its eventfds) from a monitoring thread shortly after the
 * kqueue fd is closed, where the BSD kernels free a kqueue in close() itself.
 */
void await_closed(int fd);

#ifdef __cplusplus
}
#endif

#endif
