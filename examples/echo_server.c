/*
 * The echo server of Python's selectors documentation, in C on libselectors.
 *
 *     echo_server [-q] [-k kind] [port]      (port 12345 by default, 0 for any free port)
 *
 * As in Python, each registration's data is its callback: the listening socket's accepts, a
 * connection's reads. Unlike the Python example it loses no data under load: what a
 * non-blocking send cannot take now is kept, and the connection waits for WRITE (sel_modify)
 * until it is flushed, then goes back to READ. SIGINT or SIGTERM stop it cleanly through
 * sel_wakeup, and running out of fds (EMFILE) sheds one connection instead of spinning.
 * `-q` silences the per-connection messages (for load tests); `-k` picks the selector kind
 * (select, poll, epoll, kqueue, devpoll; DEFAULT otherwise).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "selectors.h"

#define READ_CHUNK 65536
#define MAX_EVENTS 256

/** What a registration's data points to: the callback to run when its fd is ready. */
struct handler {
    void (*on_ready)(struct handler *self, uint32_t mask);
    int fd;
};

/** A client connection and the bytes it was sent but could not take yet. */
struct connection {
    struct handler handler;
    char *unsent;
    size_t unsent_len;
};

static sel_selector *sel;
static int quiet;
static volatile sig_atomic_t stopping;
/* An fd kept open to be given up when accept() hits EMFILE (see accept_clients). */
static int reserve_fd = -1;

static void on_stop_signal(int signo) {
    (void)signo;
    stopping = 1;
    sel_wakeup(sel);
}

static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void close_connection(struct connection *conn) {
    if (!quiet)
        printf("closing fd %d\n", conn->handler.fd);
    sel_unregister(sel, conn->handler.fd, NULL); /* unregister before close */
    close(conn->handler.fd);
    free(conn->unsent);
    free(conn);
}

/* Sends as much of `data` as the socket takes; returns how much, or -1 if the peer is gone. */
static ssize_t send_some(int fd, const char *data, size_t len) {
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        sent += (size_t)n;
    }
    return (ssize_t)sent;
}

static void on_connection_ready(struct handler *self, uint32_t mask);

/* Keeps what the socket could not take and waits for WRITE until it is flushed. */
static int keep_unsent(struct connection *conn, const char *data, size_t len) {
    conn->unsent = malloc(len);
    if (conn->unsent == NULL)
        return -1;
    memcpy(conn->unsent, data, len);
    conn->unsent_len = len;
    return sel_modify(sel, conn->handler.fd, SEL_EVENT_WRITE, conn, NULL);
}

/* READ: echo what arrived. WRITE: flush what is left, then read again. */
static void on_connection_ready(struct handler *self, uint32_t mask) {
    struct connection *conn = (struct connection *)self;
    static char buffer[READ_CHUNK];
    if (mask & SEL_EVENT_WRITE) {
        ssize_t sent = send_some(self->fd, conn->unsent, conn->unsent_len);
        if (sent < 0) {
            close_connection(conn);
            return;
        }
        conn->unsent_len -= (size_t)sent;
        memmove(conn->unsent, conn->unsent + sent, conn->unsent_len);
        if (conn->unsent_len == 0) {
            free(conn->unsent);
            conn->unsent = NULL;
            if (sel_modify(sel, self->fd, SEL_EVENT_READ, conn, NULL) < 0)
                close_connection(conn);
        }
        return;
    }
    {
        ssize_t got = recv(self->fd, buffer, sizeof buffer, 0);
        ssize_t sent;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (got <= 0) {
            close_connection(conn);
            return;
        }
        if (!quiet)
            printf("echoing %zd bytes to fd %d\n", got, self->fd);
        sent = send_some(self->fd, buffer, (size_t)got);
        if (sent < 0 ||
            (sent < got && keep_unsent(conn, buffer + sent, (size_t)(got - sent)) < 0))
            close_connection(conn);
    }
}

/* accept() failed with EMFILE: give up the reserve fd, accept and drop one client so the
 * listening socket stops being readable, then take the reserve back (libev's advice). */
static void shed_one_client(int listener) {
    if (reserve_fd < 0)
        return;
    close(reserve_fd);
    close(accept(listener, NULL, NULL));
    reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fprintf(stderr, "out of file descriptors: dropped a client\n");
}

