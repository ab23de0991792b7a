/*
 * What sel_select reports: one entry per ready fd with its key and mask = ready & interest,
 * hang-ups mapped as CPython maps them, level-triggered repeats, fair turns for a small result
 * buffer, and fds closed behind the selector's back on each kind.
 */
#include "platform.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

#define PAIRS 8

/* Readable and writable at once: one entry, both bits, the registered data. */
static void read_and_write_share_one_entry(int kind) {
    static int data;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE, &data, NULL), 0);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK_EQ(events[0].key.events, SEL_EVENT_READ | SEL_EVENT_WRITE);
    CHECK(events[0].key.data == &data);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* The mask never has a bit the registration did not ask for. */
static void mask_is_limited_to_interest(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    write_byte(pair[1]);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 1);
    CHECK_EQ(events[0].mask, SEL_EVENT_WRITE);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 1);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    drain_fd(pair[0]);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Level-triggered: unread data is reported again by every call until it is read. */
static void unread_data_is_reported_again(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    int round;
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    for (round = 0; round < 3; round++)
        CHECK_EQ(sel_select(sel, 0, events, 4), 1);
    drain_fd(pair[0]);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A peer that hangs up makes the fd readable (EOF) and, like CPython's mapping of POLLHUP,
 * writable too when write interest is registered. */
static void hang_up_reports_read_and_write(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    fill_socket(pair[0]);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    CHECK_EQ(close(pair[1]), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 1);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 1);
    CHECK_EQ(events[0].mask, SEL_EVENT_WRITE);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(pair[0]), 0);
}

/* Registers the first end of PAIRS socket pairs for WRITE (all writable at once). */
static sel_selector *writable_pairs(int kind, int pairs[PAIRS][2]) {
    sel_selector *sel = open_selector(kind, 0);
    int i;
    for (i = 0; i < PAIRS; i++) {
        make_socketpair(pairs[i]);
        CHECK_EQ(sel_register(sel, pairs[i][0], SEL_EVENT_WRITE, NULL, NULL), 0);
    }
    return sel;
}

static void close_pairs(sel_selector *sel, int pairs[PAIRS][2]) {
    int i;
    CHECK_EQ(sel_close(sel), 0);
    for (i = 0; i < PAIRS; i++)
        close_pair(pairs[i]);
}

/* With room for all, one call reports every ready fd, each once. */
static void one_call_reports_all_ready(int kind) {
    int pairs[PAIRS][2];
    sel_event events[PAIRS + 4];
    sel_selector *sel = writable_pairs(kind, pairs);
    int i;
    CHECK_EQ(sel_select(sel, 0, events, PAIRS), PAIRS);
    CHECK_EQ(sel_select(sel, 0, events, PAIRS + 4), PAIRS);
    for (i = 0; i < PAIRS; i++) {
        const sel_event *found = find_event(events, PAIRS, pairs[i][0]);
        CHECK(found != NULL);
        CHECK(find_event(found + 1, (int)(events + PAIRS - found - 1), pairs[i][0]) == NULL);
    }
    close_pairs(sel, pairs);
}

/* With a result buffer smaller than the ready set, successive calls give every fd its turn
 * (gramine #340): with room for one, PAIRS calls see PAIRS different fds; with room for three,
 * three calls cover them all. */
static void small_buffers_do_not_starve(int kind) {
    int pairs[PAIRS][2];
    sel_event events[3];
    sel_selector *sel = writable_pairs(kind, pairs);
    int seen[PAIRS] = {0};
    int call, i, distinct = 0;
    for (call = 0; call < PAIRS; call++) {
        CHECK_EQ(sel_select(sel, 0, events, 1), 1);
        for (i = 0; i < PAIRS; i++)
            if (events[0].key.fd == pairs[i][0] && !seen[i]++)
                distinct++;
    }
    CHECK_EQ(distinct, PAIRS);
    memset(seen, 0, sizeof seen);
    distinct = 0;
    for (call = 0; call < 3; call++) {
        int count = sel_select(sel, 0, events, 3);
        int j;
        CHECK(count >= 2 && count <= 3);
        for (j = 0; j < count; j++)
            for (i = 0; i < PAIRS; i++)
                if (events[j].key.fd == pairs[i][0] && !seen[i]++)
                    distinct++;
    }
    CHECK_EQ(distinct, PAIRS);
    close_pairs(sel, pairs);
}

/* A registered fd closed behind the selector's back: SELECT fails with EBADF (as select(2) and
 * CPython do), POLL reports it ready (POLLNVAL), EPOLL reports nothing (the kernel dropped it)
 * and keeps the key until sel_unregister, which succeeds on every kind. */
static void closed_behind_the_back(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(close(pair[0]), 0);
    switch (kind) {
    case SEL_KIND_SELECT:
        CHECK_EQ(sel_select(sel, 0, events, 4), -EBADF);
        break;
    case SEL_KIND_POLL:
        CHECK_EQ(sel_select(sel, 0, events, 4), 1);
        CHECK_EQ(events[0].key.fd, pair[0]);
        CHECK_EQ(events[0].mask, SEL_EVENT_READ);
        break;
    default:
        CHECK_EQ(sel_select(sel, 0, events, 4), 0);
        CHECK_EQ(sel_get_key(sel, pair[0], NULL), 0);
        break;
    }
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(pair[1]), 0);
}

/* A data-only modify changes what the next entries carry. */
static void modified_data_is_reported(int kind) {
    static int before, after;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE, &before, NULL), 0);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE, &after, &key), 0);
    CHECK(key.data == &after);
    CHECK_EQ(sel_select(sel, 0, events, 2), 1);
    CHECK(events[0].key.data == &after);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"read_and_write_share_one_entry", read_and_write_share_one_entry, PER_KIND},
    {"mask_is_limited_to_interest", mask_is_limited_to_interest, PER_KIND},
    {"unread_data_is_reported_again", unread_data_is_reported_again, PER_KIND},
    {"hang_up_reports_read_and_write", hang_up_reports_read_and_write, PER_KIND},
    {"one_call_reports_all_ready", one_call_reports_all_ready, PER_KIND},
    {"small_buffers_do_not_starve", small_buffers_do_not_starve, PER_KIND},
    {"closed_behind_the_back", closed_behind_the_back, PER_KIND},
    {"modified_data_is_reported", modified_data_is_reported, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
