/*
 * Scale: POLL and EPOLL hold as many fds as the process may open (RLIMIT_NOFILE, raised to the
 * hard limit), SELECT every fd below FD_SETSIZE and none at or above it; one call reports every
 * ready fd when the buffer is big enough, and a one-entry buffer starves none of them.
 */
#include "platform.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "selectors.h"

/* Fds left free after filling the fd table: the harness's /proc listing, and spare. The
 * selector's own fds are opened before the table is filled. */
#define HEADROOM 8

/* Pipes, ends[i][0] reading and ends[i][1] writing: an empty pipe's write end is writable and
 * its read end is not, so "which fds are ready" is known exactly. */
struct pipe_set {
    int (*ends)[2];
    size_t count;
};

/* Opens non-blocking pipes until the process runs out of fds (EMFILE), then closes a few so
 * HEADROOM fds are free; or opens them only while both ends stay below fd `below` (the pipe that
 * reaches it is closed again). */
static struct pipe_set open_pipes_until(long limit, int below) {
    struct pipe_set set;
    set.count = 0;
    set.ends = calloc((size_t)limit / 2 + 1, sizeof *set.ends);
    CHECK(set.ends != NULL);
    for (;;) {
        int *ends = set.ends[set.count];
        if (open_pipe(ends) != 0) {
            CHECK_EQ(errno, EMFILE);
            for (int freed = 0; freed < HEADROOM && set.count > 0; freed += 2)
                close_pair(set.ends[--set.count]);
            break;
        }
        if (ends[0] >= below || ends[1] >= below) {
            close_pair(ends);
            break;
        }
        set.count++;
    }
    return set;
}

static void close_pipes(struct pipe_set *set) {
    size_t i;
    for (i = 0; i < set->count; i++)
        close_pair(set->ends[i]);
    free(set->ends);
}

/* Registers every read end for READ and every write end for WRITE, each with its pipe as data. */
static void register_pipes(sel_selector *sel, const struct pipe_set *set) {
    size_t i;
    for (i = 0; i < set->count; i++) {
        CHECK_EQ(sel_register(sel, set->ends[i][0], SEL_EVENT_READ, set->ends[i], NULL), 0);
        CHECK_EQ(sel_register(sel, set->ends[i][1], SEL_EVENT_WRITE, set->ends[i], NULL), 0);
    }
}

/* The index in `set` of the pipe whose write end `event` reports; checks that it is one and
 * that it is reported as writable, with its key. */
static size_t writable_end_index(const struct pipe_set *set, const sel_event *event) {
    int(*ends)[2] = event->key.data;
    size_t index;
    CHECK(ends >= set->ends && ends < set->ends + set->count);
    index = (size_t)(ends - set->ends);
    CHECK_EQ(event->key.fd, set->ends[index][1]);
    CHECK_EQ(event->key.events, SEL_EVENT_WRITE);
    CHECK_EQ(event->mask, SEL_EVENT_WRITE);
    return index;
}

/* libkqueue's kevent() returns at most this many reports per call (its MAX_KEVENT); the BSD
 * kernels return as many as the event list holds. */
#define LIBKQUEUE_MOST_REPORTS 512

/* Contract: one call with room for every ready fd reports them all, one entry per fd.
 * On libkqueue one call reports at most LIBKQUEUE_MOST_REPORTS fds, and the next calls the
 * others (its epoll set hands out ready fds in turn): every ready fd within as many calls as
 * it takes to report them all that way, plus one. */
static void check_one_call_reports_every_ready_fd(int kind, sel_selector *sel,
                                                  const struct pipe_set *set) {
    size_t room = 2 * set->count, unseen = set->count, calls = 0;
    size_t most_calls = 1, most_per_call = set->count;
    sel_event *events = calloc(room, sizeof *events);
    unsigned char *seen = calloc(set->count, 1);
    CHECK(events != NULL && seen != NULL);
    if (ON_LIBKQUEUE(kind)) {
        most_per_call = LIBKQUEUE_MOST_REPORTS;
        most_calls = (set->count + most_per_call - 1) / most_per_call + 1;
    }
    for (calls = 0; unseen > 0 && calls < most_calls; calls++) {
        unsigned char *seen_now = calloc(set->count, 1);
        int count = sel_select(sel, 1.0, events, room), i;
        CHECK(seen_now != NULL);
        CHECK_EQ(count, set->count < most_per_call ? set->count : most_per_call);
        for (i = 0; i < count; i++) {
            size_t index = writable_end_index(set, &events[i]);
            CHECK(!seen_now[index]); /* one entry per fd */
            seen_now[index] = 1;
            unseen -= !seen[index];
            seen[index] = 1;
        }
        free(seen_now);
    }
    CHECK_EQ(unseen, 0);
    free(events);
    free(seen);
}

/* Unregisters both ends of every pipe whose index is not a multiple of `stride`. */
static void unregister_all_but_every(sel_selector *sel, const struct pipe_set *set, size_t stride) {
    size_t i;
    for (i = 0; i < set->count; i++) {
        if (i % stride == 0)
            continue;
        CHECK_EQ(sel_unregister(sel, set->ends[i][0], NULL), 0);
        CHECK_EQ(sel_unregister(sel, set->ends[i][1], NULL), 0);
    }
}