/* The listening socket is readable: accept every waiting client. */
static void accept_clients(struct handler *self, uint32_t mask) {
    (void)mask;
    for (;;) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        struct connection *conn;
        int fd = accept(self->fd, (struct sockaddr *)&peer, &peer_len);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                shed_one_client(self->fd);
            else if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        conn = calloc(1, sizeof *conn);
        if (conn == NULL || set_nonblocking(fd) < 0) {
            free(conn);
            close(fd);
            continue;
        }
        conn->handler.on_ready = on_connection_ready;
        conn->handler.fd = fd;
        if (sel_register(sel, fd, SEL_EVENT_READ, conn, NULL) < 0) {
            free(conn);
            close(fd);
            continue;
        }
        if (!quiet)
            printf("accepted fd %d from %s:%d\n", fd, inet_ntoa(peer.sin_addr),
                   ntohs(peer.sin_port));
    }
}

static int listen_on(int port) {
    struct sockaddr_in addr;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0 ||
        set_nonblocking(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int bound_port(int fd) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
        return -1;
    return ntohs(addr.sin_port);
}

/* Unregisters and frees every connection left when the server stops. */
static void close_all(int listener) {
    size_t count = sel_get_map(sel, NULL, 0);
    sel_key *keys = calloc(count ? count : 1, sizeof *keys);
    size_t i;
    if (keys == NULL)
        return;
    count = sel_get_map(sel, keys, count);
    for (i = 0; i < count; i++)
        if (keys[i].fd != listener)
            close_connection((struct connection *)keys[i].data);
    free(keys);
}

/** The SEL_KIND_* named `name` (select, poll, epoll, kqueue, devpoll), or -1. */
static int kind_named(const char *name) {
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {{"select", SEL_KIND_SELECT}, {"poll", SEL_KIND_POLL}, {"epoll", SEL_KIND_EPOLL},
                 {"kqueue", SEL_KIND_KQUEUE}, {"devpoll", SEL_KIND_DEVPOLL}};
    size_t i;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(name, kinds[i].name) == 0)
            return kinds[i].kind;
    return -1;
}

int main(int argc, char **argv) {
    struct handler listener = {accept_clients, -1};
    struct sigaction stop;
    sel_event events[MAX_EVENTS];
    int arg = 1, port = 12345, kind = SEL_KIND_DEFAULT, rc;
    int status = 0; /* 1 when the loop ends on a failed sel_select rather than a signal */
    if (arg < argc && strcmp(argv[arg], "-q") == 0) {
        quiet = 1;
        arg++;
    }
    if (arg + 1 < argc && strcmp(argv[arg], "-k") == 0) {
        kind = kind_named(argv[arg + 1]);
        if (kind < 0) {
            fprintf(stderr, "unknown kind %s\n", argv[arg + 1]);
            return 1;
        }
        arg += 2;
    }
    if (arg < argc)
        port = atoi(argv[arg]);

    sel = sel_new(kind, 0);
    if (sel == NULL) {
        perror("sel_new");
        return 1;
    }
    listener.fd = listen_on(port);
    if (listener.fd < 0) {
        perror("listen");
        return 1;
    }
    reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    rc = sel_register(sel, listener.fd, SEL_EVENT_READ, &listener, NULL);
    if (rc < 0) {
        fprintf(stderr, "sel_register: %s\n", strerror(-rc));
        return 1;
    }
    memset(&stop, 0, sizeof stop);
    stop.sa_handler = on_stop_signal;
    sigemptyset(&stop.sa_mask);
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGTERM, &stop, NULL);

    printf("Echo server running on localhost:%d (%s)\n", bound_port(listener.fd),
           sel_kind_name(sel_kind_of(sel)));
    fflush(stdout);
    while (!stopping) {
        int ready = sel_select(sel, -1, events, MAX_EVENTS);
        int i;
        if (ready < 0) {
            fprintf(stderr, "sel_select: %s\n", strerror(-ready));
            status = 1;
            break;
        }
        for (i = 0; i < ready; i++) {
            struct handler *callback = (struct handler *)events[i].key.data;
            callback->on_ready(callback, events[i].mask);
        }
        if (!quiet)
            fflush(stdout);
    }
    close_all(listener.fd);
    sel_unregister(sel, listener.fd, NULL);
    close(listener.fd);
    if (reserve_fd >= 0)
        close(reserve_fd);
    sel_close(sel);
    printf("Echo server stopped\n");
    return status;
}
