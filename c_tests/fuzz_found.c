/*
 * What the differential fuzzer (fuzz/) found, as plain C cases that hold the contract's line.
 * Each failed on the library as it was when found; the README's "Reliability" section says
 * which are fixed.
 */
#include "platform.h"

#include <sys/socket.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* Contract: hang-ups map as CPython maps them. A socket whose peer shut down both ways while its
 * own data still fills the peer's buffer has POLLHUP without POLLOUT. CPython's PollSelector and
 * EpollSelector map POLLHUP to readable and writable, and so do POLL and EPOLL; its
 * SelectSelector sees only what select(2) says, and select(2) counts a hang-up as readable but
 * not as writable, so CPython reports EVENT_READ alone there (checked against CPython 3.11),
 * and so does SELECT. (readiness.c's hang_up_reports_read_and_write closes the peer instead,
 * which frees the buffer and makes the socket writable as well, so the kinds agree there.) */
static void hang_up_without_room_to_write_maps_like_cpython(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    int pair[2];
    make_socketpair(pair);
    fill_socket(pair[0]);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(shutdown(pair[1], SHUT_RDWR), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(events[0].mask,
             kind == SEL_KIND_SELECT ? SEL_EVENT_READ : SEL_EVENT_READ | SEL_EVENT_WRITE);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Contract: an entry's mask is all of ready & interest, with a buffer smaller than the ready
 * set too. KQUEUE watches an fd as two filters, and a buffer smaller than the registrations
 * takes exactly its size from the kernel: with room for one entry it took one filter's report,
 * so a socket both readable and writable came back READ alone, call after call, its WRITE
 * never shown (found with libkqueue; a BSD kernel hands back one filter just the same). Three
 * sockets registered READ|WRITE, one readable too: one entry per call, each fd within two
 * rounds, every entry with its whole readiness. */
static void small_buffer_entries_carry_their_whole_readiness(int kind) {
    enum { SOCKETS = 3 };
    sel_selector *sel = open_selector(kind, 0);
    int pairs[SOCKETS][2], i, call, readable_seen = 0;
    for (i = 0; i < SOCKETS; i++) {
        make_socketpair(pairs[i]);
        CHECK_EQ(sel_register(sel, pairs[i][0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL), 0);
    }
    write_byte(pairs[0][1]);
    for (call = 0; call < 2 * SOCKETS; call++) {
        sel_event event;
        CHECK_EQ(sel_select(sel, 0, &event, 1), 1);
        if (event.key.fd == pairs[0][0]) {
            CHECK_EQ(event.mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
            readable_seen = 1;
        } else {
            CHECK_EQ(event.mask, SEL_EVENT_WRITE);
        }
    }
    CHECK(readable_seen);
    CHECK_EQ(sel_close(sel), 0);
    for (i = 0; i < SOCKETS; i++)
        close_pair(pairs[i]);
}

#if SELECTORS_TEST_LINUX
/* Contract: one entry per fd per call. epoll keys its entries on (file, number). A file closed
 * at its registered number while a dup keeps it open leaves an entry that EPOLL_CTL_DEL cannot
 * name any more; a new file is registered at the number; then the old file comes back at the
 * number (dup2) while the new one lives on elsewhere. A change of events (EPOLL_CTL_MOD) now
 * finds the old entry and gives it the current registration's tag, which the new file's entry
 * also carries: both are reported for the one fd, and with room for two entries the other
 * ready fd is not reported at all. */
static void one_entry_per_fd_after_a_stale_entry_is_revived(int kind) {
    sel_selector *sel = open_selector(SEL_KIND_EPOLL, 0);
    sel_event events[8];
    int old_file[2], new_file[2], other[2], number, old_kept;
    (void)kind;
    make_socketpair(old_file);
    make_socketpair(new_file);
    make_socketpair(other);
    number = old_file[0];
    old_kept = reuse_number_behind_the_selector(sel, number, NULL, new_file[0], NULL);
    CHECK_EQ(dup2(old_kept, number), number); /* the new file lives on at new_file[0] */
    CHECK_EQ(sel_modify(sel, number, SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(close(new_file[1]), 0); /* the new file hangs up: its entry is ready */
    CHECK_EQ(sel_register(sel, other[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 8), 2);
    CHECK(events[0].key.fd != events[1].key.fd);
    CHECK(find_event(events, 2, other[0]) != NULL);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(number), 0);
    CHECK_EQ(close(old_kept), 0);
    CHECK_EQ(close(old_file[1]), 0);
    CHECK_EQ(close(new_file[0]), 0);
    close_pair(other);
}
#endif

static const struct test_case cases[] = {
    {"hang_up_without_room_to_write_maps_like_cpython",
     hang_up_without_room_to_write_maps_like_cpython, PER_KIND},
    LINUX_ONLY_CASE(one_entry_per_fd_after_a_stale_entry_is_revived, ONCE),
    {"small_buffer_entries_carry_their_whole_readiness",
     small_buffer_entries_carry_their_whole_readiness, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
