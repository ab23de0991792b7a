// A C++17 program from outside the source tree on the installed selectors.hpp: a typed
// registration, a wait into a fixed buffer, the ready callback found through the typed data,
// and an error as a std::error_code. `make package-test` builds it with
// `c++ -std=c++17 $(pkg-config --cflags --libs selectors)` and warnings a strict C++ project
// turns on (conversions, old-style casts, shadowing), so the header stays clean under them.
#include <selectors.hpp>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <string>

int main() {
    try {
        selectors::selector<std::function<void(int)>> sel;
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0)
            throw std::system_error(errno, std::generic_category(), "pipe");
        std::string seen;
        std::function<void(int)> on_readable = [&seen](int fd) {
            char byte = 0;
            if (read(fd, &byte, 1) == 1)
                seen += byte;
        };
        sel.register_fd(pipe_fds[0], selectors::event::read, &on_readable);
        std::error_code error;
        sel.register_fd(pipe_fds[0], selectors::event::read, &on_readable, error);
        if (error != std::errc::file_exists)
            throw std::runtime_error("registering twice did not fail with EEXIST");
        if (write(pipe_fds[1], "x", 1) != 1)
            throw std::runtime_error("write failed");
        selectors::event_buffer<4> buffer;
        for (const auto [key, mask] : sel.select(buffer, std::chrono::seconds(5)))
            if (selectors::contains(mask, selectors::event::read))
                (*key.data)(key.fd);
        sel.unregister(pipe_fds[0]);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        if (seen != "x")
            throw std::runtime_error("the callback did not read the byte");
        std::cout << selectors::kind_name(sel.kind()) << " from C++17 (selectors.hpp): " << seen
                  << "; registering twice: " << error.message() << "\n";
        return 0;
    } catch (const std::exception &failure) {
        std::cerr << "outside_wrapper.cpp: " << failure.what() << "\n";
        return 1;
    }
}
