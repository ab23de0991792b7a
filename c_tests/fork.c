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

/* Registers a socket and `closed`, forks, and in the child closes `closed` and renews the
 * selector: `closed` is dropped and counted on every kind alike (the count means
 * "registrations the child could not register now"), the other is kept and still reported; the
 * parent's map is untouched. */
static void closed_in_the_child(int kind, int kept[2], int closed) {
    sel_selector *sel = open_selector(kind, 0);
    pid_t pid;
    int status;
    CHECK_EQ(sel_register(sel, kept[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_register(sel, closed, SEL_EVENT_READ, NULL, NULL), 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sel_event ev[2];
        CHECK_EQ(close(closed), 0);
        CHECK_EQ(sel_after_fork(sel), 1);
        CHECK_EQ(sel_get_key(sel, closed, NULL), -ENOENT);
        CHECK_EQ(sel_get_map(sel, NULL, 0), 1);
        write_byte(kept[1]);
        CHECK_EQ(sel_select(sel, 5.0, ev, 2), 1);
        CHECK_EQ(ev[0].key.fd, kept[0]);
        _exit(0);
    }
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 2);
    CHECK_EQ(sel_after_fork(NULL), -EINVAL);
    CHECK_EQ(sel_close(sel), 0);
}

/* A high number, which the selector's own new fds (they take the lowest free numbers) cannot
 * take: the kernel refuses it (EBADF) on EPOLL and KQUEUE, and SELECT, POLL and /dev/poll,
 * whose kernels would take a closed fd, refuse it as sel_register does. */
static void closed_fds_are_dropped_and_counted(int kind) {
    int kept[2], closed[2], high;
    make_socketpair(kept);
    make_socketpair(closed);
    high = fcntl(closed[0], F_DUPFD_CLOEXEC, FD_SETSIZE - 24);
    CHECK(high >= FD_SETSIZE - 24 && high < FD_SETSIZE);
    closed_in_the_child(kind, kept, high);
    CHECK_EQ(close(high), 0);
    close_pair(kept);
    close_pair(closed);
}

/* A low number, which the child's new wakeup fd may take: never registered over the wakeup. */
static void a_closed_fd_whose_number_the_wakeup_may_take_is_dropped(int kind) {
    int kept[2], closed[2];
    make_socketpair(kept);
    make_socketpair(closed);
    closed_in_the_child(kind, kept, closed[0]);
    close_pair(kept);
    close_pair(closed);
}

static const struct test_case cases[] = {
    {"both_processes_select_independently", both_processes_select_independently, PER_KIND},
    {"without_after_fork_the_child_reaches_the_parent",
     without_after_fork_the_child_reaches_the_parent, PER_KIND},
    {"closed_fds_are_dropped_and_counted", closed_fds_are_dropped_and_counted, PER_KIND},
    {"a_closed_fd_whose_number_the_wakeup_may_take_is_dropped",
     a_closed_fd_whose_number_the_wakeup_may_take_is_dropped, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
