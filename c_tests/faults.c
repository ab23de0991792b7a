/*
 * Faults and exhaustion: running out of fds at sel_new, epoll's max_user_watches at register,
 * registered fds closed (or reused, or kept alive by a dup) behind the selector's back, a 1 kHz
 * stream of signals during sel_select, and a forked child that closes its inherited selector.
 * In each the library returns a clean error or keeps reporting what the contract says, and the
 * selector stays usable. (sel_wakeup hammered from threads is wakeup.c's
 * many_threads_hammering_wakeup; EMFILE in the echo server's accept is tests/echo_emfile.rs.)
 */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

/* ---- EMFILE at sel_new ------------------------------------------------------------------- */

/* The fds that fill the table, and the limit to restore. */
struct full_fd_table {
    int *fds;
    size_t count;
    struct rlimit saved;
};

/* Lowers the soft RLIMIT_NOFILE to a little above the highest open fd (so filling the table
 * takes few fds, also under valgrind), then opens /dev/null until EMFILE. */
static void fill_fd_table(struct full_fd_table *table) {
    enum { MOST_OPEN = 4096 };
    static int open_fds[MOST_OPEN];
    size_t open_count = list_open_fds(open_fds, MOST_OPEN);
    struct rlimit lowered;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &table->saved), 0);
    /* Valgrind keeps fds of its own above the limit it shows the program: skip them. */
    while (open_count > 0 && (rlim_t)open_fds[open_count - 1] >= table->saved.rlim_cur)
        open_count--;
    CHECK(open_count > 0);
    lowered = table->saved;
    lowered.rlim_cur = (rlim_t)open_fds[open_count - 1] + 1 + 32;
    CHECK(lowered.rlim_cur <= table->saved.rlim_cur);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    /* The numbers below the highest open fd that are free count too. */
    table->fds = calloc((size_t)lowered.rlim_cur, sizeof *table->fds);
    CHECK(table->fds != NULL);
    table->count = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            CHECK_EQ(errno, EMFILE);
            break;
        }
        table->fds[table->count++] = fd;
    }
}

static void free_fds(struct full_fd_table *table, size_t how_many) {
    while (how_many-- > 0) {
        CHECK(table->count > 0);
        CHECK_EQ(close(table->fds[--table->count]), 0);
    }
}

static void empty_fd_table(struct full_fd_table *table) {
    free_fds(table, table->count);
    free(table->fds);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &table->saved), 0);
}

