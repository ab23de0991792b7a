/*
 * What a documentation fragment may use without declaring it (tests/snippets.rs).
 *
 * A `file` fragment is compiled after this header; a `body` fragment too, as the body of
 *     void snippet(sel_selector *sel, int fd, struct connection *conn)
 * so it may use `sel` (a selector), `fd` (a descriptor) and `conn` (the caller's state for a
 * connection, what a key's data points to). Everything else it uses, it declares.
 */
#ifndef SELECTORS_SNIPPET_CONTEXT_H
#define SELECTORS_SNIPPET_CONTEXT_H

#define _POSIX_C_SOURCE 200809L

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <selectors.h>

/* A connection's state: what the examples register as a key's data. */
struct connection {
    int fd;
};

#endif
