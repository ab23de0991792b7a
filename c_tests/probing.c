/*
 * Run-time probing, as in a container whose seccomp filter refuses new system calls: DEFAULT
 * falls back from epoll to poll when epoll_create1 is refused (ENOSYS on odd kernels, EPERM
 * from filters; CPython bpo-41182), and EPOLL falls back from epoll_pwait2 to epoll_wait
 * (ivykis #33) with timeouts still never early. Each case installs a real seccomp filter in its
 * own process.
 */
#include "platform.h"

#include "fixtures.h"
#include "harness.h"

#if SELECTORS_TEST_LINUX
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef __NR_epoll_pwait2
#define __NR_epoll_pwait2 441
#endif

/* Makes system call `nr` fail with `error` for the rest of this process. */
static void refuse_syscall(long nr, int error) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)error & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program;
    program.len = (unsigned short)COUNT_OF(filter);
    program.filter = filter;
    CHECK_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    CHECK_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program), 0);
}

/* With epoll_create1 refused (`error`), EPOLL is unavailable and DEFAULT is POLL, which works. */
static void check_default_falls_back(int error) {
    sel_selector *sel;
    sel_event events[2];
    int pair[2];
    refuse_syscall(__NR_epoll_create1, error);
    errno = 0;
    CHECK(sel_new(SEL_KIND_EPOLL, 0) == NULL);
    CHECK_EQ(errno, error);
    sel = open_selector(SEL_KIND_DEFAULT, 0);
    CHECK_EQ(sel_kind_of(sel), SEL_KIND_POLL);
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static void default_falls_back_on_enosys(int kind) {
    (void)kind;
    check_default_falls_back(ENOSYS);
}

static void default_falls_back_on_eperm(int kind) {
    (void)kind;
    check_default_falls_back(EPERM);
}

/* With epoll_pwait2 refused (`error`), EPOLL waits with epoll_wait: still never early, and
 * still reporting what is ready. */
static void check_timed_waits_fall_back(int error) {
    sel_selector *sel = open_selector(SEL_KIND_EPOLL, 0);
    sel_event events[2];
    int pair[2], round;
    refuse_syscall(__NR_epoll_pwait2, error);
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    for (round = 0; round < 2; round++) {
        double started = now_seconds();
        CHECK_EQ(sel_select(sel, 0.0305, events, 2), 0);
        CHECK(now_seconds() - started >= 0.0305);
    }
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static void timed_waits_fall_back_on_enosys(int kind) {
    (void)kind;
    check_timed_waits_fall_back(ENOSYS);
}

static void timed_waits_fall_back_on_eperm(int kind) {
    (void)kind;
    check_timed_waits_fall_back(EPERM);
}
#endif

static const struct test_case cases[] = {
    LINUX_ONLY_CASE(default_falls_back_on_enosys, ONCE),
    LINUX_ONLY_CASE(default_falls_back_on_eperm, ONCE),
    LINUX_ONLY_CASE(timed_waits_fall_back_on_enosys, ONCE),
    LINUX_ONLY_CASE(timed_waits_fall_back_on_eperm, ONCE),
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
