/*
 * sel_after_fork: a child gets kernel state of its own and both processes select independently;
 * without it, the child's changes and wakeups reach the parent (the README's warning).
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* Runs `child` in a forked process and returns its exit status (0: every CHECK held). */
static int run_in_child(void (*child)(sel_selector *, int), sel_selector *sel, int fd) {
    int status;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        child(sel, fd);
        _exit(0);
    }
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The child renews its selector, unregisters the parent's fd, registers its own and selects. */
static void child_with_after_fork(sel_selector *sel, int shared_fd) {
    sel_event events[4];
    int own[2];
    CHECK_EQ(sel_after_fork(sel), 0);
    CHECK_EQ(sel_get_key(sel, shared_fd, NULL), 0);
    CHECK_EQ(sel_unregister(sel, shared_fd, NULL), 0);
    make_socketpair(own);
    CHECK_EQ(sel_register(sel, own[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(own[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, own[0]);
    CHECK_EQ(sel_wakeup(sel), 0);
    CHECK_EQ(sel_close(sel), 0);
}

/* After the child has changed its copy, the parent's registration still works, and the
 * child's wakeup did not reach the parent. */
static void both_processes_select_independently(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(run_in_child(child_with_after_fork, sel, pair[0]), 0);
    CHECK_EQ(sel_select(sel, 0.05, events, 4), 0);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A child that forgets sel_after_fork and unregisters shares the parent's epoll set. */
static void child_without_after_fork(sel_selector *sel, int shared_fd) {
    CHECK_EQ(sel_unregister(sel, shared_fd, NULL), 0);
    CHECK_EQ(sel_wakeup(sel), 0);
}

/* The README's warning, shown: on EPOLL the child's unregister removed the parent's kernel
 * registration (the parent's map still has the key, but no event comes). select and poll keep
 * no kernel state between calls, and a kqueue is not inherited (libkqueue closes it in the
 * child), so there the parent still sees its fd. The child's wakeup went
 * through the shared channel, but the parent can tell it is not its own and keeps waiting. */
static void without_after_fork_the_child_reaches_the_parent(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(run_in_child(child_without_after_fork, sel, pair[0]), 0);
    check_select_waits(sel, 0.1);
    write_byte(pair[1]);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_select(sel, 0.05, events, 4), kind == SEL_KIND_EPOLL ? 0 : 1);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Registrations the kernel refuses to re-arm in the child are dropped by sel_after_fork, and
 * counted, on EPOLL and KQUEUE, which must re-arm them; the others are kept. The child closes
 * one registered fd, a high number the selector's own new fds (which take the lowest free
 * numbers) cannot take, so the kernel refuses it with EBADF. */
static void closed_fds_are_dropped_and_counted(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int kept[2], closed[2], high;
    int rearmed = kind == SEL_KIND_EPOLL || kind == SEL_KIND_KQUEUE;
    pid_t pid;
    int status;
    make_socketpair(kept);
    make_socketpair(closed);
    high = fcntl(closed[0], F_DUPFD_CLOEXEC, FD_SETSIZE - 24);
    CHECK(high >= FD_SETSIZE - 24 && high < FD_SETSIZE);
    CHECK_EQ(sel_register(sel, kept[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_register(sel, high, SEL_EVENT_READ, NULL, NULL), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CHECK_EQ(close(high), 0);
        CHECK_EQ(sel_after_fork(sel), rearmed ? 1 : 0);
        CHECK_EQ(sel_get_key(sel, kept[0], NULL), 0);
        CHECK_EQ(sel_get_key(sel, high, NULL), rearmed ? -ENOENT : 0);
        _exit(0);
    }
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 2);
    CHECK_EQ(sel_after_fork(NULL), -EINVAL);
    CHECK_EQ(sel_unregister(sel, high, NULL), 0);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(high), 0);
    close_pair(kept);
    close_pair(closed);
}

static const struct test_case cases[] = {
    {"both_processes_select_independently", both_processes_select_independently, PER_KIND},
    {"without_after_fork_the_child_reaches_the_parent",
     without_after_fork_the_child_reaches_the_parent, PER_KIND},
    {"closed_fds_are_dropped_and_counted", closed_fds_are_dropped_and_counted, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