/* How many more fds this process can open now, counting up to `most` (at most 8). */
static int free_fd_count(int most) {
    int taken[8], count = 0, counted;
    CHECK(most <= (int)COUNT_OF(taken));
    while (count < most && (taken[count] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        count++;
    if (count < most)
        CHECK_EQ(errno, EMFILE);
    counted = count;
    while (count > 0)
        CHECK_EQ(close(taken[--count]), 0);
    return counted;
}

/* Checks that `sel` works: a registered socket is reported once its peer writes. */
static void check_usable(sel_selector *sel, const int pair[2]) {
    sel_event events[2];
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    drain_fd(pair[0]);
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
}

/* Contract: sel_new returns NULL with errno EMFILE when the fd table is full, and leaks
 * nothing: with one fd free EPOLL and KQUEUE (which need two or more: the wakeup channel and
 * the epoll set or kqueue, and libkqueue's own) fail and give back the one they took; SELECT
 * and POLL (one fd) succeed. Once fds are free again,
 * sel_new works and its selector is usable; a selector made before the table filled up kept
 * working all along. */
static void emfile_at_sel_new(int kind) {
    struct full_fd_table table;
    sel_selector *before = open_selector(kind, 0), *sel;
    int pair[2];
    make_socketpair(pair);
    fill_fd_table(&table);
    errno = 0;
    CHECK(sel_new(kind, 0) == NULL);
    CHECK_EQ(errno, EMFILE);
    CHECK_EQ(free_fd_count(2), 0);
    check_usable(before, pair);

    free_fds(&table, 1);
    sel = sel_new(kind, 0);
    if (kind == SEL_KIND_EPOLL || kind == SEL_KIND_KQUEUE) {
        CHECK(sel == NULL);
        CHECK_EQ(errno, EMFILE);
        CHECK_EQ(free_fd_count(2), 1);
    } else {
        CHECK(sel != NULL);
        CHECK_EQ(free_fd_count(2), 0);
        check_usable(sel, pair);
        CHECK_EQ(sel_close(sel), 0);
    }

    empty_fd_table(&table);
    sel = open_selector(kind, 0);
    check_usable(sel, pair);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(sel_close(before), 0);
    close_pair(pair);
}

/* ---- epoll's max_user_watches ------------------------------------------------------------ */
#if SELECTORS_TEST_LINUX

static const char watches_path[] = "/proc/sys/fs/epoll/max_user_watches";
static char saved_watches[32];
static volatile sig_atomic_t watches_lowered;

static int write_watches(const char *value) {
    int fd = open(watches_path, O_WRONLY | O_CLOEXEC);
    ssize_t written;
    if (fd < 0)
        return -errno;
    written = write(fd, value, strlen(value));
    close(fd);
    return written == (ssize_t)strlen(value) ? 0 : -EIO;
}

/* Puts the system-wide limit back; also run at exit, so a failed CHECK cannot leave it low. */
static void restore_watches(void) {
    if (watches_lowered) {
        watches_lowered = 0;
        if (write_watches(saved_watches) != 0)
            fprintf(stderr, "could not restore %s to %s", watches_path, saved_watches);
    }
}

/* Lowers max_user_watches to 1 (this user's epoll sets already hold more: every selector
 * watches its wakeup channel), so the next EPOLL_CTL_ADD of this user fails with ENOSPC. The
 * limit is system-wide, so it stays low only around one call. */
static void lower_watches(void) {
    CHECK_EQ(write_watches("1\n"), 0);
    watches_lowered = 1;
}

/* Whether this process may change the limit; prints why not. */
static int watches_writable(void) {
    int fd = open(watches_path, O_RDONLY | O_CLOEXEC);
    ssize_t length;
    int rc;
    if (fd < 0) {
        printf("SKIPPED (not a pass): %s cannot be read: %s\n", watches_path, strerror(errno));
        return 0;
    }
    length = read(fd, saved_watches, sizeof saved_watches - 1);
    close(fd);
    CHECK(length > 0);
    saved_watches[length] = '\0';
    rc = write_watches(saved_watches);
    if (rc != 0) {
        printf("SKIPPED (not a pass): %s is not writable here (%s); run as root\n", watches_path,
               strerror(-rc));
        return 0;
    }
    return 1;
}

/* Contract: when the kernel refuses a registration, nothing is recorded. With max_user_watches
 * reached, sel_register on EPOLL returns -ENOSPC, the fd is not in the map, and the same
 * register succeeds once the limit is back; sel_new (whose wakeup channel is a watch too)
 * returns NULL with errno ENOSPC and leaks no fd (the harness counts them). */
static void enospc_at_register_on_epoll(int kind) {
    sel_selector *sel, *refused;
    sel_event events[2];
    int pair[2], rc, new_errno;
    (void)kind;
    if (!watches_writable())
        return;
    CHECK_EQ(atexit(restore_watches), 0);
    sel = open_selector(SEL_KIND_EPOLL, 0);
    make_socketpair(pair);

    lower_watches();
    rc = sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL);
    restore_watches();
    CHECK_EQ(rc, -ENOSPC);
    CHECK_EQ(sel_get_key(sel, pair[0], NULL), -ENOENT);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 0);

    lower_watches();
    refused = sel_new(SEL_KIND_EPOLL, 0);
    new_errno = errno;
    restore_watches();
    CHECK(refused == NULL);
    CHECK_EQ(new_errno, ENOSPC);

    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}
#endif

/* ---- fds changed behind the selector's back ---------------------------------------------- */

/* Contract: a registered fd closed behind the selector's back leaves the selector usable for
 * the others. SELECT fails every call with -EBADF until the fd is unregistered, then reports
 * the others again; POLL reports the closed fd (POLLNVAL: its interest, READ here) beside the
 * others; EPOLL reports only the others. (readiness.c's closed_behind_the_back has the closed
 * fd alone.) */
