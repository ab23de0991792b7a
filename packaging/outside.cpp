// A C++ program from outside the source tree: the installed header included from C++ (its
// extern "C" guards), the selector owned by a unique_ptr, a std::function as a key's data.
// `make package-test` builds it with `c++ $(pkg-config --cflags --libs selectors)` and runs it.
#include <selectors.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct SelectorCloser {
    void operator()(sel_selector *sel) const { sel_close(sel); }
};
using Selector = std::unique_ptr<sel_selector, SelectorCloser>;

// Throws on a negative errno value, the library's way of failing.
int check(int rc, const char *what) {
    if (rc < 0)
        throw std::runtime_error(std::string(what) + ": " + std::strerror(-rc));
    return rc;
}

}  // namespace

int main() {
    try {
        Selector sel(sel_new(SEL_KIND_DEFAULT, 0));
        if (!sel)
            throw std::runtime_error("sel_new failed");
        int pipe_fds[2];
        if (pipe(pipe_fds) != 0)
            throw std::runtime_error("pipe failed");
        std::string seen;
        std::function<void(int)> on_readable = [&seen](int fd) {
            char byte = 0;
            if (read(fd, &byte, 1) == 1)
                seen += byte;
        };
        check(sel_register(sel.get(), pipe_fds[0], SEL_EVENT_READ, &on_readable, nullptr),
              "sel_register");
        if (write(pipe_fds[1], "x", 1) != 1)
            throw std::runtime_error("write failed");
        std::array<sel_event, 4> events{};
        int ready = check(sel_select(sel.get(), 5.0, events.data(), events.size()), "sel_select");
        for (int i = 0; i < ready; i++) {
            auto callback = static_cast<std::function<void(int)> *>(events[i].key.data);
            (*callback)(events[i].key.fd);
        }
        check(sel_unregister(sel.get(), pipe_fds[0], nullptr), "sel_unregister");
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        if (seen != "x")
            throw std::runtime_error("the callback did not read the byte");
        std::cout << sel_kind_name(sel_kind_of(sel.get())) << " from C++: " << seen << "\n";
        return 0;
    } catch (const std::exception &error) {
        std::cerr << "outside.cpp: " << error.what() << "\n";
        return 1;
    }
}
