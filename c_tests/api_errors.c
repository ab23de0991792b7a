/*
 * Every error path of the contract, from C: each returns its code and changes nothing, and when
 * several errors apply the first in Python's order wins.
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* Bad event sets: empty, and each with a bit beyond READ|WRITE. */
static const uint32_t bad_events[] = {0, 4, SEL_EVENT_READ | 8, 0x80000000u, 0xffffffffu};

/* Every call given a NULL selector returns -EINVAL, except the two the contract lets pass. */
static void null_selector(int kind) {
    sel_key key;
    sel_event events[1];
    (void)kind;
    CHECK_EQ(sel_register(NULL, 0, SEL_EVENT_READ, NULL, &key), -EINVAL);
    CHECK_EQ(sel_modify(NULL, 0, SEL_EVENT_READ, NULL, &key), -EINVAL);
    CHECK_EQ(sel_unregister(NULL, 0, &key), -EINVAL);
    CHECK_EQ(sel_select(NULL, 0, events, 1), -EINVAL);
    CHECK_EQ(sel_get_key(NULL, 0, &key), -EINVAL);
    CHECK_EQ(sel_kind_of(NULL), -EINVAL);
    CHECK_EQ(sel_fileno(NULL), -EINVAL);
    CHECK_EQ(sel_wakeup(NULL), -EINVAL);
    CHECK_EQ(sel_close(NULL), 0);
    CHECK_EQ(sel_get_map(NULL, NULL, 0), 0);
}

/* sel_new: unknown kinds and flags give EINVAL, kinds Linux lacks give ENOSYS (KQUEUE exists in
 * the build with libkqueue). */
static void new_refuses_bad_arguments(int kind) {
    static const int unknown_kinds[] = {-1, 6, 1000};
    size_t i;
    (void)kind;
    for (i = 0; i < COUNT_OF(unknown_kinds); i++) {
        errno = 0;
        CHECK(sel_new(unknown_kinds[i], 0) == NULL);
        CHECK_EQ(errno, EINVAL);
    }
    errno = 0;
    CHECK(sel_new(SEL_KIND_EPOLL, 4) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(sel_new(SEL_KIND_DEFAULT, SEL_FLAG_EINTR | 0x100) == NULL);
    CHECK_EQ(errno, EINVAL);
#ifdef SEL_TEST_LIBKQUEUE
    {
        sel_selector *kqueue = sel_new(SEL_KIND_KQUEUE, 0);
        CHECK(kqueue != NULL);
        CHECK_EQ(sel_kind_of(kqueue), SEL_KIND_KQUEUE);
        CHECK_EQ(sel_close(kqueue), 0);
    }
#else
    errno = 0;
    CHECK(sel_new(SEL_KIND_KQUEUE, 0) == NULL);
    CHECK_EQ(errno, ENOSYS);
#endif
    errno = 0;
    CHECK(sel_new(SEL_KIND_DEVPOLL, 0) == NULL);
    CHECK_EQ(errno, ENOSYS);
}

/* Registering with bad events, a negative fd or a closed fd fails and records nothing. */
static void register_refuses_bad_arguments(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2];
    size_t i;
    make_socketpair(pair);
    for (i = 0; i < COUNT_OF(bad_events); i++)
        CHECK_EQ(sel_register(sel, pair[0], bad_events[i], NULL, NULL), -EINVAL);
    CHECK_EQ(sel_register(sel, -1, SEL_EVENT_READ, NULL, NULL), -EBADF);
    CHECK_EQ(sel_register(sel, -1000, SEL_EVENT_READ, NULL, NULL), -EBADF);
    /* Bad events are checked before the fd, as Python does. */
    CHECK_EQ(sel_register(sel, -1, 0, NULL, NULL), -EINVAL);
    close_pair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), -EBADF);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 0);
    CHECK_EQ(sel_close(sel), 0);
}

/* A second registration of an fd gives EEXIST and leaves the first one as it was. */
static void register_twice(int kind) {
    static int first, second;
    sel_selector *sel = open_selector(kind, 0);
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, &first, NULL), 0);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE, &second, NULL), -EEXIST);
    /* Bad events still win over "already registered". */
    CHECK_EQ(sel_register(sel, pair[0], 0, &second, NULL), -EINVAL);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
    CHECK_EQ(key.events, SEL_EVENT_READ);
    CHECK(key.data == &first);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* modify: fd < 0 is EBADF, an unregistered fd ENOENT (looked up before the events are
 * checked), bad events EINVAL with the registration unchanged. */
