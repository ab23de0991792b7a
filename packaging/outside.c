/*
 * A program from outside the source tree, as a C user writes it: it knows libselectors only
 * through the installed header and pkg-config. `make package-test` builds it with
 * `cc $(pkg-config --cflags --libs selectors)`, with CMake and statically, and runs it.
 *
 * It waits for a pipe to become readable and checks the entry it gets back; exit status 0
 * means the installed header and library agree with each other and with the contract.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <selectors.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reports a failed call; `rc` is a negative errno value, as the library returns them. */
static int fail(const char *what, int rc) {
    fprintf(stderr, "outside: %s: %s\n", what, strerror(-rc));
    return 1;
}

int main(void) {
    static const char message[] = "ready";
    sel_event events[4];
    int pipe_fds[2];
    int rc;
    sel_selector *sel = sel_new(SEL_KIND_DEFAULT, 0);
    if (sel == NULL)
        return fail("sel_new", -errno);
    if (pipe(pipe_fds) != 0)
        return fail("pipe", -errno);
    rc = sel_register(sel, pipe_fds[0], SEL_EVENT_READ, (void *)message, NULL);
    if (rc < 0)
        return fail("sel_register", rc);
    if (write(pipe_fds[1], "x", 1) != 1)
        return fail("write", -errno);
    rc = sel_select(sel, 5.0, events, 4);
    if (rc < 0)
        return fail("sel_select", rc);
    if (rc != 1 || events[0].key.fd != pipe_fds[0] || events[0].mask != SEL_EVENT_READ ||
        events[0].key.data != message) {
        fprintf(stderr, "outside: sel_select returned %d entries, not the pipe's one\n", rc);
        return 1;
    }
    printf("%s: %s\n", sel_kind_name(sel_kind_of(sel)), (const char *)events[0].key.data);
    sel_unregister(sel, pipe_fds[0], NULL);
    sel_close(sel);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return 0;
}
