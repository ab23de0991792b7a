/* dispatch_c.c — the select-and-dispatch loop on the C API (see dispatch.h). */
#include <selectors.h>

#include "dispatch.h"

/* DISPATCH_ROUNDS polls of DISPATCH_FDS ready fds, each entry's handler called through its
 * data; benches/wrapper_overhead counts the instructions of this function with callgrind. */
__attribute__((noinline)) void run_loop_c(sel_selector *sel) {
    sel_event events[DISPATCH_FDS];
    int round, i;
    for (round = 0; round < DISPATCH_ROUNDS; round++) {
        int ready = sel_select(sel, 0, events, DISPATCH_FDS);
        if (ready < 0) {
            fprintf(stderr, "sel_select: %s\n", sel_strerror(ready));
            exit(1);
        }
        for (i = 0; i < ready; i++) {
            struct handler *target = (struct handler *)events[i].key.data;
            target->on_ready(target, events[i].mask);
        }
    }
}

int main(void) {
    struct handler handlers[DISPATCH_FDS];
    int fds[DISPATCH_FDS], i;
    sel_selector *sel = sel_new(SEL_KIND_DEFAULT, 0);
    if (sel == NULL) {
        perror("sel_new");
        return 1;
    }
    make_ready_fds(fds);
    for (i = 0; i < DISPATCH_FDS; i++) {
        handlers[i].on_ready = count_call;
        handlers[i].calls = 0;
        if (sel_register(sel, fds[i], SEL_EVENT_READ, &handlers[i], NULL) != 0)
            return 1;
    }
    run_loop_c(sel);
    check_calls(handlers, "C");
    sel_close(sel);
    return 0;
}
