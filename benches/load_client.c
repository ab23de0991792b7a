/* load_client.c — the echo load generator, the same for every server: C connections to
 * 127.0.0.1:PORT, each keeping DEPTH messages of SIZE bytes in flight (pipelined), every echoed
 * byte checked against what was sent.
 *
 * Each connection sends its own pseudo-random byte stream (a slice of a random pattern whose
 * period is prime, so a lost, duplicated or shifted byte shows up as a mismatch). After MILLIS ms
 * of load it stops sending and waits (at most DRAIN_SECONDS) for every byte to come back.
 * Prints "msgs_per_s bytes_per_s lost_bytes corrupted_bytes total_msgs" (total_msgs counts the
 * drain too, for CPU cost per message) and exits 1 if any byte was lost or corrupted or a
 * connection failed.
 * Usage: load_client PORT CONNS MILLIS [SIZE=64] [DEPTH=16] */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#define PATTERN_PERIOD 65521 /* prime: stream offsets repeat only every 65,521 bytes */
#define MAX_WINDOW 32768     /* bytes in flight per connection, < PATTERN_PERIOD */
#define DRAIN_SECONDS 5
#define MAX_EVENTS 512

/* Two periods back to back, so any slice of up to one period starting below it is contiguous. */
static unsigned char pattern[2 * PATTERN_PERIOD];

/** One connection's progress through its stream. */
struct conn {
    int fd;
    int want_out;  /* EPOLLOUT is armed because a write would block */
    int dead;      /* closed or failed before its bytes came back */
    uint64_t base; /* where this connection's stream starts in the pattern */
    uint64_t sent, received;
};

/** Totals over every connection. */
struct totals {
    uint64_t received, corrupted;
    int failed;
};

static void fill_pattern(void)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < PATTERN_PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pattern[i] = pattern[i + PATTERN_PERIOD] = (unsigned char)(x >> 24);
    }
}

/** A connected, non-blocking, no-delay socket to the server. */
static int connect_to(int port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("connect");
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
        die("socket options");
    return fd;
}

/** Arm EPOLLIN, plus EPOLLOUT when a write is blocked. */
static void rearm(int epfd, struct conn *c, int want_out)
{
    if (c->want_out == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl MOD");
    c->want_out = want_out;
}

/** Send until the window is full or the socket is. */
static void send_window(int epfd, struct conn *c, uint64_t window, struct totals *t)
{
    while (!c->dead && c->sent - c->received < window) {
        size_t len = (size_t)(window - (c->sent - c->received));
        ssize_t n = write(c->fd, pattern + (c->base + c->sent) % PATTERN_PERIOD, len);
        if (n < 0) {
            if (errno == EAGAIN) {
                rearm(epfd, c, 1);
                return;
            }
            c->dead = 1;
            t->failed++;
            return;
        }
        c->sent += (uint64_t)n;
    }
    rearm(epfd, c, 0);
}

/** Read what came back and check it byte by byte against what was sent. */
static void receive(struct conn *c, struct totals *t)
{
    unsigned char buf[MAX_WINDOW];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        c->dead = 1;
        t->failed++;
        return;
    }
    const unsigned char *want = pattern + (c->base + c->received) % PATTERN_PERIOD;
    uint64_t in_flight = c->sent - c->received;
    if ((uint64_t)n > in_flight || memcmp(buf, want, (size_t)n) != 0)
        for (ssize_t i = 0; i < n; i++) /* slow path: count the bad bytes */
            if ((uint64_t)i >= in_flight || buf[i] != want[i])
                t->corrupted++;
    c->received += (uint64_t)n;
    t->received += (uint64_t)n;
}

/** Serve events until the deadline. While `sending`, refill every window; otherwise return as
 * soon as every live connection has all its bytes back. */
static void pump(int epfd, struct conn *conns, int nconn, uint64_t window, int sending,
                 uint64_t deadline, struct totals *t)
{
    struct epoll_event evs[MAX_EVENTS];
    while (now_ns() < deadline) {
        if (!sending) {
            int pending = 0;
            for (int i = 0; i < nconn && !pending; i++)
                pending = !conns[i].dead && conns[i].received < conns[i].sent;
            if (!pending)
                return;
        }
        int n = epoll_wait(epfd, evs, MAX_EVENTS, 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                receive(c, t);
            if (sending)
                send_window(epfd, c, window, t);
            else
                rearm(epfd, c, 0);
            if (c->dead)
                epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        }
    }
}

int main(int argc, char **argv)
{
    static const char usage[] = "PORT CONNS MILLIS [SIZE=64] [DEPTH=16]";
    int port = arg_int(argc, argv, 1, usage);
    int nconn = arg_int(argc, argv, 2, usage);
    int millis = arg_int(argc, argv, 3, usage);
    int size = argc > 4 ? arg_int(argc, argv, 4, usage) : 64;
    int depth = argc > 5 ? arg_int(argc, argv, 5, usage) : 16;
    uint64_t window = (uint64_t)size * (uint64_t)depth;
    if (window > MAX_WINDOW)
        fail("SIZE * DEPTH is over the window limit", MAX_WINDOW);
    bench_start();
    fill_pattern();

    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || epfd < 0)
        die("setup");
    struct totals t = {0};
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = connect_to(port);
        conns[i].base = (uint64_t)i * 7919u % PATTERN_PERIOD;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0)
            die("epoll_ctl ADD");
    }
    for (int i = 0; i < nconn; i++)
        send_window(epfd, &conns[i], window, &t);

    uint64_t start = now_ns();
    pump(epfd, conns, nconn, window, 1, start + (uint64_t)millis * 1000000u, &t);
    double elapsed = (double)(now_ns() - start) / 1e9;
    uint64_t measured = t.received;
    pump(epfd, conns, nconn, window, 0, now_ns() + DRAIN_SECONDS * 1000000000ull, &t);

    uint64_t lost = 0;
    for (int i = 0; i < nconn; i++) {
        if (conns[i].sent > conns[i].received)
            lost += conns[i].sent - conns[i].received;
        close(conns[i].fd);
    }
    printf("%.0f %.0f %llu %llu %llu\n", (double)measured / size / elapsed,
           (double)measured / elapsed, (unsigned long long)lost, (unsigned long long)t.corrupted,
           (unsigned long long)(t.received / (uint64_t)size));
    if (t.failed)
        fprintf(stderr, "load_client: %d connections failed\n", t.failed);
    free(conns);
    close(epfd);
    return lost || t.corrupted || t.failed ? 1 : 0;
}
