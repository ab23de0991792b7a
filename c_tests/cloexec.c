/*
 * Every fd sel_new opens (epoll set, wakeup channel) is close-on-exec, so a program that runs
 * another one does not leak the library's kernel objects into it; and sel_close closes them all.
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "selectors.h"

/* Contract: every kernel fd sel_new makes is close-on-exec, whatever the flags; EPOLL's and
 * KQUEUE's sel_fileno is one of them, SELECT and POLL have none (-EOPNOTSUPP); sel_close closes
 * them (libkqueue's own fds soon after, see await_closed; the BSD kernels' in close itself). */
static void own_fds_are_close_on_exec(int kind) {
    static const unsigned flag_sets[] = {0, SEL_FLAG_EINTR};
    size_t f;
    for (f = 0; f < COUNT_OF(flag_sets); f++) {
        int own[MOST_OWN_FDS];
        size_t count, i;
        sel_selector *sel =
            open_selector_noting_fds(kind, flag_sets[f], own, MOST_OWN_FDS, &count);
        int kernel_fd = sel_fileno(sel), kernel_fd_is_own = 0;
        CHECK(count >= 1); /* at least the wakeup channel */
        for (i = 0; i < count; i++) {
            int fd_flags = fcntl(own[i], F_GETFD);
            CHECK(fd_flags >= 0);
            CHECK(fd_flags & FD_CLOEXEC);
            kernel_fd_is_own |= own[i] == kernel_fd;
        }
        if (kind == SEL_KIND_EPOLL || kind == SEL_KIND_KQUEUE)
            CHECK(kernel_fd_is_own);
        else
            CHECK_EQ(kernel_fd, -EOPNOTSUPP);
        CHECK_EQ(sel_close(sel), 0);
        for (i = 0; i < count; i++) {
            if (ON_LIBKQUEUE(kind))
                await_closed(own[i]);
            CHECK_EQ(fcntl(own[i], F_GETFD), -1);
            CHECK_EQ(errno, EBADF);
        }
    }
}

#if SELECTORS_TEST_LINUX
/* Runs `/bin/sh -c script` in a child and returns its exit status (-1 if it did not exit). */
static int run_shell(const char *script) {
    int status;
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    CHECK_EQ(waitpid(child, &status, 0), child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Contract, end to end: across a real fork and exec, none of the selector's fds is open in the
 * new program, while an fd opened without close-on-exec is (so the check can see an inherited
 * fd at all). The new program looks in /proc: Linux only; own_fds_are_close_on_exec holds
 * everywhere. */
static void own_fds_do_not_survive_exec(int kind) {
    int own[MOST_OWN_FDS], inherited[2];
    size_t count, i;
    char script[512];
    size_t used;
    sel_selector *sel = open_selector_noting_fds(kind, 0, own, MOST_OWN_FDS, &count);
    CHECK_EQ(pipe(inherited), 0); /* no O_CLOEXEC: the control */
    used = (size_t)snprintf(script, sizeof script,
                            "[ -e /proc/$$/fd/%d ] || exit 2; for fd in", inherited[0]);
    for (i = 0; i < count; i++)
        used += (size_t)snprintf(script + used, sizeof script - used, " %d", own[i]);
    used += (size_t)snprintf(script + used, sizeof script - used,
                             "; do [ -e /proc/$$/fd/$fd ] && exit 1; done; exit 0");
    CHECK(used < sizeof script);
    CHECK_EQ(run_shell(script), 0);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(inherited);
}
#endif

static const struct test_case cases[] = {
    {"own_fds_are_close_on_exec", own_fds_are_close_on_exec, PER_KIND},
    LINUX_ONLY_CASE(own_fds_do_not_survive_exec, PER_KIND),
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
