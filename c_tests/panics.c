/*
 * Panics: a bug of ours that panics inside a call returns -ENOTRECOVERABLE (NULL with errno for
 * sel_new), and the selector stays usable for every call after it: no later sel_select gets
 * -EBUSY, the lock is not left poisoned, the kernel and the registry agree again (a register cut
 * off is undone, an unregister finished, a modify's kernel side put back), a pending sel_wakeup
 * still ends the next wait, nothing leaks (the harness counts fds; valgrind, memory).
 *
 * The panics are injected through the test hook of debug builds, sel_debug_inject_panic
 * (src/fault.rs; not in the header, absent from release builds), at each stage where a panic
 * would leave something half done. So this program links only against a debug build (cargo
 * test, make test-valgrind); the runners on the release library leave it out.
 */
#include "platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* The test hook: the next call that reaches `stage` panics there, once. 0 or -EINVAL. */
int sel_debug_inject_panic(const char *stage);

static void arm(const char *stage) {
    CHECK_EQ(sel_debug_inject_panic(stage), 0);
}

/* Checks that one sel_select reports exactly one entry, `fd` with `mask`. */
static void check_reported_once(sel_selector *sel, int fd, uint32_t mask) {
    sel_event events[4];
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, fd);
    CHECK_EQ(events[0].mask, mask);
}

/* Checks that every call works on `sel` as on a new selector, with a pair of its own: register,
 * select, modify, a second waiter refused while the first waits, unregister, the map. */
static void check_usable(sel_selector *sel) {
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    check_select_waits(sel, 0.02);
    write_byte(pair[1]);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL), 0);
    check_reported_once(sel, pair[0], SEL_EVENT_READ | SEL_EVENT_WRITE);
    drain_fd(pair[0]);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ, &key, NULL), 0);
    CHECK_EQ(sel_wakeup(sel), 0);
    check_select_woken_at_once(sel);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
    CHECK(key.data == &key);
    CHECK(sel_kind_of(sel) > 0);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    close_pair(pair);
}

/* The hook refuses what it does not know. */
static void unknown_stage_is_refused(int kind) {
    (void)kind;
    CHECK_EQ(sel_debug_inject_panic(NULL), -EINVAL);
    CHECK_EQ(sel_debug_inject_panic("nowhere"), -EINVAL);
}

/* A panic once sel_new has opened its fds: NULL with ENOTRECOVERABLE, the fds closed again (the
 * harness checks), and the next sel_new works. */
static void panic_in_sel_new(int kind) {
    sel_selector *sel;
    arm("new");
    errno = 0;
    CHECK(sel_new(kind, 0) == NULL);
    CHECK_EQ(errno, ENOTRECOVERABLE);
    sel = open_selector(kind, 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
}

/* A panic while a call holds the lock leaves it neither held nor poisoned. */
static void panic_holding_the_lock(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    arm("lock");
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOTRECOVERABLE);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), 0);
    check_usable(sel);
    write_byte(pair[1]);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A register cut off after the kernel took the fd and before the registry did is undone: the fd
 * is not registered, the kernel neither wakes the wait for it nor reports it twice once it is
 * registered again. */
static void panic_in_register_after_the_kernel(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2];
    make_socketpair(pair);
    write_byte(pair[1]);
    arm("register:kernel");
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), -ENOTRECOVERABLE);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 0);
    check_select_waits(sel, 0.1);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A modify cut off after the kernel took the new events keeps the registration with its old
 * ones, in the registry and in the kernel alike; the next modify works. */
static void panic_in_modify_after_the_kernel(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    arm("modify:kernel");
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), -ENOTRECOVERABLE);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
    CHECK_EQ(key.events, SEL_EVENT_READ);
    check_select_waits(sel, 0.1);
    write_byte(pair[1]);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    drain_fd(pair[0]);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    check_reported_once(sel, pair[0], SEL_EVENT_WRITE);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* An unregister cut off after the registry forgot the fd is finished in the kernel too: the
 * ready fd neither wakes the wait nor shows up again, and can be registered anew. */
static void panic_in_unregister_before_the_kernel(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2], other[2];
    make_socketpair(pair);
    make_socketpair(other);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_register(sel, other[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    arm("unregister:registry");
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), -ENOTRECOVERABLE);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    check_select_waits(sel, 0.1);
    /* The registration that poll moved into the removed one's place is still itself. */
    write_byte(other[1]);
    check_reported_once(sel, other[0], SEL_EVENT_READ);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    drain_fd(other[0]);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_unregister(sel, other[0], NULL), 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
    close_pair(other);
}

