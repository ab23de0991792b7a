/* Fixtures shared by the C tests (see fixtures.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "fixtures.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
