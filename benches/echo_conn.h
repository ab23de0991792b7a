/* echo_conn.h — what every C echo server of the benchmark shares: the listening socket, the
 * startup line, and the buffering of one connection.
 *
 * A connection reads what is there, writes it back, and when the socket takes only part of it
 * keeps the rest and asks for WRITE interest until it is flushed, then READ again (the seed's
 * echo example loses data here; ours must not). Each peer only maps "want READ / want WRITE /
 * close" onto its own API, so the servers differ in the event library alone. */
#ifndef BENCH_ECHO_CONN_H
#define BENCH_ECHO_CONN_H

#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>

/* Bytes read per readable event; also the most a connection keeps unsent. */
#define ECHO_BUF 16384

/** What a connection asks its event loop for next. */
enum echo_want { ECHO_CLOSE, ECHO_WANT_READ, ECHO_WANT_WRITE };

/** One client connection; `watcher` is the peer's per-connection object, if any. */
struct echo_conn {
    int fd;
    size_t off, len; /* buf[off..len) is still to be written back */
    void *watcher;
    char buf[ECHO_BUF];
};

/** A connection object for fd, or exit. */
static inline struct echo_conn *echo_conn_new(int fd)
{
    struct echo_conn *c = malloc(sizeof *c);
    if (c == NULL)
        die("malloc");
    c->fd = fd;
    c->off = c->len = 0;
    c->watcher = NULL;
    return c;
}

/** Write the pending bytes; ECHO_WANT_WRITE while some remain. */
static inline enum echo_want echo_flush(struct echo_conn *c)
{
    while (c->off < c->len) {
        ssize_t n = write(c->fd, c->buf + c->off, c->len - c->off);
        if (n < 0)
            return errno == EAGAIN ? ECHO_WANT_WRITE : ECHO_CLOSE;
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    return ECHO_WANT_READ;
}

/** Read once (level-triggered: the loop calls again if more is there) and echo it back. */
static inline enum echo_want echo_on_readable(struct echo_conn *c)
{
    ssize_t n = read(c->fd, c->buf, sizeof c->buf);
    if (n == 0)
        return ECHO_CLOSE;
    if (n < 0)
        return errno == EAGAIN ? ECHO_WANT_READ : ECHO_CLOSE;
    c->off = 0;
    c->len = (size_t)n;
    return echo_flush(c);
}

/** Non-blocking listening socket on 127.0.0.1:port (0 = any free port); reuse_port lets several
 * sockets (one per thread) share the port. */
static inline int echo_listen(int port, int reuse_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0)
        die("listen socket");
    return fd;
}

/** The port a socket is bound to. */
static inline int echo_port_of(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        die("getsockname");
    return ntohs(addr.sin_port);
}

/** Print the startup line the bench runner (and the lead's echo_server) use. */
static inline void echo_announce(int port)
{
    printf("Echo server running on localhost:%d\n", port);
    fflush(stdout);
}

/** The optional port argument (default 0 = any free port). */
static inline int echo_port_arg(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}

/** Accept one pending connection, non-blocking; -1 when none is pending. */
static inline int echo_accept(int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && errno != EAGAIN && errno != ECONNABORTED && errno != EMFILE)
        die("accept4");
    return fd;
}

#endif /* BENCH_ECHO_CONN_H */
