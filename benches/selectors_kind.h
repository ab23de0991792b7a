/* selectors_kind.h — choosing the libselectors kind from the command line, for the programs
 * that bench our library (their first argument is epoll, poll, select, or kqueue for a library
 * built with libkqueue: benches/run --kqueue). */
#ifndef BENCH_SELECTORS_KIND_H
#define BENCH_SELECTORS_KIND_H

#include "common.h"
#include <selectors.h>

/** The SEL_KIND_* named by argv[1], or exit with usage. */
static inline int kind_arg(int argc, char **argv)
{
    static const struct { const char *name; int kind; } kinds[] = {
        {"epoll", SEL_KIND_EPOLL}, {"poll", SEL_KIND_POLL}, {"select", SEL_KIND_SELECT},
        {"kqueue", SEL_KIND_KQUEUE}};
    for (size_t i = 0; argc > 1 && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(argv[1], kinds[i].name) == 0)
            return kinds[i].kind;
    fprintf(stderr, "usage: %s epoll|poll|select|kqueue ...\n", argv[0]);
    exit(2);
}

/** A new selector of that kind, or exit. */
static inline sel_selector *sel_new_or_die(int kind)
{
    sel_selector *sel = sel_new(kind, 0);
    if (sel == NULL)
        die("sel_new");
    return sel;
}

#endif /* BENCH_SELECTORS_KIND_H */
