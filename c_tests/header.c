/*
 * The public header as C99 and as C++11 (build.rs compiles this file both ways): the contract's
 * constants and struct layouts, and a first register/select/unregister round trip.
 */
#include "platform.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "selectors.h"

/* The layout of the two public structs, checked when this file compiles: an accidental change
 * of the ABI fails the build (a negative array size), before any test runs. */
#define ABI_ASSERT(name, condition) typedef char abi_assert_##name[(condition) ? 1 : -1]
ABI_ASSERT(key_fd_first, offsetof(sel_key, fd) == 0);
ABI_ASSERT(key_events_after_fd, offsetof(sel_key, events) == 4 && sizeof(uint32_t) == 4);
ABI_ASSERT(key_data_after_events, offsetof(sel_key, data) == 8);
ABI_ASSERT(key_size, sizeof(sel_key) == (sizeof(void *) == 8 ? 16 : 12));
ABI_ASSERT(event_key_first, offsetof(sel_event, key) == 0);
ABI_ASSERT(event_mask_after_key, offsetof(sel_event, mask) == sizeof(sel_key));
ABI_ASSERT(event_size, sizeof(sel_event) == (sizeof(void *) == 8 ? 24 : 16));
ABI_ASSERT(read_is_one, SEL_EVENT_READ == 1);
ABI_ASSERT(write_is_two, SEL_EVENT_WRITE == 2);
ABI_ASSERT(oneshot_bit, SEL_EVENT_ONESHOT == 0x100);
ABI_ASSERT(edge_bit, SEL_EVENT_EDGE == 0x200);

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
    CHECK_EQ(SEL_EVENT_ONESHOT, 0x100);
    CHECK_EQ(SEL_EVENT_EDGE, 0x200);
}

static void structs_have_the_contract_layout(int kind) {
    (void)kind;
    CHECK_EQ(offsetof(sel_key, fd), 0);
    CHECK_EQ(offsetof(sel_key, events), sizeof(int));
    CHECK_EQ(offsetof(sel_key, data), 8);
    CHECK_EQ(sizeof(sel_key), sizeof(void *) == 8 ? 16 : 12);
    CHECK_EQ(offsetof(sel_event, key), 0);
    CHECK_EQ(offsetof(sel_event, mask), sizeof(sel_key));
    CHECK_EQ(sizeof(sel_event), sizeof(void *) == 8 ? 24 : 16);
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
