/*
 * sel_wakeup: from another thread or a signal handler it ends a blocked sel_select with 0
 * entries (or the next one, when none is blocked); wakeups coalesce; the library's wakeup
 * channel never shows in results or in the map; and the call is safe to hammer from many
 * threads and keeps the caller's errno.
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "selectors.h"

/* Contract: sel_wakeup from another thread ends a sel_select(-1) blocked on an idle fd, with 0
 * entries. */
static void wakeup_from_another_thread_ends_a_blocked_wait(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    double elapsed;
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(select_woken_after(sel, -1.0, events, 4, 0.05, 0, &elapsed), 0);
    CHECK(elapsed >= 0.04);
    CHECK(elapsed < SLACK_SECONDS);
    check_select_waits(sel, 0.05);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Contract: sel_wakeup is async-signal-safe: called from a handler of a signal sent to the
 * selecting thread, it ends a blocked sel_select(-1) with 0 entries (without SEL_FLAG_EINTR the
 * interrupted wait is retried and finds the wakeup). */
static void wakeup_from_a_signal_handler_ends_a_blocked_wait(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    double elapsed;
    catch_signal_counting(SIGUSR1, sel);
    CHECK_EQ(select_woken_after(sel, -1.0, events, 4, 0.05, SIGUSR1, &elapsed), 0);
    CHECK_EQ(signals_caught(), 1);
    CHECK(elapsed >= 0.04);
    CHECK(elapsed < SLACK_SECONDS);
    check_select_waits(sel, 0.05);
    catch_signal_counting(SIGUSR1, NULL);
    CHECK_EQ(sel_close(sel), 0);
}

/* Contract: wakeups coalesce: three wakeups end one wait, and the wait after it blocks again
 * for its whole timeout. */
static void wakeups_coalesce(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    check_select_waits(sel, 0.05);
    CHECK_EQ(sel_close(sel), 0);
}

/* Contract: a wakeup given while no sel_select is blocked makes the next one return promptly,
 * and only that one. */
static void wakeup_before_select_ends_the_next_one(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    CHECK_EQ(sel_wakeup(sel), 0);
    check_select_woken_at_once(sel);
    check_select_waits(sel, 0.05);
    CHECK_EQ(sel_close(sel), 0);
}

/* Contract: "with 0 entries if nothing else is ready": when fds are ready too, a pending wakeup
 * does not hide them; the call reports every one of them. */
static void wakeup_does_not_hide_ready_fds(int kind) {
    enum { READY = 3 };
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[8];
    int pairs[READY][2];
    int i, count;
    for (i = 0; i < READY; i++) {
        make_socketpair(pairs[i]);
        CHECK_EQ(sel_register(sel, pairs[i][0], SEL_EVENT_READ, NULL, NULL), 0);
        write_byte(pairs[i][1]);
    }
    CHECK_EQ(sel_wakeup(sel), 0);
    count = sel_select(sel, 0, events, 8);
    CHECK_EQ(count, READY);
    for (i = 0; i < READY; i++) {
        const sel_event *event = find_event(events, count, pairs[i][0]);
        CHECK(event != NULL);
        CHECK_EQ(event->mask, SEL_EVENT_READ);
    }
    CHECK_EQ(sel_close(sel), 0);
    for (i = 0; i < READY; i++)
        close_pair(pairs[i]);
}

/* Contract: the library's wakeup fd never appears in the map or in results: the map of a new
 * selector is empty, none of the fds sel_new opened is a key, and a woken call reports nothing,
 * with nothing registered and with an idle fd registered. */
static void wakeup_channel_never_shows(int kind) {
    int own[MOST_OWN_FDS], pair[2];
    size_t own_count, i;
    sel_selector *sel = open_selector_noting_fds(kind, 0, own, MOST_OWN_FDS, &own_count);
    sel_key keys[MOST_OWN_FDS];
    sel_event events[MOST_OWN_FDS];
    CHECK(own_count >= 1);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 0);
    CHECK_EQ(sel_get_map(sel, keys, MOST_OWN_FDS), 0);
    for (i = 0; i < own_count; i++)
        CHECK_EQ(sel_get_key(sel, own[i], NULL), -ENOENT);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, MOST_OWN_FDS), 0);
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, MOST_OWN_FDS), 0);
    CHECK_EQ(sel_get_map(sel, keys, MOST_OWN_FDS), 1);
    CHECK_EQ(keys[0].fd, pair[0]);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Contract: a NULL selector is -EINVAL. */
static void wakeup_of_null_is_einval(int kind) {
    (void)kind;
    CHECK_EQ(sel_wakeup(NULL), -EINVAL);
}

/* Makes the wakeup channel among the fds sel_new opened for `sel` full, so the library's next
 * write to it fails with EAGAIN: a pipe's write end (macOS, the BSDs) is filled; an eventfd
 * (Linux) gets the largest count it holds. An eventfd is told by what it does (the one fd that
 * is neither a pipe nor sel_fileno's kernel object and takes an 8-byte count), not by /proc, so
 * the case needs nothing Linux-only. */
