/*
 * sel_select's timeout: 0 polls, a positive timeout never returns early (whatever the kernel's
 * granularity), NaN is refused with nothing changed, negative, infinite and huge timeouts wait
 * for ever, and a signal either is retried with the time left (PEP 475) or, with
 * SEL_FLAG_EINTR, returns -EINTR.
 *
 * Lower bounds on durations are the contract; upper bounds are generous (a noisy 2-core machine,
 * valgrind) and only tell "returned" from "kept waiting".
 */
#include "platform.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "selectors.h"

/* A selector watching an idle socket for READ: something registered that never gets ready. */
struct idle_selector {
    sel_selector *sel;
    int pair[2];
};

static struct idle_selector open_idle_selector(int kind, unsigned flags) {
    struct idle_selector idle;
    idle.sel = open_selector(kind, flags);
    make_socketpair(idle.pair);
    CHECK_EQ(sel_register(idle.sel, idle.pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    return idle;
}

static void close_idle_selector(struct idle_selector *idle) {
    CHECK_EQ(sel_close(idle->sel), 0);
    close_pair(idle->pair);
}

/* Contract: timeout 0 polls. 0 and -0.0 (which is not < 0) return at once with 0 entries: 1000
 * calls take less than a second, which one millisecond of real waiting per call would reach
 * (and a stall of most of a second on a loaded machine would not). */
static void zero_timeout_polls(int kind) {
    static const double zeros[] = {0.0, -0.0};
    struct idle_selector idle = open_idle_selector(kind, 0);
    sel_event events[4];
    size_t z;
    int call;
    for (z = 0; z < COUNT_OF(zeros); z++) {
        double started = now_seconds();
        for (call = 0; call < 1000; call++)
            CHECK_EQ(sel_select(idle.sel, zeros[z], events, 4), 0);
        CHECK(now_seconds() - started < 1.0);
    }
    close_idle_selector(&idle);
}

/* Contract: a positive timeout never returns early (round up, never down), also below poll's
 * and epoll_wait's millisecond and below select's microsecond. */
static void positive_timeouts_never_return_early(int kind) {
    static const double timeouts[] = {0.05, 0.0015, 0.0005, 1e-6, 1e-9};
    struct idle_selector idle = open_idle_selector(kind, 0);
    size_t t;
    int repeat;
    for (t = 0; t < COUNT_OF(timeouts); t++)
        for (repeat = 0; repeat < 5; repeat++)
            check_select_waits(idle.sel, timeouts[t]);
    close_idle_selector(&idle);
}

/* Contract: with nothing registered sel_select still waits for the timeout (the kernel wait
 * still gets room for an event and a real timeout: CPython bpo-23009, bpo-29255). */
static void nothing_registered_still_waits(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    check_select_waits(sel, 0.05);
    check_select_waits(sel, 0.0015);
    CHECK_EQ(sel_close(sel), 0);
}

/* Calls sel_select with NaN and -NaN; checks each is -EINVAL and leaves the buffer unwritten. */
static void check_nan_refused(sel_selector *sel) {
    static const double nans[] = {NAN, -NAN};
    sel_event events[4], untouched[4];
    size_t n;
    memset(untouched, 0xA5, sizeof untouched);
    for (n = 0; n < COUNT_OF(nans); n++) {
        memcpy(events, untouched, sizeof events);
        CHECK_EQ(sel_select(sel, nans[n], events, 4), -EINVAL);
        CHECK(memcmp(events, untouched, sizeof events) == 0);
    }
}

/* Contract: a NaN timeout is -EINVAL with nothing changed: the result buffer is not written, a
 * pending wakeup stays pending and a ready fd stays ready for the next call. */
static void nan_timeout_is_refused_with_nothing_changed(int kind) {
    struct idle_selector idle = open_idle_selector(kind, 0);
    sel_event events[4];
    CHECK_EQ(sel_wakeup(idle.sel), 0);
    check_nan_refused(idle.sel);
    check_select_woken_at_once(idle.sel); /* the wakeup is still pending */
    write_byte(idle.pair[1]);
    check_nan_refused(idle.sel);
    CHECK_EQ(sel_get_map(idle.sel, NULL, 0), 1);
    CHECK_EQ(sel_select(idle.sel, 0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, idle.pair[0]);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    close_idle_selector(&idle);
}

/* Contract: `< 0` or `+inf` waits for ever, and a timeout too large for the kernel (up to
 * DBL_MAX, and past poll's INT_MAX milliseconds) waits as long as asked, never wraps around
 * into a short or zero wait: each of these blocks until sel_wakeup ends it, 50 ms later. */
static void negative_infinite_and_huge_timeouts_wait_for_ever(int kind) {
    static const double forever[] = {-1.0,    -1e-300, -INFINITY, -DBL_MAX, INFINITY,
                                     DBL_MAX, 1e300,   1e9,       3e6};
    struct idle_selector idle = open_idle_selector(kind, 0);
    sel_event events[4];
    size_t t;
    for (t = 0; t < COUNT_OF(forever); t++) {
        double elapsed;
        CHECK_EQ(select_woken_after(idle.sel, forever[t], events, 4, 0.05, 0, &elapsed), 0);
        CHECK(elapsed >= 0.04);
        CHECK(elapsed < SLACK_SECONDS);
    }
    close_idle_selector(&idle);
}

/* Contract (PEP 475): a signal interrupting the wait is retried with the time left: a 0.2 s
 * select interrupted 30 ms into its wait returns 0 entries, and not before 0.2 s. */
static void interrupted_wait_is_retried_with_the_time_left(int kind) {
    struct idle_selector idle = open_idle_selector(kind, 0);
    sel_event events[4];
    double elapsed;
    catch_signal_counting(SIGALRM, NULL);
    CHECK_EQ(select_woken_after(idle.sel, 0.2, events, 4, 0.03, SIGALRM, &elapsed), 0);
    CHECK_EQ(signals_caught(), 1);
    CHECK(elapsed >= 0.2);
    CHECK(elapsed < 0.2 + SLACK_SECONDS);
    close_idle_selector(&idle);
}

/* Contract: with SEL_FLAG_EINTR an interrupted wait returns -EINTR when the signal arrives
 * (30 ms into a 10 s wait), for a binding to run its signal handlers. */
static void eintr_flag_reports_the_interrupt(int kind) {
    struct idle_selector idle = open_idle_selector(kind, SEL_FLAG_EINTR);
    sel_event events[4];
    double elapsed;
    catch_signal_counting(SIGALRM, NULL);
    CHECK_EQ(select_woken_after(idle.sel, 10.0, events, 4, 0.03, SIGALRM, &elapsed), -EINTR);
    CHECK_EQ(signals_caught(), 1);
    CHECK(elapsed >= 0.03);
    CHECK(elapsed < SLACK_SECONDS);
    close_idle_selector(&idle);
}

/* Contract: with SEL_FLAG_EINTR the call returns -EINTR even when the handler also called
 * sel_wakeup; that wakeup is neither lost nor reported as an entry: the next call returns 0
 * entries at once, and the one after that waits again (it was consumed exactly once). */
static void eintr_flag_keeps_a_wakeup_from_the_handler_pending(int kind) {
    struct idle_selector idle = open_idle_selector(kind, SEL_FLAG_EINTR);
    sel_event events[4];
    double elapsed;
    catch_signal_counting(SIGALRM, idle.sel);
    CHECK_EQ(select_woken_after(idle.sel, 10.0, events, 4, 0.03, SIGALRM, &elapsed), -EINTR);
    CHECK_EQ(signals_caught(), 1);
    check_select_woken_at_once(idle.sel);
    check_select_waits(idle.sel, 0.05);
    catch_signal_counting(SIGALRM, NULL);
    close_idle_selector(&idle);
}

static const struct test_case cases[] = {
    {"zero_timeout_polls", zero_timeout_polls, PER_KIND},
    {"positive_timeouts_never_return_early", positive_timeouts_never_return_early, PER_KIND},
    {"nothing_registered_still_waits", nothing_registered_still_waits, PER_KIND},
    {"nan_timeout_is_refused_with_nothing_changed", nan_timeout_is_refused_with_nothing_changed,
     PER_KIND},
    {"negative_infinite_and_huge_timeouts_wait_for_ever",
     negative_infinite_and_huge_timeouts_wait_for_ever, PER_KIND},
    {"interrupted_wait_is_retried_with_the_time_left",
     interrupted_wait_is_retried_with_the_time_left, PER_KIND},
    {"eintr_flag_reports_the_interrupt", eintr_flag_reports_the_interrupt, PER_KIND},
    {"eintr_flag_keeps_a_wakeup_from_the_handler_pending",
     eintr_flag_keeps_a_wakeup_from_the_handler_pending, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
