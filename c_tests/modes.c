/*
 * Oneshot and edge-triggered registrations, additions to Python's API for selectors made with
 * SEL_FLAG_MODES: SEL_EVENT_ONESHOT reports once and then waits for sel_modify to re-arm it (on
 * every kind); SEL_EVENT_EDGE reports changes only (EPOLL), and the kinds without it refuse it;
 * sel_supports says which. Without the flag the bits are bad events, as the contract says.
 */
#include "platform.h"

#include <errno.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* sel_supports answers per kind, and refuses unknown kinds and bits. */
static void supports_answers_per_kind(int kind) {
    const uint32_t edge = SEL_EVENT_READ | SEL_EVENT_EDGE;
    const uint32_t oneshot = SEL_EVENT_WRITE | SEL_EVENT_ONESHOT;
    (void)kind;
    CHECK_EQ(sel_supports(SEL_KIND_EPOLL, edge), 1);
    CHECK_EQ(sel_supports(SEL_KIND_KQUEUE, edge), 1);
    CHECK_EQ(sel_supports(SEL_KIND_DEFAULT, edge), 1);
    CHECK_EQ(sel_supports(SEL_KIND_SELECT, edge), 0);
    CHECK_EQ(sel_supports(SEL_KIND_POLL, edge), 0);
    CHECK_EQ(sel_supports(SEL_KIND_DEVPOLL, edge), 0);
    CHECK_EQ(sel_supports(SEL_KIND_SELECT, oneshot), 1);
    CHECK_EQ(sel_supports(SEL_KIND_POLL, oneshot | SEL_EVENT_READ), 1);
    CHECK_EQ(sel_supports(SEL_KIND_EPOLL, SEL_EVENT_READ), 1);
    CHECK_EQ(sel_supports(SEL_KIND_EPOLL, SEL_EVENT_ONESHOT), -EINVAL);
    CHECK_EQ(sel_supports(SEL_KIND_EPOLL, 0), -EINVAL);
    CHECK_EQ(sel_supports(SEL_KIND_EPOLL, SEL_EVENT_READ | 0x400), -EINVAL);
    CHECK_EQ(sel_supports(6, SEL_EVENT_READ), -EINVAL);
}

/* A oneshot registration is reported once, stays in the map disarmed (even while still
 * readable), and sel_modify re-arms it, with the same events or others. */
static void oneshot_reports_once_until_rearmed(int kind) {
    static int data;
    const uint32_t events = SEL_EVENT_READ | SEL_EVENT_ONESHOT;
    sel_selector *sel = open_selector(kind, SEL_FLAG_MODES);
    sel_event ready[4];
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], events, &data, &key), 0);
    CHECK_EQ(key.events, events);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
    CHECK_EQ(ready[0].mask, SEL_EVENT_READ);
    CHECK_EQ(ready[0].key.events, events);
    CHECK_EQ(sel_select(sel, 0.02, ready, 4), 0);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_modify(sel, pair[0], events, &data, NULL), 0);
    CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
    CHECK_EQ(sel_select(sel, 0, ready, 4), 0);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE | SEL_EVENT_ONESHOT,
                         &data, NULL),
             0);
    CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
    CHECK_EQ(ready[0].mask, SEL_EVENT_READ | SEL_EVENT_WRITE);
    CHECK_EQ(sel_select(sel, 0, ready, 4), 0);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A disarmed oneshot registration whose peer hangs up stays quiet: no spin on HUP. */
static void disarmed_oneshot_ignores_hang_ups(int kind) {
    sel_selector *sel = open_selector(kind, SEL_FLAG_MODES);
    sel_event ready[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE | SEL_EVENT_ONESHOT, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
    CHECK_EQ(close(pair[1]), 0);
    CHECK_EQ(sel_select(sel, 0.02, ready, 4), 0);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_ONESHOT, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
    CHECK_EQ(ready[0].mask, SEL_EVENT_READ);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(pair[0]), 0);
}

/* Edge-triggered on EPOLL and KQUEUE (EV_CLEAR): unread data is reported once, new data again.
 * The other kinds refuse the mode at register and at modify, changing nothing. */
static void edge_reports_changes_only(int kind) {
    sel_selector *sel = open_selector(kind, SEL_FLAG_MODES);
    sel_event ready[4];
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    if (sel_supports(kind, SEL_EVENT_READ | SEL_EVENT_EDGE) != 1) {
        CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_EDGE, NULL, NULL),
                 -EOPNOTSUPP);
        CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
        CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
        CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_EDGE, NULL, NULL),
                 -EOPNOTSUPP);
        CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
        CHECK_EQ(key.events, SEL_EVENT_READ);
    } else {
        CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_EDGE, NULL, NULL), 0);
        write_byte(pair[1]);
        CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
        CHECK_EQ(ready[0].mask, SEL_EVENT_READ);
        CHECK_EQ(sel_select(sel, 0.02, ready, 4), 0);
        write_byte(pair[1]);
        CHECK_EQ(sel_select(sel, 1.0, ready, 4), 1);
        CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
        CHECK_EQ(sel_select(sel, 0, ready, 4), 1);
        CHECK_EQ(sel_select(sel, 0, ready, 4), 1);
    }
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Without SEL_FLAG_MODES the mode bits are bits beyond READ|WRITE: -EINVAL at register and at
 * modify, nothing recorded or changed, exactly as docs/CONTRACT.md says. */
static void modes_need_the_flag(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_ONESHOT, NULL, NULL), -EINVAL);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_EDGE, NULL, NULL), -EINVAL);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE | SEL_EVENT_ONESHOT, NULL, NULL), -EINVAL);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
    CHECK_EQ(key.events, SEL_EVENT_READ);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"modes_need_the_flag", modes_need_the_flag, PER_KIND},
    {"supports_answers_per_kind", supports_answers_per_kind, ONCE},
    {"oneshot_reports_once_until_rearmed", oneshot_reports_once_until_rearmed, PER_KIND},
    {"disarmed_oneshot_ignores_hang_ups", disarmed_oneshot_ignores_hang_ups, PER_KIND},
    {"edge_reports_changes_only", edge_reports_changes_only, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
