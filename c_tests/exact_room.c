/*
 * A buffer with room for exactly the registrations gets every ready fd, whatever else the kernel
 * has queued ahead of them: the wakeup fd, a report of a closed file's stale registration, or
 * the second direction of an fd ready both ways (two kqueue filters); and each entry carries
 * every direction ready. EPOLL and KQUEUE wait
 * without the lock and take no more reports than the buffer holds, so such a report takes a
 * place a ready fd needed; the wait then tops the buffer up from the kernel's queue.
 */
#include "platform.h"

#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* The wakeup fd's report, queued before the fds became ready (epoll queues in that order). */
static void the_wakeup_takes_no_ready_fds_place(int kind) {
    static int first_data, second_data;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    int first[2], second[2];
    make_socketpair(first);
    make_socketpair(second);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_register(sel, first[0], SEL_EVENT_WRITE, &first_data, NULL), 0);
    CHECK_EQ(sel_register(sel, second[0], SEL_EVENT_WRITE, &second_data, NULL), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 2);
    CHECK(find_event(events, 2, first[0]) != NULL);
    CHECK(find_event(events, 2, second[0]) != NULL);
    CHECK(find_event(events, 2, first[0])->key.data == &first_data);
    CHECK_EQ(find_event(events, 2, second[0])->mask, SEL_EVENT_WRITE);
    /* The fds stay writable, and the wakeup was used up: the next wait returns them again. */
    CHECK_EQ(sel_select(sel, 0, events, 2), 2);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(first);
    close_pair(second);
}

/* The one registration's number held a file that was closed while a dup keeps it open, so
 * epoll still watches it (man 7 epoll, Q6); it becomes readable before the new file does.
 * (CPython's test_selectors test_no_stale_events_from_a_duplicated_closed_fd, with a buffer of
 * one.) A BSD kqueue deleted the number's filters at close(); libkqueue does not see the close
 * and may lose the new registration (stale.c, old_files_events_never_reach_the_new_key), so
 * there the case asserts only that the stale file never reaches the new key. */
static void a_stale_report_takes_no_ready_fds_place(int kind) {
    static int new_data;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[1];
    int old_pair[2], new_pair[2];
    int number, keeper, count;
    make_socketpair(old_pair);
    make_socketpair(new_pair);
    number = old_pair[0];
    keeper = reuse_number_behind_the_selector(sel, number, NULL, new_pair[0], &new_data);
    write_byte(old_pair[1]);
    write_byte(new_pair[1]);
    count = sel_select(sel, 0, events, 1);
    check_reused_number_reported(kind, count, events, number, &new_data,
                                 "a_stale_report_takes_no_ready_fds_place");
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(number), 0);
    CHECK_EQ(close(keeper), 0);
    CHECK_EQ(close(old_pair[1]), 0);
    close_pair(new_pair);
}

/* Two fds ready both ways and one ready to write, three places: kqueue reports each direction
 * by a filter of its own, and the first three filters are those of two fds. */
static void a_second_direction_takes_no_other_fds_place(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[3];
    int both_ways[2], other_both_ways[2], writable[2];
    const sel_event *found;
    int round;
    make_socketpair(both_ways);
    make_socketpair(other_both_ways);
    make_socketpair(writable);
    write_byte(both_ways[1]);
    write_byte(other_both_ways[1]);
    CHECK_EQ(sel_register(sel, both_ways[0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_register(sel, other_both_ways[0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL),
             0);
    CHECK_EQ(sel_register(sel, writable[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    /* Every wait, whichever filters the kernel hands back first. */
    for (round = 0; round < 3; round++) {
        CHECK_EQ(sel_select(sel, 1.0, events, 3), 3);
        found = find_event(events, 3, both_ways[0]);
        CHECK(found != NULL);
        CHECK_EQ(found->mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
        found = find_event(events, 3, other_both_ways[0]);
        CHECK(found != NULL);
        CHECK_EQ(found->mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
        found = find_event(events, 3, writable[0]);
        CHECK(found != NULL);
        CHECK_EQ(found->mask, SEL_EVENT_WRITE);
    }
    CHECK_EQ(sel_close(sel), 0);
    close_pair(both_ways);
    close_pair(other_both_ways);
    close_pair(writable);
}

/* One fd ready both ways, room for two entries, the wakeup fd's report queued first: on KQUEUE
 * the wait may take the wakeup and one filter, and the entry still carries both directions (the
 * differential fuzzer's case: fd ready READ|WRITE, reported READ). */
static void the_wakeup_takes_no_directions_place(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    int pair[2];
    make_socketpair(pair);
    write_byte(pair[1]);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"the_wakeup_takes_no_ready_fds_place", the_wakeup_takes_no_ready_fds_place, PER_KIND},
    {"a_stale_report_takes_no_ready_fds_place", a_stale_report_takes_no_ready_fds_place,
     PER_KIND},
    {"a_second_direction_takes_no_other_fds_place", a_second_direction_takes_no_other_fds_place,
     PER_KIND},
    {"the_wakeup_takes_no_directions_place", the_wakeup_takes_no_directions_place, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