static void modify_refuses_bad_arguments(int kind) {
    static int data;
    sel_selector *sel = open_selector(kind, 0);
    sel_key key;
    int pair[2];
    size_t i;
    make_socketpair(pair);
    CHECK_EQ(sel_modify(sel, -1, SEL_EVENT_READ, NULL, NULL), -EBADF);
    CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_READ, NULL, NULL), -ENOENT);
    CHECK_EQ(sel_modify(sel, pair[0], 0, NULL, NULL), -ENOENT);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE, &data, NULL), 0);
    for (i = 0; i < COUNT_OF(bad_events); i++)
        CHECK_EQ(sel_modify(sel, pair[0], bad_events[i], NULL, &key), -EINVAL);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
    CHECK_EQ(key.events, SEL_EVENT_WRITE);
    CHECK(key.data == &data);
    /* The kernel-side registration is unchanged too: the fd is still reported writable. */
    {
        sel_event events[2];
        CHECK_EQ(sel_select(sel, 0, events, 2), 1);
        CHECK_EQ(events[0].mask, SEL_EVENT_WRITE);
    }
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* unregister and get_key: EBADF for fd < 0, ENOENT for an fd never registered or already gone. */
static void unregister_and_get_key_refuse_unknown_fds(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_key key;
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_unregister(sel, -1, &key), -EBADF);
    CHECK_EQ(sel_get_key(sel, -1, &key), -EBADF);
    CHECK_EQ(sel_unregister(sel, pair[0], &key), -ENOENT);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), -ENOENT);
    CHECK_EQ(sel_get_key(sel, 1 << 20, NULL), -ENOENT);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_unregister(sel, pair[0], &key), -ENOENT);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* sel_select: a NULL buffer, an empty buffer or a NaN timeout give EINVAL and nothing else. */
static void select_refuses_bad_arguments(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, NULL, 2), -EINVAL);
    CHECK_EQ(sel_select(sel, 0, events, 0), -EINVAL);
    CHECK_EQ(sel_select(sel, NAN, events, 2), -EINVAL);
    CHECK_EQ(sel_select(sel, 0, events, 2), 1);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* fd >= FD_SETSIZE is EINVAL on SELECT only, and checked after "already registered" and before
 * "closed"; POLL and EPOLL take such fds. */
static void fd_setsize_bounds_select_only(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2];
    int high = FD_SETSIZE + 3;
    raise_fd_limit();
    make_socketpair(pair);
    CHECK_EQ(dup2(pair[0], high), high);
    if (kind == SEL_KIND_SELECT) {
        CHECK_EQ(sel_register(sel, high, SEL_EVENT_READ, NULL, NULL), -EINVAL);
        CHECK_EQ(sel_get_key(sel, high, NULL), -ENOENT);
        CHECK_EQ(close(high), 0);
        CHECK_EQ(sel_register(sel, high, SEL_EVENT_READ, NULL, NULL), -EINVAL);
    } else {
        CHECK_EQ(sel_register(sel, high, SEL_EVENT_READ, NULL, NULL), 0);
        CHECK_EQ(sel_unregister(sel, high, NULL), 0);
        CHECK_EQ(close(high), 0);
    }
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* A regular file: EPOLL refuses it with EPERM and records nothing; select and poll accept it
 * (always ready), as CPython's selectors do. KQUEUE accepts it and reports it readable while
 * the file offset is before the end, as the BSD kernels' EVFILT_READ on a vnode does (where
 * libkqueue differs, see below). */
static void regular_file(int kind) {
    char path[] = "/tmp/libselectors-test-XXXXXX";
    sel_selector *sel = open_selector(kind, 0);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(unlink(path), 0);
    if (kind == SEL_KIND_EPOLL) {
        CHECK_EQ(sel_register(sel, fd, SEL_EVENT_READ, NULL, NULL), -EPERM);
        CHECK_EQ(sel_get_key(sel, fd, NULL), -ENOENT);
        CHECK_EQ(sel_get_map(sel, NULL, 0), 0);
    } else {
        sel_event events[1];
        if (kind == SEL_KIND_KQUEUE)
            CHECK_EQ(write(fd, "data", 4), 4);
        CHECK_EQ(sel_register(sel, fd, SEL_EVENT_READ, NULL, NULL), 0);
        if (kind == SEL_KIND_KQUEUE)
            CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
        CHECK_EQ(sel_select(sel, 0, events, 1), 1);
        CHECK_EQ(events[0].mask, SEL_EVENT_READ);
        if (kind == SEL_KIND_KQUEUE) {
            char buffer[8];
            CHECK_EQ(read(fd, buffer, sizeof buffer), 4); /* at the end: nothing to read */
            CHECK_EQ(sel_select(sel, 0, events, 1), 0);
            CHECK_EQ(write(fd, "more", 4), 4);
            CHECK_EQ(lseek(fd, 4, SEEK_SET), 4);
            /* Data again before the offset: a BSD kernel reports the file readable again;
             * libkqueue stops watching a file once it found it at its end (src/linux/read.c
             * says so), and reports nothing. */
            CHECK_EQ(sel_select(sel, 0, events, 1), ON_LIBKQUEUE(kind) ? 0 : 1);
        }
    }
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(fd), 0);
}