/* A sel_select that panics before or after its kernel wait gives its turn back: the next one is
 * not refused with -EBUSY, and reports the ready fd (level-triggered: nothing is lost). */
static void panic_in_select(int kind, const char *stage) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    arm(stage);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), -ENOTRECOVERABLE);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    drain_fd(pair[0]);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static void panic_before_the_wait(int kind) {
    panic_in_select(kind, "select:wait");
}

static void panic_after_the_wait(int kind) {
    panic_in_select(kind, "select:reported");
}

/* A sel_select that drained a caller's wakeup and then panicked did not return for it: the
 * wakeup ends the next sel_select instead, and only that one. */
static void wakeup_outlives_a_panicked_select(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    CHECK_EQ(sel_wakeup(sel), 0);
    arm("select:reported");
    CHECK_EQ(sel_select(sel, -1.0, events, 4), -ENOTRECOVERABLE);
    check_select_woken_at_once(sel);
    check_select_waits(sel, 0.05);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
}

/* A sel_after_fork that panics once the new kernel object is made closes it again and leaves
 * the selector as it was; the next sel_after_fork works. (Called in this process: the selector
 * is used by no other thread, which is all sel_after_fork asks.) */
static void panic_in_after_fork(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    arm("after_fork");
    CHECK_EQ(sel_after_fork(sel), -ENOTRECOVERABLE);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    CHECK_EQ(sel_after_fork(sel), 0);
    check_reported_once(sel, pair[0], SEL_EVENT_READ);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A thread whose register panics while another thread waits in sel_select. */
struct panicking_registrar {
    sel_selector *sel;
    long waiter;
    int fd;
    int panicked, registered;
};

static void *register_twice_when_blocked(void *arg) {
    struct panicking_registrar *registrar = (struct panicking_registrar *)arg;
    wait_until_blocked(registrar->waiter);
    arm("register:kernel");
    registrar->panicked = sel_register(registrar->sel, registrar->fd, SEL_EVENT_READ, NULL, NULL);
    wait_until_blocked(registrar->waiter);
    registrar->registered = sel_register(registrar->sel, registrar->fd, SEL_EVENT_READ, NULL, NULL);
    return NULL;
}

/* A register that panics in another thread while the wait is blocked leaves the wait blocked
 * and the selector consistent; that thread's next register reaches the blocked wait. */
static void panic_in_another_thread_during_the_wait(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    struct panicking_registrar registrar;
    sel_event events[4];
    pthread_t thread;
    int pair[2];
    make_socketpair(pair);
    write_byte(pair[1]);
    registrar.sel = sel;
    registrar.waiter = current_thread_id();
    registrar.fd = pair[0];
    CHECK_EQ(pthread_create(&thread, NULL, register_twice_when_blocked, &registrar), 0);
    CHECK_EQ(sel_select(sel, -1.0, events, 4), 1);
    CHECK_EQ(pthread_join(thread, NULL), 0);
    CHECK_EQ(registrar.panicked, -ENOTRECOVERABLE);
    CHECK_EQ(registrar.registered, 0);
    CHECK_EQ(events[0].key.fd, pair[0]);
    drain_fd(pair[0]);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    check_usable(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"unknown_stage_is_refused", unknown_stage_is_refused, ONCE},
    {"panic_in_sel_new", panic_in_sel_new, PER_KIND},
    {"panic_holding_the_lock", panic_holding_the_lock, PER_KIND},
    {"panic_in_register_after_the_kernel", panic_in_register_after_the_kernel, PER_KIND},
    {"panic_in_modify_after_the_kernel", panic_in_modify_after_the_kernel, PER_KIND},
    {"panic_in_unregister_before_the_kernel", panic_in_unregister_before_the_kernel, PER_KIND},
    {"panic_before_the_wait", panic_before_the_wait, PER_KIND},
    {"panic_after_the_wait", panic_after_the_wait, PER_KIND},
    {"wakeup_outlives_a_panicked_select", wakeup_outlives_a_panicked_select, PER_KIND},
    {"panic_in_after_fork", panic_in_after_fork, PER_KIND},
    {"panic_in_another_thread_during_the_wait", panic_in_another_thread_during_the_wait,
     PER_KIND},
};

int main(int argc, char **argv) {
    /* A backtrace per injected panic only slows the cases down (minutes under valgrind). */
    CHECK_EQ(setenv("RUST_BACKTRACE", "0", 1), 0);
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
