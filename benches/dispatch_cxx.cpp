// dispatch_cxx.cpp — the select-and-dispatch loop on selectors.hpp (see dispatch.h), twice: with
// the throwing select() and with the std::error_code one.
#include <selectors.hpp>

#include "dispatch.h"

using namespace std::chrono_literals;

// The loop of dispatch_c.c's run_loop_c through the wrapper's default, throwing select().
__attribute__((noinline)) void run_loop_throwing(selectors::selector<handler> &sel) {
    selectors::event_buffer<DISPATCH_FDS> buffer;
    for (int round = 0; round < DISPATCH_ROUNDS; round++)
        for (const auto [key, mask] : sel.select(buffer, 0s))
            key.data->on_ready(key.data, static_cast<uint32_t>(mask));
}

// The same loop through the noexcept select() that reports in a std::error_code.
__attribute__((noinline)) void run_loop_error_code(selectors::selector<handler> &sel) {
    selectors::event_buffer<DISPATCH_FDS> buffer;
    for (int round = 0; round < DISPATCH_ROUNDS; round++) {
        std::error_code error;
        for (const auto [key, mask] : sel.select(buffer, 0s, error))
            key.data->on_ready(key.data, static_cast<uint32_t>(mask));
        if (error) {
            std::fprintf(stderr, "sel_select: %s\n", error.message().c_str());
            std::exit(1);
        }
    }
}

int main() {
    selectors::selector<handler> sel;
    handler handlers[DISPATCH_FDS];
    int fds[DISPATCH_FDS];
    make_ready_fds(fds);
    for (int i = 0; i < DISPATCH_FDS; i++) {
        handlers[i] = {count_call, 0};
        sel.register_fd(fds[i], selectors::event::read, &handlers[i]);
    }
    run_loop_throwing(sel);
    check_calls(handlers, "C++, throwing select()");
    for (handler &each : handlers)
        each.calls = 0;
    run_loop_error_code(sel);
    check_calls(handlers, "C++, std::error_code select()");
    return 0;
}
