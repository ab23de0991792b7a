// The echo server of Python's selectors documentation in C++17 on selectors.hpp: the same
// program as echo_server.c, with the same command line, output and behaviour.
//
//     echo_server_cxx [-q] [port]      (port 12345 by default, 0 for any free port)
//
// Each registration's data is a handler (the listening socket, or a connection) whose
// on_ready() runs when its fd is ready: the selector is a selectors::selector<handler>, so the
// loop calls it with no cast. What a non-blocking send cannot take now is kept, and the
// connection waits for WRITE until it is flushed, then reads again. SIGINT or SIGTERM stop it
// cleanly through wakeup(), and running out of fds (EMFILE) sheds one connection instead of
// spinning. `-q` silences the per-connection messages (for load tests).
#include <selectors.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace {

using selectors::event;

// An fd that closes itself.
class file_descriptor {
public:
    explicit file_descriptor(int fd) noexcept : fd_(fd) {}
    file_descriptor(const file_descriptor &) = delete;
    file_descriptor &operator=(const file_descriptor &) = delete;
    ~file_descriptor() { reset(-1); }
    int get() const noexcept { return fd_; }
    void reset(int fd) noexcept {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// What a registration's data points to: the work to do when its fd is ready.
class handler {
public:
    virtual ~handler() = default;
    virtual void on_ready(event mask) = 0;
};

bool quiet = false;
volatile std::sig_atomic_t stopping = 0;
// The selector the stop signals wake (a lock-free atomic, which a signal handler may read);
// wakeup() is async-signal-safe.
std::atomic<const selectors::selector<handler> *> signal_target{nullptr};
static_assert(std::atomic<const selectors::selector<handler> *>::is_always_lock_free);

void on_stop_signal(int) {
    stopping = 1;
    if (const auto *target = signal_target.load())
        target->wakeup();
}

bool set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 &&
           fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

// Sends as much of `data` as the socket takes; returns how much, or -1 if the peer is gone.
ssize_t send_some(int fd, const char *data, std::size_t length) {
    std::size_t sent = 0;
    while (sent < length) {
        const ssize_t n = send(fd, data + sent, length - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        sent += static_cast<std::size_t>(n);
    }
    return static_cast<ssize_t>(sent);
}

class echo_server;

// A client connection and the bytes it was sent but could not take yet.
class connection final : public handler {
public:
    connection(echo_server &server, int fd) : server_(server), socket_(fd) {}
    int fd() const noexcept { return socket_.get(); }
    void on_ready(event mask) override;

private:
    void flush_unsent();
    void echo_what_arrived();

    echo_server &server_;
    file_descriptor socket_;
    std::vector<char> unsent_;
};

// The listening socket: accepts every waiting client.
class listener final : public handler {
public:
    listener(echo_server &server, int fd) : server_(server), socket_(fd) {}
    int fd() const noexcept { return socket_.get(); }
    void on_ready(event mask) override;

private:
    void shed_one_client();

    echo_server &server_;
    file_descriptor socket_;
    // An fd kept open to be given up when accept() hits EMFILE (libev's advice).
    file_descriptor reserve_{open("/dev/null", O_RDONLY | O_CLOEXEC)};
};

// The selector, the listener and the connections, which it owns.
class echo_server {
public:
    explicit echo_server(int listening_fd) : listener_(*this, listening_fd) {
        selector_.register_fd(listener_.fd(), event::read, &listener_);
    }

    echo_server(const echo_server &) = delete;
    echo_server &operator=(const echo_server &) = delete;

    // Unregisters and closes every connection, then the listener.
    ~echo_server() {
        while (!connections_.empty())
            close_connection(*connections_.begin()->second);
        selector_.unregister(listener_.fd());
    }

    selectors::selector<handler> &selector() noexcept { return selector_; }
    int port() const;

    // Takes a new client's fd, registered for READ; closes it if it cannot be registered.
    void add_connection(int fd) {
        auto added = std::make_unique<connection>(*this, fd);
        std::error_code error;
        selector_.register_fd(fd, event::read, added.get(), error);
        if (!error)
            connections_.emplace(fd, std::move(added));
    }

    // Unregisters a connection (before its fd is closed) and frees it.
    void close_connection(connection &conn) {
        if (!quiet)
            std::printf("closing fd %d\n", conn.fd());
        std::error_code ignored;  // a connection is always registered; nothing to do otherwise
        selector_.unregister(conn.fd(), ignored);
        connections_.erase(conn.fd());
    }

    // Runs the loop until a stop signal; false if a wait failed.
    bool run() {
        selectors::event_buffer<256> buffer;
        while (!stopping) {
            std::error_code error;
            for (const auto [key, mask] : selector_.select(buffer, selectors::forever, error))
                key.data->on_ready(mask);
            if (error) {
                std::fprintf(stderr, "sel_select: %s\n", error.message().c_str());
                return false;
            }
            if (!quiet)
                std::fflush(stdout);
        }
        return true;
    }

private:
    selectors::selector<handler> selector_;
    listener listener_;
    std::map<int, std::unique_ptr<connection>> connections_;
};

// READ: echo what arrived. WRITE: flush what is left, then read again.
void connection::on_ready(event mask) {
    if (selectors::contains(mask, event::write))
        flush_unsent();
    else
        echo_what_arrived();
}

void connection::flush_unsent() {
    const ssize_t sent = send_some(fd(), unsent_.data(), unsent_.size());
    if (sent < 0) {
        server_.close_connection(*this);
        return;
    }
    unsent_.erase(unsent_.begin(), unsent_.begin() + sent);
    if (unsent_.empty()) {
        unsent_.shrink_to_fit();
        std::error_code error;
        server_.selector().modify(fd(), event::read, this, error);
        if (error)
            server_.close_connection(*this);
    }
}

void connection::echo_what_arrived() {
    static std::array<char, 65536> buffer;
    const ssize_t got = recv(fd(), buffer.data(), buffer.size(), 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (got <= 0) {
        server_.close_connection(*this);
        return;
    }
    if (!quiet)
        std::printf("echoing %zd bytes to fd %d\n", got, fd());
    const ssize_t sent = send_some(fd(), buffer.data(), static_cast<std::size_t>(got));
    if (sent < 0) {
        server_.close_connection(*this);
        return;
    }
    if (sent < got) {
        // Keep what the socket could not take and wait for WRITE until it is flushed.
        unsent_.assign(buffer.data() + sent, buffer.data() + got);
        std::error_code error;
        server_.selector().modify(fd(), event::write, this, error);
        if (error)
            server_.close_connection(*this);
    }
}

void listener::on_ready(event) {
    for (;;) {
        sockaddr_in peer{};
        socklen_t peer_length = sizeof peer;
        const int fd = accept(socket_.get(), reinterpret_cast<sockaddr *>(&peer), &peer_length);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                shed_one_client();
            else if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        if (!set_nonblocking(fd)) {
            ::close(fd);
            continue;
        }
        server_.add_connection(fd);
        if (!quiet)
            std::printf("accepted fd %d from %s:%d\n", fd, inet_ntoa(peer.sin_addr),
                        ntohs(peer.sin_port));
    }
}

// accept() failed with EMFILE: give up the reserve fd, accept and drop one client so the
// listening socket stops being readable, then take the reserve back.
void listener::shed_one_client() {
    if (reserve_.get() < 0)
        return;
    reserve_.reset(-1);
    ::close(accept(socket_.get(), nullptr, nullptr));
    reserve_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
    std::fprintf(stderr, "out of file descriptors: dropped a client\n");
}

int listen_on(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<unsigned short>(port));
    const int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) < 0 ||
        listen(fd, 1024) < 0 || !set_nonblocking(fd)) {
        ::close(fd);
        return -1;
    }
    return fd;
}

int echo_server::port() const {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (getsockname(listener_.fd(), reinterpret_cast<sockaddr *>(&address), &length) < 0)
        return -1;
    return ntohs(address.sin_port);
}

}  // namespace

int main(int argc, char **argv) {
    int arg = 1, port = 12345;
    if (arg < argc && std::strcmp(argv[arg], "-q") == 0) {
        quiet = true;
        arg++;
    }
    if (arg < argc)
        port = std::atoi(argv[arg]);

    const int listening_fd = listen_on(port);
    if (listening_fd < 0) {
        std::perror("listen");
        return 1;
    }
    bool clean = false;
    try {
        echo_server server(listening_fd);
        signal_target = &server.selector();
        struct sigaction stop {};
        stop.sa_handler = on_stop_signal;
        sigemptyset(&stop.sa_mask);
        sigaction(SIGINT, &stop, nullptr);
        sigaction(SIGTERM, &stop, nullptr);

        std::printf("Echo server running on localhost:%d (%s)\n", server.port(),
                    selectors::kind_name(server.selector().kind()));
        std::fflush(stdout);
        clean = server.run();
        signal_target = nullptr;
    } catch (const std::system_error &error) {
        // sel_new or registering the listener failed: "sel_new: <sel_strerror's text>".
        std::fprintf(stderr, "%s\n", error.what());
        return 1;
    }
    std::printf("Echo server stopped\n");
    return clean ? 0 : 1;
}
