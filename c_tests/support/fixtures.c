/* Fixtures shared by the C tests (see fixtures.h). */
#include "platform.h"

#include "fixtures.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if SELECTORS_TEST_LINUX
#include <dirent.h>
#include <sys/syscall.h>
#endif

#include "harness.h"

sel_selector *open_selector(int kind, unsigned flags) {
    sel_selector *sel = sel_new(kind, flags);
    CHECK(sel != NULL);
    return sel;
}

/* Makes `fd` non-blocking and close-on-exec; returns 0, or -1 with errno. (With fcntl, not
 * SOCK_NONBLOCK or pipe2's flags, which macOS lacks: the tests start no program while they make
 * these, so the flags need not be atomic.) */
static int set_nonblocking_cloexec(int fd) {
    int status = fcntl(fd, F_GETFL);
    if (status < 0 || fcntl(fd, F_SETFL, status | O_NONBLOCK) != 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Sets both ends of a new pair non-blocking and close-on-exec; returns 0, or -1 with errno and
 * the pair closed. */
static int finish_pair(int fds[2]) {
    if (set_nonblocking_cloexec(fds[0]) == 0 && set_nonblocking_cloexec(fds[1]) == 0)
        return 0;
    {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
    }
    return -1;
}

void make_socketpair(int fds[2]) {
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    CHECK_EQ(finish_pair(fds), 0);
}

int open_pipe(int ends[2]) {
    return pipe(ends) == 0 ? finish_pair(ends) : -1;
}

void close_pair(const int fds[2]) {
    CHECK_EQ(close(fds[0]), 0);
    CHECK_EQ(close(fds[1]), 0);
}

double now_seconds(void) {
    struct timespec now;
    CHECK_EQ(clock_gettime(CLOCK_MONOTONIC, &now), 0);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

void write_byte(int fd) {
    CHECK_EQ(write(fd, "x", 1), 1);
}

void drain_fd(int fd) {
    char buffer[4096];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

void fill_socket(int fd) {
    static const char chunk[4096] = {0};
    while (write(fd, chunk, sizeof chunk) > 0) {
    }
    CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
}

const sel_event *find_event(const sel_event *events, int count, int fd) {
    int i;
    for (i = 0; i < count; i++)
        if (events[i].key.fd == fd)
            return &events[i];
    return NULL;
}

int reuse_number_behind_the_selector(sel_selector *sel, int number, void *old_data, int new_fd,
                                     void *new_data) {
    int keeper;
    CHECK_EQ(sel_register(sel, number, SEL_EVENT_READ, old_data, NULL), 0);
    keeper = dup(number);
    CHECK(keeper >= 0);
    CHECK_EQ(close(number), 0);
    CHECK_EQ(sel_unregister(sel, number, NULL), 0);
    CHECK_EQ(dup2(new_fd, number), number);
    CHECK_EQ(sel_register(sel, number, SEL_EVENT_READ, new_data, NULL), 0);
    return keeper;
}

int check_reused_number_reported(int kind, int count, const sel_event *events, int number,
                                 const void *data, const char *test) {
    if (ON_LIBKQUEUE(kind) && count == 0) {
        printf("note: %s: libkqueue lost the new registration of a reused number\n", test);
        return 0;
    }
    CHECK_EQ(count, 1);
    CHECK_EQ(events[0].key.fd, number);
    CHECK(events[0].key.data == data);
    CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    return 1;
}

long raise_fd_limit(void) {
    struct rlimit limit;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    limit.rlim_cur = limit.rlim_max;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    return (long)limit.rlim_cur;
}

void catch_signal(int signo, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = 0; /* no SA_RESTART: interrupted calls fail with EINTR */
    CHECK_EQ(sigemptyset(&action.sa_mask), 0);
    CHECK_EQ(sigaction(signo, &action, NULL), 0);
}

/* The state of catch_signal_counting's handler. */
static volatile sig_atomic_t caught_signals;
static sel_selector *volatile selector_woken_by_signal;

static void count_and_wake(int signo) {
    (void)signo;
    caught_signals++;
    if (selector_woken_by_signal != NULL)
        sel_wakeup(selector_woken_by_signal);
}

void catch_signal_counting(int signo, sel_selector *wake) {
    caught_signals = 0;
    selector_woken_by_signal = wake;
    catch_signal(signo, count_and_wake);
}

int signals_caught(void) {
    return caught_signals;
}

#if SELECTORS_TEST_LINUX
/* Whether `syscall` is a kernel wait for readiness: what sel_select blocks in on some kind
 * (libkqueue's kevent waits in epoll_wait too). */
static int is_readiness_wait(long syscall_number) {
    static const long waits[] = {
#ifdef SYS_select
        SYS_select,
#endif
#ifdef SYS_pselect6
        SYS_pselect6,
#endif
#ifdef SYS_poll
        SYS_poll,
#endif
#ifdef SYS_ppoll
        SYS_ppoll,
#endif
#ifdef SYS_epoll_wait
        SYS_epoll_wait,
#endif
#ifdef SYS_epoll_pwait
        SYS_epoll_pwait,
#endif
#ifdef SYS_epoll_pwait2
        SYS_epoll_pwait2,
#endif
    };
    size_t i;
    for (i = 0; i < sizeof waits / sizeof waits[0]; i++)
        if (waits[i] == syscall_number)
            return 1;
    return 0;
}

long current_thread_id(void) {
    return syscall(SYS_gettid);
}

int blocked_in_readiness_wait(long tid, double waited) {
    char path[64], text[256];
    ssize_t length;
    int fd;
    (void)waited;
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    length = read(fd, text, sizeof text - 1);
    CHECK_EQ(close(fd), 0);
    CHECK(length > 0);
    text[length] = '\0';
    /* "running", or the number of the system call the thread sleeps in, then its arguments. */
    return text[0] >= '0' && text[0] <= '9' && is_readiness_wait(strtol(text, NULL, 10));
}
#else
long current_thread_id(void) {
    return 0;
}

int blocked_in_readiness_wait(long tid, double waited) {
    (void)tid;
    return waited >= SETTLE_SECONDS;
}
#endif

void wait_until_blocked(long tid) {
    double started = now_seconds();
    while (!blocked_in_readiness_wait(tid, now_seconds() - started))
        CHECK(now_seconds() - started < 10.0);
}

/* Waits up to `seconds` for `fd` to be readable; returns whether it is. */
static int readable_within(int fd, double seconds) {
    struct pollfd entry;
    int ready;
    entry.fd = fd;
    entry.events = POLLIN;
    entry.revents = 0;
    do
        ready = poll(&entry, 1, (int)ceil(seconds * 1000)); /* never shorter */
    while (ready < 0 && errno == EINTR);
    CHECK(ready >= 0);
    return ready == 1;
}

/* What the helper thread of select_woken_after does, and the pipe that says the call returned. */
struct wake_plan {
    sel_selector *sel;
    double delay;
    int signo;
    pthread_t selecting_thread;
    long selecting_tid;
    int returned[2];
};

static void *wake_later(void *arg) {
    const struct wake_plan *plan = arg;
    double started = now_seconds();
    /* Until the call sleeps in the kernel: a signal that came before would run its handler in
     * user space and interrupt nothing. A call that returns first needs no waking. */
    while (!blocked_in_readiness_wait(plan->selecting_tid, now_seconds() - started)) {
        if (readable_within(plan->returned[0], 0.001))
            return NULL;
        CHECK(now_seconds() - started < 10.0); /* it never got to waiting */
    }
    if (readable_within(plan->returned[0], plan->delay))
        return NULL;
    if (plan->signo == 0)
        CHECK_EQ(sel_wakeup(plan->sel), 0);
    else
        CHECK_EQ(pthread_kill(plan->selecting_thread, plan->signo), 0);
    /* Not readable here means the woken sel_select was still blocked 10 s after the wake. */
    CHECK(readable_within(plan->returned[0], 10.0));
    return NULL;
}

int select_woken_after(sel_selector *sel, double timeout, sel_event *events, size_t max_events,
                       double delay, int signo, double *elapsed) {
    struct wake_plan plan;
    pthread_t helper;
    double started;
    int result;
    plan.sel = sel;
    plan.delay = delay;
    plan.signo = signo;
    plan.selecting_thread = pthread_self();
    plan.selecting_tid = current_thread_id();
    CHECK_EQ(open_pipe(plan.returned), 0);
    CHECK_EQ(pthread_create(&helper, NULL, wake_later, &plan), 0);
    /* The helper's delay starts once the call sleeps, so the call lasts at least `delay`. */
    started = now_seconds();
    result = sel_select(sel, timeout, events, max_events);
    *elapsed = now_seconds() - started;
    write_byte(plan.returned[1]);
    CHECK_EQ(pthread_join(helper, NULL), 0);
    close_pair(plan.returned);
    return result;
}

/* Notes `fd` in fds[count] (when `fds` is not NULL); returns the new count. */
static size_t note_fd(int *fds, size_t cap, size_t count, int fd) {
    if (fds != NULL) {
        CHECK(count < cap);
        fds[count] = fd;
    }
    return count + 1;
}

#if SELECTORS_TEST_LINUX
static int compare_ints(const void *left, const void *right) {
    int a = *(const int *)left, b = *(const int *)right;
    return (a > b) - (a < b);
}

size_t list_open_fds(int *fds, size_t cap) {
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *entry;
    size_t count = 0;
    CHECK(dir != NULL);
    while ((entry = readdir(dir)) != NULL) {
        int fd;
        if (entry->d_name[0] == '.')
            continue;
        fd = atoi(entry->d_name);
        if (fd == dirfd(dir)) /* the listing's own fd, closed again below */
            continue;
        count = note_fd(fds, cap, count, fd);
    }
    CHECK_EQ(closedir(dir), 0);
    if (fds != NULL)
        qsort(fds, count, sizeof *fds, compare_ints);
    return count;
}
#else
/* No portable listing: asks fcntl about every number below the soft RLIMIT_NOFILE. (An fd above
 * it exists only if the limit was lowered after it was opened: the tests that lower it raise it
 * again before anything counts fds.) */
size_t list_open_fds(int *fds, size_t cap) {
    enum { MOST_PROBED = 1 << 20 }; /* for an unlimited soft limit */
    struct rlimit limit;
    rlim_t probed;
    size_t count = 0;
    int fd;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    probed = limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > MOST_PROBED ? MOST_PROBED
                                                                              : limit.rlim_cur;
    for (fd = 0; (rlim_t)fd < probed; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            count = note_fd(fds, cap, count, fd);
    return count;
}
#endif

sel_selector *open_selector_noting_fds(int kind, unsigned flags, int *fds, size_t cap,
                                       size_t *count) {
    enum { MOST_FDS = 4096 };
    static int before[MOST_FDS], after[MOST_FDS];
    size_t before_count = list_open_fds(before, MOST_FDS), after_count, i, j = 0;
    sel_selector *sel = open_selector(kind, flags);
    after_count = list_open_fds(after, MOST_FDS);
    *count = 0;
    for (i = 0; i < after_count; i++) {
        while (j < before_count && before[j] < after[i])
            j++;
        if (j < before_count && before[j] == after[i])
            continue;
        CHECK(*count < cap);
        fds[(*count)++] = after[i];
    }
    return sel;
}

void check_select_waits(sel_selector *sel, double timeout) {
    sel_event events[4];
    double started = now_seconds(), elapsed;
    CHECK_EQ(sel_select(sel, timeout, events, 4), 0);
    elapsed = now_seconds() - started;
    CHECK(elapsed >= timeout);
    CHECK(elapsed < timeout + SLACK_SECONDS);
}

void check_select_woken_at_once(sel_selector *sel) {
    sel_event events[4];
    double started = now_seconds();
    CHECK_EQ(sel_select(sel, 10.0, events, 4), 0);
    CHECK(now_seconds() - started < SLACK_SECONDS);
}

void await_closed(int fd) {
    const struct timespec pause = {0, 10 * 1000 * 1000};
    int waits;
    for (waits = 0; waits < 200 && fcntl(fd, F_GETFD) != -1; waits++)
        nanosleep(&pause, NULL);
}
