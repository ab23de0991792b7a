/* echo_server_mt.c — a multi-threaded echo server on libselectors: one selector per thread.
 *
 * Every thread has its own listening socket bound to the same port with SO_REUSEPORT, so the
 * kernel spreads new connections over the threads and no state is shared between them (a
 * selector is used by one thread at a time, as the contract asks). Each connection echoes what
 * it reads; when the socket takes only part of it, the rest is kept and the registration is
 * switched to WRITE (sel_modify) until it is flushed, then back to READ — no byte is dropped.
 *
 * Usage: echo_server_mt [port] [threads]   (port 0, the default, picks a free port; 2 threads)
 * Prints "Echo server running on localhost:PORT" once every thread is listening.
 * Build: cc -std=c99 -O2 echo_server_mt.c -Iinclude -Ltarget/release -lselectors -pthread */
#define _GNU_SOURCE /* accept4, SO_REUSEPORT */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <selectors.h>

#define MAX_THREADS 64
#define MAX_EVENTS 256
#define BUF_SIZE 16384 /* bytes read per event; also the most a connection keeps unsent */

/** One client connection and the bytes it still has to send back. */
struct conn {
    int fd;
    size_t off, len; /* buf[off..len) is pending */
    char buf[BUF_SIZE];
};

/** Print what failed and exit: the example has no recovery path for setup errors. */
static void die(const char *what, int err)
{
    fprintf(stderr, "echo_server_mt: %s: %s\n", what, strerror(err));
    exit(1);
}

/** A non-blocking listening socket on 127.0.0.1:port that shares the port with its siblings. */
static int listen_on(int port)
{
    int one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0)
        die("listen", errno);
    return fd;
}

/** The port a socket is bound to (to learn what port 0 picked). */
static int port_of(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        die("getsockname", errno);
    return ntohs(addr.sin_port);
}

/** Close a connection: unregister first (the selector never closes fds itself). */
static void drop(sel_selector *sel, struct conn *c)
{
    sel_unregister(sel, c->fd, NULL);
    close(c->fd);
    free(c);
}

/** Write what is pending; switch the registration to WRITE while some remains, back to READ
 * once it is all sent. `was_writing` says which interest is registered now. */
static void flush(sel_selector *sel, struct conn *c, int was_writing)
{
    while (c->off < c->len) {
        ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
        if (n < 0 && errno == EAGAIN) {
            if (!was_writing && sel_modify(sel, c->fd, SEL_EVENT_WRITE, c, NULL) < 0)
                drop(sel, c);
            return;
        }
        if (n < 0) {
            drop(sel, c);
            return;
        }
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    if (was_writing && sel_modify(sel, c->fd, SEL_EVENT_READ, c, NULL) < 0)
        drop(sel, c);
}

/** A connection is ready: flush its pending bytes, or read new ones and echo them. */
static void on_ready(sel_selector *sel, struct conn *c)
{
    if (c->len > 0) {
        flush(sel, c, 1);
        return;
    }
    ssize_t n = read(c->fd, c->buf, sizeof c->buf);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        drop(sel, c);
        return;
    }
    c->len = (size_t)n;
    flush(sel, c, 0);
}

/** Accept every pending connection and register it for READ. */
static void on_accept(sel_selector *sel, int listen_fd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: nothing more pending; other errors: the client is gone */
        struct conn *c = malloc(sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->off = c->len = 0;
        if (sel_register(sel, fd, SEL_EVENT_READ, c, NULL) < 0) {
            close(fd);
            free(c);
        }
    }
}

/** A thread's loop: its own selector over its own listening socket (data NULL marks it). */
static void *serve(void *arg)
{
    int listen_fd = (int)(intptr_t)arg;
    sel_selector *sel = sel_new(SEL_KIND_DEFAULT, 0);
    if (sel == NULL)
        die("sel_new", errno);
    int rc = sel_register(sel, listen_fd, SEL_EVENT_READ, NULL, NULL);
    if (rc < 0)
        die("sel_register", -rc);
    for (;;) {
        sel_event events[MAX_EVENTS];
        int n = sel_select(sel, -1.0, events, MAX_EVENTS);
        if (n < 0)
            die("sel_select", -n);
        for (int i = 0; i < n; i++) {
            if (events[i].key.data == NULL)
                on_accept(sel, listen_fd);
            else
                on_ready(sel, events[i].key.data);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (port < 0 || port > 65535 || threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "usage: %s [port] [threads 1..%d]\n", argv[0], MAX_THREADS);
        return 2;
    }
    /* Bind every socket before any thread runs, so the port is ready when we announce it. */
    int listen_fds[MAX_THREADS];
    listen_fds[0] = listen_on(port);
    port = port_of(listen_fds[0]);
    for (int i = 1; i < threads; i++)
        listen_fds[i] = listen_on(port);

    pthread_t tids[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        int rc = pthread_create(&tids[i], NULL, serve, (void *)(intptr_t)listen_fds[i]);
        if (rc != 0)
            die("pthread_create", rc);
    }
    printf("Echo server running on localhost:%d\n", port);
    fflush(stdout);
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    return 0;
}