static void fill_wakeup_channel(sel_selector *sel, const int *fds, size_t count) {
    static const char chunk[4096] = {0};
    const uint64_t most = UINT64_MAX - 1;
    size_t i, filled = 0;
    for (i = 0; i < count; i++) {
        struct stat status;
        CHECK_EQ(fstat(fds[i], &status), 0);
        if (S_ISFIFO(status.st_mode)) {
            if ((fcntl(fds[i], F_GETFL) & O_ACCMODE) != O_WRONLY)
                continue;
            while (write(fds[i], chunk, sizeof chunk) > 0) {
            }
            CHECK_EQ(errno, EAGAIN);
            filled++;
        } else if (fds[i] != sel_fileno(sel) && !S_ISSOCK(status.st_mode)) {
            CHECK_EQ(write(fds[i], &most, sizeof most), sizeof most);
            filled++;
        }
    }
    CHECK_EQ(filled, 1);
}

/* Contract: sel_wakeup keeps errno (it runs in signal handlers), even when its write fails
 * inside: with the channel already full the write says EAGAIN, which sel_wakeup ignores (the
 * channel is signalled), returning 0 with the caller's errno intact; the full channel then ends
 * one wait and is drained completely. */
static void wakeup_keeps_errno_even_when_the_channel_is_full(int kind) {
    int own[MOST_OWN_FDS];
    size_t own_count;
    sel_selector *sel = open_selector_noting_fds(kind, 0, own, MOST_OWN_FDS, &own_count);
    /* On libkqueue the fds sel_new opens after the wakeup channel (the first) include
     * libkqueue's own eventfds and pipe, whose write end is sel_fileno's kqueue fd: filling
     * those would break libkqueue, not test the library, so only the wakeup channel is. */
    fill_wakeup_channel(sel, own, ON_LIBKQUEUE(kind) ? 1 : own_count);
    errno = ENOTTY;
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(errno, ENOTTY);
    check_select_woken_at_once(sel);
    check_select_waits(sel, 0.05);
    CHECK_EQ(sel_close(sel), 0);
}

enum { HAMMERS = 4, WAKEUPS_PER_HAMMER = 10000 };

/* A thread that calls sel_wakeup WAKEUPS_PER_HAMMER times. */
static void *hammer_wakeup(void *sel) {
    int i;
    for (i = 0; i < WAKEUPS_PER_HAMMER; i++)
        CHECK_EQ(sel_wakeup(sel), 0);
    return NULL;
}

/* The hammers and the pipe that says they are all done. */
struct hammer_crew {
    pthread_t hammers[HAMMERS];
    int done[2];
};

/* Joins every hammer, then says so through the pipe the selecting thread watches. */
static void *announce_when_done(void *arg) {
    struct hammer_crew *crew = arg;
    int i;
    for (i = 0; i < HAMMERS; i++)
        CHECK_EQ(pthread_join(crew->hammers[i], NULL), 0);
    write_byte(crew->done[1]);
    return NULL;
}

/* Contract: sel_wakeup is thread-safe: 4 threads x 10,000 wakeups while the owner selects; every
 * wakeup succeeds, every sel_select returns >= 0, the owner sees the pipe that says the threads
 * are done (no hang), and afterwards the wakeups have coalesced into nothing left pending. */
static void many_threads_hammering_wakeup(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    struct hammer_crew crew;
    pthread_t announcer;
    sel_event events[4];
    double started = now_seconds();
    int i, finished = 0;
    CHECK_EQ(open_pipe(crew.done), 0);
    CHECK_EQ(sel_register(sel, crew.done[0], SEL_EVENT_READ, NULL, NULL), 0);
    for (i = 0; i < HAMMERS; i++)
        CHECK_EQ(pthread_create(&crew.hammers[i], NULL, hammer_wakeup, sel), 0);
    CHECK_EQ(pthread_create(&announcer, NULL, announce_when_done, &crew), 0);
    while (!finished) {
        int count = sel_select(sel, 1.0, events, 4);
        CHECK(count >= 0);
        finished = find_event(events, count, crew.done[0]) != NULL;
        CHECK(now_seconds() - started < 60.0);
    }
    CHECK_EQ(pthread_join(announcer, NULL), 0);
    CHECK_EQ(sel_unregister(sel, crew.done[0], NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0); /* consumes a wakeup still pending, if any */
    check_select_waits(sel, 0.05);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(crew.done);
}

static const struct test_case cases[] = {
    {"wakeup_from_another_thread_ends_a_blocked_wait",
     wakeup_from_another_thread_ends_a_blocked_wait, PER_KIND},
    {"wakeup_from_a_signal_handler_ends_a_blocked_wait",
     wakeup_from_a_signal_handler_ends_a_blocked_wait, PER_KIND},
    {"wakeups_coalesce", wakeups_coalesce, PER_KIND},
    {"wakeup_before_select_ends_the_next_one", wakeup_before_select_ends_the_next_one, PER_KIND},
    {"wakeup_does_not_hide_ready_fds", wakeup_does_not_hide_ready_fds, PER_KIND},
    {"wakeup_channel_never_shows", wakeup_channel_never_shows, PER_KIND},
    {"wakeup_of_null_is_einval", wakeup_of_null_is_einval, ONCE},
    {"wakeup_keeps_errno_even_when_the_channel_is_full",
     wakeup_keeps_errno_even_when_the_channel_is_full, PER_KIND},
    {"many_threads_hammering_wakeup", many_threads_hammering_wakeup, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
