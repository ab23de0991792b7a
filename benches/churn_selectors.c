/* churn_selectors.c — registration churn and memory on libselectors through its C API, for one
 * selector kind (epoll, poll, select, or kqueue through libkqueue). One kernel call per change,
 * made at once. */
#include "churn.h"
#include "selectors_kind.h"

/* The kind named on the command line, read by sel_open. */
static int the_kind;

static void check(const char *what, int rc)
{
    if (rc < 0)
        fail(what, rc);
}

static void sel_open(struct churn *c)
{
    c->loop = sel_new_or_die(the_kind);
}

static void sel_register_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        check("sel_register", sel_register(c->loop, c->fd[i], SEL_EVENT_READ, NULL, NULL));
}

static void sel_modify_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        check("sel_modify",
              sel_modify(c->loop, c->fd[i], SEL_EVENT_READ | SEL_EVENT_WRITE, NULL, NULL));
}

static void sel_unregister_all(struct churn *c)
{
    for (int i = 0; i < c->m; i++)
        check("sel_unregister", sel_unregister(c->loop, c->fd[i], NULL));
}

static void sel_flush(struct churn *c)
{
    sel_event ev;
    int n = sel_select(c->loop, 0.0, &ev, 1);
    if (n != 0)
        fail("sel_select reported an idle fd or failed", n);
}

static void sel_close_loop(struct churn *c)
{
    check("sel_close", sel_close(c->loop));
}

/** Usage: churn_selectors KIND churn M ROUNDS | churn_selectors KIND mem M */
int main(int argc, char **argv)
{
    static const struct churn_peer peer = {sel_open,           sel_register_all,
                                           sel_modify_all,     sel_unregister_all,
                                           sel_flush,          sel_close_loop};
    the_kind = kind_arg(argc, argv);
    argv[1] = argv[0];
    return churn_main(argc - 1, argv + 1, &peer);
}