static void closed_fd_leaves_the_others_reported(int kind) {
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int closed[2], live[2], count;
    make_socketpair(closed);
    make_socketpair(live);
    CHECK_EQ(sel_register(sel, closed[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_register(sel, live[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(live[1]);
    CHECK_EQ(close(closed[0]), 0);
    count = sel_select(sel, 0, events, 4);
    switch (kind) {
    case SEL_KIND_SELECT:
        CHECK_EQ(count, -EBADF);
        CHECK_EQ(sel_select(sel, 0, events, 4), -EBADF);
        break;
    case SEL_KIND_POLL:
        CHECK_EQ(count, 2);
        CHECK(find_event(events, count, closed[0]) != NULL);
        CHECK_EQ(find_event(events, count, closed[0])->mask, SEL_EVENT_READ);
        CHECK(find_event(events, count, live[0]) != NULL);
        break;
    default:
        CHECK_EQ(count, 1);
        CHECK_EQ(events[0].key.fd, live[0]);
        break;
    }
    CHECK_EQ(sel_unregister(sel, closed[0], NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, live[0]);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(closed[1]), 0);
    close_pair(live);
}

/* Before sel_unregister, a closed registered number that now holds another file: SELECT and
 * POLL watch numbers and report the new file under the old key; EPOLL watched the old file,
 * which is gone, and reports nothing; KQUEUE neither: close() deleted the number's filters (on
 * libkqueue, which does not see the close, its epoll set dropped the closed file). */
static void reused_number_before_unregister(int kind) {
    static int old_data;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int old_pair[2], new_pair[2], number;
    make_socketpair(old_pair);
    make_socketpair(new_pair);
    number = old_pair[0];
    CHECK_EQ(sel_register(sel, number, SEL_EVENT_READ, &old_data, NULL), 0);
    CHECK_EQ(close(number), 0);
    CHECK_EQ(dup2(new_pair[0], number), number);
    write_byte(new_pair[1]);
    if (kind == SEL_KIND_EPOLL || kind == SEL_KIND_KQUEUE) {
        CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    } else {
        CHECK_EQ(sel_select(sel, 0, events, 4), 1);
        CHECK_EQ(events[0].key.fd, number);
        CHECK(events[0].key.data == &old_data);
        CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    }
    CHECK_EQ(sel_unregister(sel, number, NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(number), 0);
    CHECK_EQ(close(old_pair[1]), 0);
    close_pair(new_pair);
}

/* A registered fd closed while a dup keeps its file open: SELECT fails with -EBADF and POLL
 * reports POLLNVAL, as for any closed fd; EPOLL watches the file, which the kernel has not
 * dropped (man 7 epoll, Q6), so it keeps reporting the file's readiness under the key. After
 * sel_unregister no kind reports it (on EPOLL the kernel entry stays, as EPOLL_CTL_DEL cannot
 * name it any more; its events are dropped). */
static void closed_fd_kept_open_by_a_dup(int kind) {
    static int data;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[4];
    int pair[2], keeper, count;
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, &data, NULL), 0);
    keeper = dup(pair[0]);
    CHECK(keeper >= 0);
    CHECK_EQ(close(pair[0]), 0);
    write_byte(pair[1]);
    count = sel_select(sel, 0, events, 4);
    if (kind == SEL_KIND_SELECT) {
        CHECK_EQ(count, -EBADF);
    } else {
        CHECK_EQ(count, 1);
        CHECK_EQ(events[0].key.fd, pair[0]);
        CHECK(events[0].key.data == &data);
        CHECK_EQ(events[0].mask, SEL_EVENT_READ);
    }
    CHECK_EQ(sel_unregister(sel, pair[0], NULL), 0);
    CHECK_EQ(sel_select(sel, 0, events, 4), 0);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(keeper), 0);
    CHECK_EQ(close(pair[1]), 0);
}

/* ---- signals at 1 kHz -------------------------------------------------------------------- */

static volatile sig_atomic_t ticks;

static void on_tick(int signo) {
    (void)signo;
    ticks++;
}

/* SIGALRM every millisecond, with a handler installed without SA_RESTART (or stopped, for
 * `period` 0). */
static void tick_every(double period) {
    struct itimerval timer;
    memset(&timer, 0, sizeof timer);
    timer.it_interval.tv_usec = (suseconds_t)(period * 1e6);
    timer.it_value = timer.it_interval;
    catch_signal(SIGALRM, on_tick);
    CHECK_EQ(setitimer(ITIMER_REAL, &timer, NULL), 0);
}

/* How late a wait interrupted a thousand times a second may end: retries must not add up. */
#define LATE_SECONDS 0.5

/* Contract (PEP 475): interrupted waits are retried with the time left. Under a 1 kHz itimer,
 * sel_select never returns early and never much late, for timeouts below, at and far above the
 * signal period; the signals really did interrupt the longest wait many times. */
static void timeouts_hold_under_1khz_signals(int kind) {
    static const double timeouts[] = {0.0005, 0.0015, 0.05, 0.3};
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    int pair[2];
    size_t t;
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    tick_every(0.001);
    for (t = 0; t < COUNT_OF(timeouts); t++) {
        int ticks_before = ticks;
        double started = now_seconds(), elapsed;
        CHECK_EQ(sel_select(sel, timeouts[t], events, 2), 0);
        elapsed = now_seconds() - started;
        CHECK(elapsed >= timeouts[t]);
        CHECK(elapsed < timeouts[t] + LATE_SECONDS);
        if (timeouts[t] >= 0.3)
            CHECK(ticks - ticks_before >= 30);
    }
    tick_every(0);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

/* Writes one byte to the fd it is given, 50 ms after it starts (resuming after signals). */
static void *write_later(void *fd) {
    struct timespec delay = {0, 50 * 1000 * 1000};
    while (nanosleep(&delay, &delay) != 0)
        CHECK_EQ(errno, EINTR);
    write_byte(*(int *)fd);
    return NULL;
}

/* Under a 1 kHz itimer, an fd that becomes ready ends a long wait promptly; with
 * SEL_FLAG_EINTR the first signal ends it with -EINTR. */
static void readiness_and_eintr_under_1khz_signals(int kind) {
    sel_selector *sel = open_selector(kind, 0), *reporting = open_selector(kind, SEL_FLAG_EINTR);
    sel_event events[2];
    pthread_t writer;
    int pair[2];
    double started;
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    CHECK_EQ(sel_register(reporting, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    tick_every(0.001);
    started = now_seconds();
    CHECK_EQ(pthread_create(&writer, NULL, write_later, &pair[1]), 0);
    CHECK_EQ(sel_select(sel, 10.0, events, 2), 1);
    CHECK(now_seconds() - started < 0.05 + LATE_SECONDS);
    CHECK_EQ(pthread_join(writer, NULL), 0);
    drain_fd(pair[0]);
    started = now_seconds();
    CHECK_EQ(sel_select(reporting, 10.0, events, 2), -EINTR);
    CHECK(now_seconds() - started < LATE_SECONDS);
    tick_every(0);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(sel_close(reporting), 0);
    close_pair(pair);
}

/* ---- fork -------------------------------------------------------------------------------- */

/* In a child: closes the inherited selector without using it, makes a new one of the same
 * kind, registers a socket of its own and selects. Exits 0 if all of that worked. */
static void child_replaces_its_selector(sel_selector *inherited, int kind) {
    sel_event events[2];
    sel_selector *own;
    int pair[2];
    CHECK_EQ(sel_close(inherited), 0);
    own = open_selector(kind, 0);
    make_socketpair(pair);
    CHECK_EQ(sel_register(own, pair[0], SEL_EVENT_READ, NULL, NULL), 0);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(own, 1.0, events, 2), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK_EQ(sel_close(own), 0);
    _exit(0);
}

/* A forked child may close its copy of the parent's selector and make its own: sel_close
 * touches only the child's fds, so the parent's registrations are intact (map, data) and
 * working (readiness and sel_wakeup), on EPOLL too, whose kernel set the two processes share
 * until the child's copy is closed. */
static void child_closing_its_copy_leaves_the_parent_intact(int kind) {
    static int data;
    sel_selector *sel = open_selector(kind, 0);
    sel_event events[2];
    sel_key key;
    int pair[2], status;
    pid_t child;
    make_socketpair(pair);
    CHECK_EQ(sel_register(sel, pair[0], SEL_EVENT_READ, &data, NULL), 0);
    child = fork();
    CHECK(child >= 0);
    if (child == 0)
        child_replaces_its_selector(sel, kind);
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 1);
    CHECK_EQ(sel_get_key(sel, pair[0], &key), 0);
    CHECK(key.data == &data);
    check_select_waits(sel, 0.05);
    write_byte(pair[1]);
    CHECK_EQ(sel_select(sel, 1.0, events, 2), 1);
    CHECK_EQ(events[0].key.fd, pair[0]);
    CHECK(events[0].key.data == &data);
    drain_fd(pair[0]);
    CHECK_EQ(sel_wakeup(sel), 0);
    check_select_woken_at_once(sel);
    CHECK_EQ(sel_close(sel), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"emfile_at_sel_new", emfile_at_sel_new, PER_KIND},
    LINUX_ONLY_CASE(enospc_at_register_on_epoll, ONCE),
    {"closed_fd_leaves_the_others_reported", closed_fd_leaves_the_others_reported, PER_KIND},
    {"reused_number_before_unregister", reused_number_before_unregister, PER_KIND},
    {"closed_fd_kept_open_by_a_dup", closed_fd_kept_open_by_a_dup, PER_KIND},
    {"timeouts_hold_under_1khz_signals", timeouts_hold_under_1khz_signals, PER_KIND},
    {"readiness_and_eintr_under_1khz_signals", readiness_and_eintr_under_1khz_signals,
     PER_KIND},
    {"child_closing_its_copy_leaves_the_parent_intact",
     child_closing_its_copy_leaves_the_parent_intact, PER_KIND},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