/* Contract: with a one-entry buffer, later calls report the rest: each registered write end
 * (those of the pipes at multiples of `stride`, from `first` on) comes up within twice as many
 * calls as there are ready fds (a fair rotation needs exactly as many), and no unregistered one
 * ever does. */
static void check_one_entry_buffer_starves_none(sel_selector *sel, const struct pipe_set *set,
                                                size_t stride, size_t first) {
    unsigned char *seen = calloc(set->count, 1);
    size_t ready = 0, unseen, calls, i;
    CHECK(seen != NULL);
    for (i = first; i < set->count; i += stride)
        ready++;
    unseen = ready;
    for (calls = 0; unseen > 0 && calls < 2 * ready; calls++) {
        sel_event event;
        size_t index;
        CHECK_EQ(sel_select(sel, 1.0, &event, 1), 1);
        index = writable_end_index(set, &event);
        CHECK(index >= first && index % stride == 0);
        if (!seen[index]) { /* a repeat is allowed, as long as every fd comes up in time */
            seen[index] = 1;
            unseen--;
        }
    }
    CHECK_EQ(unseen, 0);
    free(seen);
}

/* Contract ("Scale"): POLL, EPOLL and KQUEUE hold as many fds as the process may open, with no limit of
 * their own; SELECT holds every fd below FD_SETSIZE. With all of them registered, sel_get_map
 * counts them and one call reports every ready one. Then, with nine pipes in ten unregistered
 * (poll moves its entries around), the keys left are intact and a one-entry buffer starves none
 * of them. (The rotation runs over a tenth of the set: poll scans every registered fd on each
 * call, so a full-size rotation costs seconds of kernel time and proves nothing more.) */
static void holds_every_fd_the_process_may_open(int kind) {
    enum { STRIDE = 10 };
    long limit = raise_fd_limit();
    /* Made first, so its own fds do not count against the headroom. */
    sel_selector *sel = open_selector(kind, 0);
    struct pipe_set set =
        open_pipes_until(limit, kind == SEL_KIND_SELECT ? FD_SETSIZE : (int)limit);
    register_pipes(sel, &set);
    if (kind == SEL_KIND_SELECT)
        CHECK(set.ends[set.count - 1][1] >= FD_SETSIZE - 2); /* up to the last slot or so */
    else
        CHECK(2 * (long)set.count >= limit - HEADROOM - 64); /* nearly the whole fd table */
    CHECK_EQ(sel_get_map(sel, NULL, 0), 2 * set.count);
    check_one_call_reports_every_ready_fd(kind, sel, &set);
    unregister_all_but_every(sel, &set, STRIDE);
    CHECK_EQ(sel_get_map(sel, NULL, 0), 2 * ((set.count + STRIDE - 1) / STRIDE));
    check_one_entry_buffer_starves_none(sel, &set, STRIDE, 0);
    /* Once more with one ready fd fewer: a rotation that loses every other event starves half
     * the fds only when the count is even, so try both parities. */
    CHECK_EQ(sel_unregister(sel, set.ends[0][0], NULL), 0);
    CHECK_EQ(sel_unregister(sel, set.ends[0][1], NULL), 0);
    check_one_entry_buffer_starves_none(sel, &set, STRIDE, STRIDE);
    CHECK_EQ(sel_close(sel), 0);
    close_pipes(&set);
}

/* Contract: SELECT refuses fd >= FD_SETSIZE with -EINVAL at sel_register and records nothing
 * (CPython's ValueError; an fd_set has no room for it), while FD_SETSIZE - 1 registers and is
 * reported. */
static void select_refuses_fds_from_fd_setsize(int kind) {
    static const int refused[] = {FD_SETSIZE, FD_SETSIZE + 5};
    sel_selector *sel = open_selector(SEL_KIND_SELECT, 0);
    sel_event events[4];
    int pair[2], highest = FD_SETSIZE - 1;
    size_t r;
    (void)kind;
    raise_fd_limit();
    CHECK_EQ(open_pipe(pair), 0);
    CHECK_EQ(dup2(pair[1], highest), highest);
    CHECK_EQ(sel_register(sel, highest, SEL_EVENT_WRITE, NULL, NULL), 0);
    for (r = 0; r < COUNT_OF(refused); r++) {
        CHECK_EQ(dup2(pair[1], refused[r]), refused[r]);
        CHECK_EQ(sel_register(sel, refused[r], SEL_EVENT_WRITE, NULL, NULL), -EINVAL);
        CHECK_EQ(sel_get_key(sel, refused[r], NULL), -ENOENT);
        CHECK_EQ(close(refused[r]), 0);
    }
    CHECK_EQ(sel_get_map(sel, NULL, 0), 1);
    CHECK_EQ(sel_select(sel, 1.0, events, 4), 1);
    CHECK_EQ(events[0].key.fd, highest);
    CHECK_EQ(events[0].mask, SEL_EVENT_WRITE);
    CHECK_EQ(sel_close(sel), 0);
    CHECK_EQ(close(highest), 0);
    close_pair(pair);
}

static const struct test_case cases[] = {
    {"holds_every_fd_the_process_may_open", holds_every_fd_the_process_may_open, PER_KIND},
    {"select_refuses_fds_from_fd_setsize", select_refuses_fds_from_fd_setsize, ONCE},
};

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
