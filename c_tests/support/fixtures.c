/* Fixtures shared by the C tests (see fixtures.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "fixtures.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

sel_selector *open_selector(int kind, unsigned flags) {
    sel_selector *sel = sel_new(kind, flags);
    CHECK(sel != NULL);
    return sel;
}

void make_socketpair(int fds[2]) {
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
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

long raise_fd_limit(void) {
    struct rlimit limit;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    limit.rlim_cur = limit.rlim_max;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    return (long)limit.rlim_cur;
}

static struct timespec timespec_of(double seconds) {
    struct timespec span;
    span.tv_sec = (time_t)seconds;
    span.tv_nsec = (long)((seconds - (double)span.tv_sec) * 1e9);
    return span;
}

void sleep_seconds(double seconds) {
    struct timespec left = timespec_of(seconds);
    while (nanosleep(&left, &left) != 0)
        CHECK_EQ(errno, EINTR);
}

void catch_signal(int signo, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    action.sa_flags = 0; /* no SA_RESTART: interrupted calls fail with EINTR */
    CHECK_EQ(sigemptyset(&action.sa_mask), 0);
    CHECK_EQ(sigaction(signo, &action, NULL), 0);
}

void start_alarm(double seconds) {
    struct itimerval timer;
    struct timespec span = timespec_of(seconds);
    memset(&timer, 0, sizeof timer); /* it_interval 0: one shot */
    timer.it_value.tv_sec = span.tv_sec;
    timer.it_value.tv_usec = span.tv_nsec / 1000;
    CHECK_EQ(setitimer(ITIMER_REAL, &timer, NULL), 0);
}

/* What the helper thread of select_woken_after does, and the pipe that says the call returned. */
struct wake_plan {
    sel_selector *sel;
    double delay;
    int signo;
    pthread_t selecting_thread;
    int returned[2];
};

static void *wake_later(void *arg) {
    const struct wake_plan *plan = arg;
    struct pollfd returned;
    int ready;
    sleep_seconds(plan->delay);
    if (plan->signo == 0)
        CHECK_EQ(sel_wakeup(plan->sel), 0);
    else
        CHECK_EQ(pthread_kill(plan->selecting_thread, plan->signo), 0);
    returned.fd = plan->returned[0];
    returned.events = POLLIN;
    returned.revents = 0;
    do
        ready = poll(&returned, 1, 10000);
    while (ready < 0 && errno == EINTR);
    /* 0 here means the woken sel_select was still blocked 10 s after the wake. */
    CHECK_EQ(ready, 1);
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
    CHECK_EQ(pipe2(plan.returned, O_CLOEXEC), 0);
    /* Started before the helper, so the measured wait covers the whole delay. */
    started = now_seconds();
    CHECK_EQ(pthread_create(&helper, NULL, wake_later, &plan), 0);
    result = sel_select(sel, timeout, events, max_events);
    *elapsed = now_seconds() - started;
    write_byte(plan.returned[1]);
    CHECK_EQ(pthread_join(helper, NULL), 0);
    close_pair(plan.returned);
    return result;
}

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
        CHECK(count < cap);
        fds[count++] = fd;
    }
    CHECK_EQ(closedir(dir), 0);
    qsort(fds, count, sizeof *fds, compare_ints);
    return count;
}

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
