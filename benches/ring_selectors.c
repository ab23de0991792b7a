/* ring_selectors.c — the pipe ring on libselectors through its C API, for one selector kind
 * (epoll, poll, select, or kqueue through libkqueue). Every change is one kernel call made at
 * once (no deferral): the contract reports registration errors from sel_register itself. */
#include "ring.h"
#include "selectors_kind.h"

/* Entries fetched per sel_select; more than the A = 100 bytes in flight. */
#define MAX_EVENTS 256

/* The kind named on the command line, read by sel_open. */
static int the_kind;

static void arm(struct ring *r, int idx)
{
    int rc = sel_register(r->loop, r->rfd[idx], SEL_EVENT_READ, (void *)(intptr_t)idx, NULL);
    if (rc < 0)
        fail("sel_register", rc);
}

static void sel_open(struct ring *r)
{
    r->loop = sel_new_or_die(the_kind);
    for (int i = 0; i < r->n; i++)
        arm(r, i);
}

static void sel_reregister_all(struct ring *r)
{
    for (int i = 0; i < r->n; i++) {
        int rc = sel_unregister(r->loop, r->rfd[i], NULL);
        if (rc < 0)
            fail("sel_unregister", rc);
        arm(r, i);
    }
}

static void sel_run_once(struct ring *r)
{
    sel_event evs[MAX_EVENTS];
    int n = sel_select(r->loop, -1.0, evs, MAX_EVENTS);
    if (n < 0)
        fail("sel_select", n);
    for (int i = 0; i < n; i++)
        ring_on_readable(r, (int)(intptr_t)evs[i].key.data);
}

static void sel_close_loop(struct ring *r)
{
    sel_close(r->loop);
}

/** Usage: ring_selectors KIND N ACTIVE WRITES ROUNDS   (KIND: epoll, poll, select, kqueue) */
int main(int argc, char **argv)
{
    static const struct ring_peer peer = {sel_open, sel_reregister_all, sel_run_once,
                                          sel_close_loop};
    the_kind = kind_arg(argc, argv);
    argv[1] = argv[0];
    return ring_main(argc - 1, argv + 1, &peer);
}
