/*
 * Registration from other threads: while one thread waits in sel_select, others register,
 * modify and unregister fds, and the blocked wait watches the new set; a second waiter gets
 * -EBUSY; many threads changing registrations at once keep the map consistent.
 */
#include "platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* What a changer thread does to the selector once the waiter sleeps in the kernel. */
struct change {
    sel_selector *sel;
    long waiter;
    int fd;
    uint32_t events; /* 0: unregister */
    int result;
};

static void *change_when_blocked(void *arg) {
    struct change *change = (struct change *)arg;
    wait_until_blocked(change->waiter);
    if (change->events == 0)
        change->result = sel_unregister(change->sel, change->fd, NULL);
    else if (sel_get_key(change->sel, change->fd, NULL) == 0)
        change->result = sel_modify(change->sel, change->fd, change->events, NULL, NULL);
    else
        change->result = sel_register(change->sel, change->fd, change->events, NULL, NULL);
    return NULL;
}

/* Runs a 5 s sel_select while another thread applies `change`; returns what it returned and
 * checks that it did not wait for its timeout. */
static int select_during(struct change *change, sel_event *events, size_t max_events) {
    pthread_t changer;
    double started = now_seconds();
    int result;
    change->waiter = current_thread_id();
    change->result = 1;
    CHECK_EQ(pthread_create(&changer, NULL, change_when_blocked, change), 0);
    result = sel_select(change->sel, 5.0, events, max_events);
    CHECK_EQ(pthread_join(changer, NULL), 0);
    CHECK_EQ(change->result, 0);
    CHECK(now_seconds() - started < SLACK_SECONDS);
    return result;
}

