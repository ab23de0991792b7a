// Every error path of selectors.hpp: each failure comes out of the throwing overload as a
// std::system_error and out of the noexcept one as a std::error_code with the same value, the
// library's text (sel_strerror) and the portable std::errc condition; and a failure changes
// nothing.
#include <selectors.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <string>
#include <sys/time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"

namespace {

using selectors::event;
using selectors::flag;

struct peer {
    int id;
};

// What `call` threw; the case fails if it threw nothing or something else.
template <typename Call>
std::system_error thrown_by(Call &&call) {
    try {
        call();
    } catch (const std::system_error &error) {
        return error;
    }
    CHECK(!"the call threw no std::system_error");
    return std::system_error(std::error_code());
}

// Checks that `error` is the library's code for `errno_value`, with sel_strerror's text.
void check_code(const std::error_code &error, int errno_value) {
    CHECK(&error.category() == &selectors::error_category());
    CHECK_EQ(error.value(), errno_value);
    CHECK(error.message() == sel_strerror(-errno_value));
}

// Checks both overloads of one failing call: the same code from each, and the thrown error's
// what() naming the C function and the library's text.
template <typename Throwing, typename Reporting>
void check_both_fail(Throwing &&throwing, Reporting &&reporting, int errno_value,
                     const char *c_function) {
    const std::system_error thrown = thrown_by(throwing);
    check_code(thrown.code(), errno_value);
    CHECK(std::strstr(thrown.what(), c_function) != nullptr);
    CHECK(std::strstr(thrown.what(), sel_strerror(-errno_value)) != nullptr);
    std::error_code reported = std::make_error_code(std::errc::io_error);  // must be replaced
    reporting(reported);
    check_code(reported, errno_value);
}

selectors::kind as_kind(int kind_number) {
    return static_cast<selectors::kind>(kind_number);
}

void codes_compare_with_std_errc(int) {
    const std::error_code exists(EEXIST, selectors::error_category());
    CHECK(exists == std::errc::file_exists);
    CHECK(exists != std::errc::no_such_file_or_directory);
    CHECK(std::error_code(ENOENT, selectors::error_category()) == std::errc::no_such_file_or_directory);
    CHECK(std::string(selectors::error_category().name()) == "selectors");
    CHECK(exists.message() == sel_strerror(-EEXIST));
    // A value the library has no text of its own for still gets sel_strerror's answer.
    CHECK(std::error_code(ELOOP, selectors::error_category()).message() == sel_strerror(-ELOOP));
}

void new_refuses_missing_kinds_and_bad_arguments(int) {
#ifdef SEL_TEST_LIBKQUEUE
    // The build with libkqueue has KQUEUE on Linux.
    for (const selectors::kind missing : {selectors::kind::devpoll}) {
#else
    for (const selectors::kind missing : {selectors::kind::kqueue, selectors::kind::devpoll}) {
#endif
        check_both_fail([&] { selectors::selector<> sel(missing); },
                        [&](std::error_code &error) {
                            selectors::selector<> sel(missing, flag::none, error);
                            CHECK(!sel.is_open());
                        },
                        ENOSYS, "sel_new");
    }
    const selectors::kind unknown = static_cast<selectors::kind>(42);
    check_both_fail([&] { selectors::selector<> sel(unknown); },
                    [&](std::error_code &error) {
                        selectors::selector<> sel(unknown, flag::none, error);
                    },
                    EINVAL, "sel_new");
    const flag unknown_flag = static_cast<flag>(0x100);
    check_both_fail([&] { selectors::selector<> sel(selectors::kind::platform_default, unknown_flag); },
                    [&](std::error_code &error) {
                        selectors::selector<> sel(selectors::kind::platform_default, unknown_flag,
                                                  error);
                    },
                    EINVAL, "sel_new");
}

void register_twice_keeps_the_first(int kind_number) {
    selectors::selector<peer> sel(as_kind(kind_number));
    int fds[2];
    make_socketpair(fds);
    peer first{1}, second{2};
    sel.register_fd(fds[0], event::read, &first);
    check_both_fail([&] { sel.register_fd(fds[0], event::write, &second); },
                    [&](std::error_code &error) {
                        const auto key = sel.register_fd(fds[0], event::write, &second, error);
                        CHECK_EQ(key.fd, -1);
                        CHECK(key.data == nullptr);
                    },
                    EEXIST, "sel_register");
    const auto kept = sel.get_key(fds[0]);
    CHECK(kept.events == event::read);
    CHECK(kept.data == &first);
    sel.unregister(fds[0]);
    close_pair(fds);
}

void register_refuses_bad_fds_and_events(int kind_number) {
    selectors::selector<> sel(as_kind(kind_number));
    int fds[2];
    make_socketpair(fds);
    check_both_fail([&] { sel.register_fd(-1, event::read); },
                    [&](std::error_code &error) { sel.register_fd(-1, event::read, nullptr, error); },
                    EBADF, "sel_register");
    const int closed = dup(fds[0]);
    CHECK(closed >= 0);
    close(closed);
    check_both_fail([&] { sel.register_fd(closed, event::read); },
                    [&](std::error_code &error) {
                        sel.register_fd(closed, event::read, nullptr, error);
                    },
                    EBADF, "sel_register");
    for (const event bad : {event::none, static_cast<event>(4), event::read | event::oneshot}) {
        check_both_fail([&] { sel.register_fd(fds[0], bad); },
                        [&](std::error_code &error) {
                            sel.register_fd(fds[0], bad, nullptr, error);
                        },
                        EINVAL, "sel_register");
    }
    CHECK_EQ(sel.size(), 0);
    close_pair(fds);
}

void unknown_fds_are_enoent(int kind_number) {
    selectors::selector<peer> sel(as_kind(kind_number));
    int fds[2];
    make_socketpair(fds);
    peer someone{1};
    check_both_fail([&] { sel.modify(fds[0], event::read, &someone); },
                    [&](std::error_code &error) {
                        sel.modify(fds[0], event::read, &someone, error);
                    },
                    ENOENT, "sel_modify");
    check_both_fail([&] { sel.unregister(fds[0]); },
                    [&](std::error_code &error) { sel.unregister(fds[0], error); }, ENOENT,
                    "sel_unregister");
    check_both_fail([&] { sel.get_key(fds[0]); },
                    [&](std::error_code &error) { sel.get_key(fds[0], error); }, ENOENT,
                    "sel_get_key");
    check_both_fail([&] { sel.get_key(-1); },
                    [&](std::error_code &error) { sel.get_key(-1, error); }, EBADF, "sel_get_key");
    // The modify that failed registered nothing.
    CHECK_EQ(sel.size(), 0);
    close_pair(fds);
}

void modify_refuses_bad_events_and_keeps_the_key(int kind_number) {
    selectors::selector<peer> sel(as_kind(kind_number));
    int fds[2];
    make_socketpair(fds);
    peer first{1}, second{2};
    sel.register_fd(fds[0], event::read, &first);
    check_both_fail([&] { sel.modify(fds[0], event::none, &second); },
                    [&](std::error_code &error) {
                        sel.modify(fds[0], event::none, &second, error);
                    },
                    EINVAL, "sel_modify");
    CHECK(sel.get_key(fds[0]).data == &first);
    sel.unregister(fds[0]);
    close_pair(fds);
}

void select_refuses_bad_buffers_and_timeouts(int kind_number) {
    selectors::selector<> sel(as_kind(kind_number));
    selectors::event_buffer<4> buffer;
    const selectors::event_span no_room(buffer.data(), 0);
    check_both_fail([&] { sel.select(no_room, std::chrono::seconds(0)); },
                    [&](std::error_code &error) {
                        CHECK(sel.select(no_room, std::chrono::seconds(0), error).empty());
                    },
                    EINVAL, "sel_select");
    const std::chrono::duration<double> not_a_number(std::numeric_limits<double>::quiet_NaN());
    check_both_fail([&] { sel.select(buffer, not_a_number); },
                    [&](std::error_code &error) {
                        CHECK(sel.select(buffer, not_a_number, error).empty());
                    },
                    EINVAL, "sel_select");
}

// Sends SIGALRM every 20 ms while it lives, so a wait is interrupted whenever it starts.
class repeating_alarm {
public:
    repeating_alarm() { arm(20000); }
    ~repeating_alarm() { arm(0); }
    repeating_alarm(const repeating_alarm &) = delete;
    repeating_alarm &operator=(const repeating_alarm &) = delete;

private:
    static void arm(long microseconds) {
        itimerval every{{0, microseconds}, {0, microseconds}};
        CHECK_EQ(setitimer(ITIMER_REAL, &every, nullptr), 0);
    }
};

void interruptible_selector_reports_eintr(int kind_number) {
    selectors::selector<> sel(as_kind(kind_number), flag::interruptible);
    selectors::event_buffer<4> buffer;
    catch_signal(SIGALRM, [](int) {});
    const repeating_alarm alarm;
    check_both_fail([&] { sel.select(buffer, std::chrono::seconds(10)); },
                    [&](std::error_code &error) {
                        CHECK(sel.select(buffer, std::chrono::seconds(10), error).empty());
                        CHECK(error == std::errc::interrupted);
                    },
                    EINTR, "sel_select");
}

void empty_selector_fails_with_einval(int) {
    selectors::selector<> moved_from;
    selectors::selector<> owner(std::move(moved_from));
    CHECK(!moved_from.is_open());
    CHECK(moved_from.native_handle() == nullptr);
    int fds[2];
    make_socketpair(fds);
    selectors::event_buffer<1> buffer;
    check_both_fail([&] { moved_from.register_fd(fds[0], event::read); },
                    [&](std::error_code &error) {
                        moved_from.register_fd(fds[0], event::read, nullptr, error);
                    },
                    EINVAL, "sel_register");
    check_both_fail([&] { moved_from.select(buffer, selectors::forever); },
                    [&](std::error_code &error) { moved_from.select(buffer, selectors::forever, error); },
                    EINVAL, "sel_select");
    check_both_fail([&] { moved_from.fileno(); },
                    [&](std::error_code &error) { moved_from.fileno(error); }, EINVAL,
                    "sel_fileno");
    check_both_fail([&] { moved_from.after_fork(); },
                    [&](std::error_code &error) { moved_from.after_fork(error); }, EINVAL,
                    "sel_after_fork");
    moved_from.wakeup();  // nothing to report, nothing done
    CHECK_EQ(moved_from.size(), 0);
    CHECK(moved_from.get_map().empty());
    CHECK(moved_from.kind() == selectors::kind::platform_default);
    CHECK(owner.is_open());
    close_pair(fds);
}

void fileno_is_eopnotsupp_without_a_kernel_object(int kind_number) {
    selectors::selector<> sel(as_kind(kind_number));
    if (sel.kind() == selectors::kind::epoll || sel.kind() == selectors::kind::kqueue) {
        std::error_code error = std::make_error_code(std::errc::io_error);
        CHECK(sel.fileno(error) >= 0);
        CHECK(!error);
        return;
    }
    check_both_fail([&] { sel.fileno(); }, [&](std::error_code &error) { sel.fileno(error); },
                    EOPNOTSUPP, "sel_fileno");
}

void supports_answers_and_refuses_bad_bits(int) {
    CHECK(selectors::supports(selectors::kind::epoll, event::read | event::edge));
    CHECK(!selectors::supports(selectors::kind::poll, event::read | event::edge));
    CHECK(selectors::supports(selectors::kind::select, event::write | event::oneshot));
    check_both_fail([&] { selectors::supports(selectors::kind::epoll, event::none); },
                    [&](std::error_code &error) {
                        CHECK(!selectors::supports(selectors::kind::epoll, event::none, error));
                    },
                    EINVAL, "sel_supports");
}

void edge_is_eopnotsupp_where_missing(int kind_number) {
    selectors::selector<> sel(as_kind(kind_number), flag::modes);
    int fds[2];
    make_socketpair(fds);
    std::error_code error;
    sel.register_fd(fds[0], event::read | event::edge, nullptr, error);
    if (selectors::supports(sel.kind(), event::read | event::edge)) {
        CHECK(!error);
        sel.unregister(fds[0]);
    } else {
        check_code(error, EOPNOTSUPP);
        CHECK(error == std::errc::operation_not_supported);
    }
    close_pair(fds);
}

void success_clears_the_error_code(int kind_number) {
    selectors::selector<> sel(as_kind(kind_number));
    int fds[2];
    make_socketpair(fds);
    std::error_code error = std::make_error_code(std::errc::io_error);
    sel.register_fd(fds[0], event::read, nullptr, error);
    CHECK(!error);
    error = std::make_error_code(std::errc::io_error);
    selectors::event_buffer<2> buffer;
    CHECK(sel.select(buffer, std::chrono::seconds(0), error).empty());
    CHECK(!error);
    error = std::make_error_code(std::errc::io_error);
    sel.unregister(fds[0], error);
    CHECK(!error);
    close_pair(fds);
}

const test_case cases[] = {
    {"codes_compare_with_std_errc", codes_compare_with_std_errc, ONCE},
    {"new_refuses_missing_kinds_and_bad_arguments", new_refuses_missing_kinds_and_bad_arguments,
     ONCE},
    {"register_twice_keeps_the_first", register_twice_keeps_the_first, PER_KIND},
    {"register_refuses_bad_fds_and_events", register_refuses_bad_fds_and_events, PER_KIND},
    {"unknown_fds_are_enoent", unknown_fds_are_enoent, PER_KIND},
    {"modify_refuses_bad_events_and_keeps_the_key", modify_refuses_bad_events_and_keeps_the_key,
     PER_KIND},
    {"select_refuses_bad_buffers_and_timeouts", select_refuses_bad_buffers_and_timeouts, PER_KIND},
    {"interruptible_selector_reports_eintr", interruptible_selector_reports_eintr, PER_KIND},
    {"empty_selector_fails_with_einval", empty_selector_fails_with_einval, ONCE},
    {"fileno_is_eopnotsupp_without_a_kernel_object", fileno_is_eopnotsupp_without_a_kernel_object,
     PER_KIND},
    {"supports_answers_and_refuses_bad_bits", supports_answers_and_refuses_bad_bits, ONCE},
    {"edge_is_eopnotsupp_where_missing", edge_is_eopnotsupp_where_missing, PER_KIND},
    {"success_clears_the_error_code", success_clears_the_error_code, PER_KIND},
};

}  // namespace

int main(int argc, char **argv) {
    return run_tests(argc, argv, cases, COUNT_OF(cases));
}