/* A modify the kernel refuses unregisters the fd and returns the kernel's error (CPython
 * bpo-30014). EPOLL and KQUEUE ask the kernel on modify: an fd closed behind their back makes
 * EPOLL_CTL_MOD, or kevent's EV_ADD, fail with EBADF. select and poll only record the change. */
static void refused_modify_unregisters(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int pair[2];
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(close(pair[0]), 0);
    if (kind == SEL_KIND_EPOLL || kind == SEL_KIND_KQUEUE) {
        CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), -EBADF);
        CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    } else {
        CHECK_EQ(sel_modify(sel, pair[0], SEL_EVENT_WRITE, NULL, NULL), 0);
        CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    }
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(pair[1]), 0);
}

/* sel_fileno: the kernel object's fd on EPOLL and KQUEUE, EOPNOTSUPP where there is none. */
static void fileno_by_kind(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    int fd = sel_fileno(sel);
    if (kind == SEL_KIND_EPOLL || kind == SEL_KIND_KQUEUE) {
        CHECK(fd >= 0);
        CHECK(fcntl(fd, F_GETFD) >= 0);
    } else {
        CHECK_EQ(fd, -EOPNOTSUPP);
    }
    CHECK_EQ(sel_close(sel), 0);
}

/* The fds a selector opens for itself cannot be registered in it: its epoll or kqueue fd is
 * refused with EINVAL (by the kernel, and by the library for a kqueue), its wakeup fd by the
 * library (EEXIST, it is registered already), since a second registration would take over the
 * wakeup's kernel entry or drain it. sel_wakeup still works.
 * libkqueue (KQUEUE on Linux) also opens fds of its own, which a BSD kernel does not: for each
 * kqueue its epoll fd, refused by epoll with EINVAL, and the read end of the pipe whose write
 * end is the kqueue fd and one eventfd per filter, already in that epoll set, so EEXIST; and
 * while any kqueue exists, its monitoring thread's socket pair and signalfd, which a register
 * takes as it takes any socket (undone here). */
#define PROBED_FDS 256
static void own_fds_refused(int kind) {
    char open_before[PROBED_FDS];
    sel_selector *sel;
    int fd, own = 0, libkqueue_epoll_fds = 0;
    for (fd = 0; fd < PROBED_FDS; fd++)
        open_before[fd] = fcntl(fd, F_GETFD) != -1;
    sel = open_selector(kind, 0);
    for (fd = 0; fd < PROBED_FDS; fd++) {
        int rc;
        if (open_before[fd] || fcntl(fd, F_GETFD) == -1)
            continue;
        own++;
        rc = sel_register(sel, fd, SEL_EVENT_READ, NULL, NULL);
        if (fd == sel_fileno(sel))
            CHECK_EQ(rc, -EINVAL);
        else if (ON_LIBKQUEUE(kind) && rc == -EINVAL)
            libkqueue_epoll_fds++;
        else if (ON_LIBKQUEUE(kind) && rc == 0)
            CHECK_EQ(sel_unregister(sel, fd, NULL), 0);
        else
            CHECK_EQ(rc, -EEXIST);
    }
    CHECK(own >= 1);
    CHECK_EQ(libkqueue_epoll_fds, ON_LIBKQUEUE(kind) ? 1 : 0);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 0);
    CHECK_EQ(sel_wakeup(sel), 0);
    check_select_woken_at_once(sel);
    CHECK_EQ(sel_close(sel), 0);
}

static const struct test_case cases[] = {
    {"null_selector", null_selector, ONCE},
    {"new_refuses_bad_arguments", new_refuses_bad_arguments, ONCE},
    {"register_refuses_bad_arguments", register_refuses_bad_arguments, PER_KIND},
    {"register_twice", register_twice, PER_KIND},
    {"modify_refuses_bad_arguments", modify_refuses_bad_arguments, PER_KIND},
    {"unregister_and_get_key_refuse_unknown_fds", unregister_and_get_key_refuse_unknown_fds,
     PER_KIND},
    {"select_refuses_bad_arguments", select_refuses_bad_arguments, PER_KIND},
    {"fd_setsize_bounds_select_only", fd_setsize_bounds_select_only, PER_KIND},
    {"regular_file", regular_file, PER_KIND},
    {"refused_modify_unregisters", refused_modify_unregisters, PER_KIND},
    {"fileno_by_kind", fileno_by_kind, PER_KIND},
    {"own_fds_refused", own_fds_refused, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