/* A ready fd registered by another thread is reported by the wait already blocked. */
static void register_reaches_the_blocked_wait(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    struct change change;
    int pair[2];
    make_socketpair(pair);
    write_byte(pair[1]);
    change.sel = sel;
    change.fd = pair[0];
    change.events = SEL_EVENT_READ;
    CHECK_EQ(select_during(&change, events, 4), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A modify from another thread (READ, not ready, to WRITE, ready) reaches the blocked wait. */
static void modify_reaches_the_blocked_wait(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    struct change change;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    change.sel = sel;
    change.fd = pair[0];
    change.events = SEL_EVENT_WRITE;
    CHECK_EQ(select_during(&change, events, 4), 1);
    CHECK_EQ(events[0].mask, SEL_EVENT_WRITE);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* An fd unregistered by another thread is never reported afterwards, even though it is
 * ready; the blocked wait goes on with the rest and sees their events. */
static void unregister_reaches_the_blocked_wait(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    struct change change;
    int gone[2], quiet[2];
    make_socketpair(gone);
    make_socketpair(quiet);
    CHECK_EQ(sel_register(sel, gone[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_register(sel, quiet[0], SEL_EVENT_READ, NULL, NULL), 0);
    change.sel = sel;
    change.fd = gone[0];
    change.events = 0;
    {
        pthread_t changer;
        change.waiter = current_thread_id();
        CHECK_EQ(pthread_create(&changer, NULL, change_when_blocked, &change), 0);
        CHECK_EQ(sel_select(sel, 0.3, events, 4), 0);
        CHECK_EQ(pthread_join(changer, NULL), 0);
        CHECK_EQ(change.result, 0);
    }
    write_byte(gone[1]);
    CHECK_EQ(sel_select(sel, 0.05, events, 4), 0);
    write_byte(quiet[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, quiet[0]);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(gone);
    close_pair(quiet);
}

/* A thread that waits for ever in sel_select, and what that call returned. */
struct waiter {
    sel_selector *sel;
    long tid;
    int announced; /* tid is set */
    int result;
};

static void *select_for_ever(void *arg) {
    struct waiter *waiter = (struct waiter *)arg;
    sel_event events[2];
    waiter->tid = current_thread_id();
    __atomic_store_n(&waiter->announced, 1, __ATOMIC_RELEASE);
    waiter->result = sel_select(waiter->sel, -1, events, 2);
    return NULL;
}

/* Starts `thread` waiting for ever in sel_select on `sel`; returns once it sleeps in the
 * kernel. */
static void start_waiter(struct waiter *waiter, sel_selector *sel, pthread_t *thread) {
    double started = now_seconds();
    waiter->sel = sel;
    waiter->announced = 0;
    CHECK_EQ(pthread_create(thread, NULL, select_for_ever, waiter), 0);
    while (!__atomic_load_n(&waiter->announced, __ATOMIC_ACQUIRE))
        CHECK(now_seconds() - started < 10.0);
    wait_until_blocked(waiter->tid);
}

/* Exactly one thread waits at a time: while one sleeps in sel_select, a second call gets
 * -EBUSY at once and changes nothing; the first, woken, returns 0. */
static void second_waiter_gets_ebusy(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    struct waiter waiter;
    pthread_t thread;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    start_waiter(&waiter, sel, &thread);
    CHECK_EQ(sel_select(sel, 0, events, 2), -EBUSY);
    CHECK_EQ(sel_select(sel, 5.0, events, 2), -EBUSY);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(pthread_join(thread, NULL), 0);
    CHECK_EQ(waiter.result, 0);
    CHECK_EQ(sel_select(sel, 0, events, 2), 0);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

#if SELECTORS_TEST_LINUX
/* How many times thread `tid` of this process has blocked (Linux /proc). */
static long voluntary_switches(long tid) {
    char path[64], line[128];
    long switches = -1;
    FILE *status;
    snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
    status = fopen(path, "r");
    CHECK(status != NULL);
    while (fgets(line, sizeof line, status) != NULL)
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &switches) == 1)
            break;
    CHECK_EQ(fclose(status), 0);
    CHECK(switches >= 0);
    return switches;
}

/* EPOLL and KQUEUE take changes while a wait is blocked in them, so changes from another thread
 * cost that thread its system call and a short lock, and never wake the waiter: 1,000
 * register, modify and unregister rounds leave it asleep in the kernel (each would have woken
 * it once before). The next registration of a ready fd still ends the wait with its entry. */
static void changes_leave_the_waiter_asleep(int kind) {
    enum { ROUNDS = 1000 };
    sel_selector *sel = open_selector(kind, 0);
    struct waiter waiter;
    pthread_t thread;
    long switches;
    int pair[2], round;
    make_socketpair(pair);
    start_waiter(&waiter, sel, &thread);
    switches = voluntary_switches(waiter.tid);
    for (round = 0; round < ROUNDS; round++) {
        CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
        CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ, &waiter, NULL), 0);
        CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    }
    CHECK(voluntary_switches(waiter.tid) - switches < 10);
    CHECK(blocked_in_readiness_wait(waiter.tid, 0));
    write_byte(pair[1]);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(pthread_join(thread, NULL), 0);
    CHECK_EQ(waiter.result, 1);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* The kinds that wait without the lock: EPOLL, and KQUEUE where the build has it (libkqueue). */
static void changes_leave_an_unlocked_wait_asleep(int kind) {
    sel_selector *kqueue = sel_new(SEL_KIND_KQUEUE, 0);
    (void)kind;
    changes_leave_the_waiter_asleep(SEL_KIND_EPOLL);
    if (kqueue == NULL) {
        CHECK_EQ(errno, ENOSYS);
        printf("note: no KQUEUE in this build; EPOLL alone checked\n");
        return;
    }
    CHECK_EQ(sel_close(kqueue), 0);
    changes_leave_the_waiter_asleep(SEL_KIND_KQUEUE);
}
#endif

#define CHURNERS 4
#define CHURN_ROUNDS 2000

struct churner {
    sel_selector *sel;
    int pair[2];
    int failures;
    int finished;
};

static void *churn(void *arg) {
    struct churner *churner = (struct churner *)arg;
    int round;
    for (round = 0; round < CHURN_ROUNDS; round++) {
        churner->failures +=
            sel_register(churner->sel, churner->pair[0], SEL_EVENT_WRITE, churner, NULL) != 0;
        churner->failures +=
            sel_modify(churner->sel, churner->pair[0], SEL_EVENT_READ, churner, NULL) != 0;
        churner->failures += sel_unregister(churner->sel, churner->pair[0], NULL) != 0;
    }
    __atomic_store_n(&churner->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Threads registering, modifying and unregistering their own fds while the owner selects in a
 * loop: every call succeeds, every entry reported belongs to a live churner, and the map ends
 * with the owner's registration alone. */
static void churn_while_selecting(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    struct churner churners[CHURNERS];
    pthread_t threads[CHURNERS];
    sel_event events[CHURNERS + 1];
    int own[2], i, running = CHURNERS;
    int joined[CHURNERS] = {0};
    double started = now_seconds();
    make_socketpair(own);
    CHECK_EQ(sel_register(sel, own[0], SEL_EVENT_READ, NULL, NULL), 0);
    for (i = 0; i < CHURNERS; i++) {
        churners[i].sel = sel;
        churners[i].failures = 0;
        churners[i].finished = 0;
        make_socketpair(churners[i].pair);
        CHECK_EQ(pthread_create(&threads[i], NULL, churn, &churners[i]), 0);
    }
    while (running > 0) {
        int count = sel_select(sel, 0.01, events, CHURNERS + 1), j;
        CHECK(count >= 0);
        for (j = 0; j < count; j++)
            CHECK(events[j].key.data == NULL ||
                  (events[j].key.data >= (void *)churners &&
                   events[j].key.data < (void *)(churners + CHURNERS)));
        for (i = 0; i < CHURNERS; i++)
            if (!joined[i] && __atomic_load_n(&churners[i].finished, __ATOMIC_ACQUIRE)) {
                CHECK_EQ(pthread_join(threads[i], NULL), 0);
                joined[i] = 1;
                running--;
            }
        CHECK(now_seconds() - started < 60.0);
    }
    for (i = 0; i < CHURNERS; i++) {
        CHECK_EQ(churners[i].failures, 0);
        close_pair(churners[i].pair);
    }
    CHECK_EQ(sel_get_map(sel, NULL, 0), 1);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(own);
}

static const struct test_case cases[] = {
    {"register_reaches_the_blocked_wait", register_reaches_the_blocked_wait, PER_KIND},
    {"modify_reaches_the_blocked_wait", modify_reaches_the_blocked_wait, PER_KIND},
    {"unregister_reaches_the_blocked_wait", unregister_reaches_the_blocked_wait, PER_KIND},
    {"second_waiter_gets_ebusy", second_waiter_gets_ebusy, PER_KIND},
    {"churn_while_selecting", churn_while_selecting, PER_KIND},
    LINUX_ONLY_CASE(changes_leave_an_unlocked_wait_asleep, ONCE),
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
