/*
 * The public header as C99 and as C++11 (build.rs compiles this file both ways): the contract's
 * constants and struct layouts, and a first register/select/unregister round trip.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "selectors.h"

static void constants_have_the_contract_values(int kind) {
    (void)kind;
    CHECK_EQ(SEL_EVENT_READ, 1);
    CHECK_EQ(SEL_EVENT_WRITE, 2);
    CHECK_EQ(SEL_KIND_DEFAULT, 0);
    CHECK_EQ(SEL_KIND_SELECT, 1);
    CHECK_EQ(SEL_KIND_POLL, 2);
    CHECK_EQ(SEL_KIND_EPOLL, 3);
    CHECK_EQ(SEL_KIND_KQUEUE, 4);
    CHECK_EQ(SEL_KIND_DEVPOLL, 5);
    CHECK_EQ(SEL_FLAG_EINTR, 1);
}

static void structs_have_the_contract_layout(int kind) {
    (void)kind;
    CHECK_EQ(offsetof(sel_key, fd), 0);
    CHECK_EQ(offsetof(sel_key, events), sizeof(int));
    CHECK_EQ(offsetof(sel_key, data), 8);
    CHECK_EQ(sizeof(sel_key), sizeof(void *) == 8 ? 16 : 12);
    CHECK_EQ(offsetof(sel_event, key), 0);
    CHECK_EQ(offsetof(sel_event, mask), sizeof(sel_key));
}

static void kind_names_are_cpythons(int kind) {
    (void)kind;
    CHECK(strcmp(sel_kind_name(SEL_KIND_SELECT), "SelectSelector") == 0);
    CHECK(strcmp(sel_kind_name(SEL_KIND_POLL), "PollSelector") == 0);
    CHECK(strcmp(sel_kind_name(SEL_KIND_EPOLL), "EpollSelector") == 0);
    CHECK(strcmp(sel_kind_name(SEL_KIND_KQUEUE), "KqueueSelector") == 0);
    CHECK(strcmp(sel_kind_name(SEL_KIND_DEVPOLL), "DevpollSelector") == 0);
    CHECK(strcmp(sel_kind_name(SEL_KIND_DEFAULT), "EpollSelector") == 0);
    CHECK(sel_kind_name(-1) == NULL);
    CHECK(sel_kind_name(6) == NULL);
}

/* The run-time version is the header's; every return code has a static description. */
static void version_and_error_texts(int kind) {
    (void)kind;
    CHECK_EQ(sel_version(),
             (SEL_VERSION_MAJOR << 16) | (SEL_VERSION_MINOR << 8) | SEL_VERSION_PATCH);
    CHECK(strcmp(sel_strerror(0), "success") == 0);
    CHECK(strcmp(sel_strerror(3), "success") == 0);
    CHECK(strstr(sel_strerror(-EEXIST), "already registered") != NULL);
    CHECK(strstr(sel_strerror(-ENOENT), "not registered") != NULL);
    CHECK(strstr(sel_strerror(-EBADF), "bad file descriptor") != NULL);
    CHECK(strstr(sel_strerror(-ENOSYS), "not available") != NULL);
    CHECK(sel_strerror(INT_MIN) != NULL);
    CHECK(sel_strerror(-100000) != NULL);
}

static void round_trip(int kind) {
    static int marker;
    sel_selector *sel = open_selector(kind, 0);
    sel_key key;
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, &marker, &key), 0);
    CHECK_EQ(key.fd, pair[0]);
    CHECK_EQ(key.events, SEL_EVENT_READ);
    CHECK(key.data == &marker);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK(events[0].key.data == &marker);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    CHECK_EQ(sel_unregister(sel, pair[0], &key), 0);
    CHECK(key.data == &marker);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"constants_have_the_contract_values", constants_have_the_contract_values, ONCE},
    {"structs_have_the_contract_layout", structs_have_the_contract_layout, ONCE},
    {"kind_names_are_cpythons", kind_names_are_cpythons, ONCE},
    {"version_and_error_texts", version_and_error_texts, ONCE},
    {"round_trip", round_trip, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
