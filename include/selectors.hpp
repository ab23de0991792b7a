/**
 * @file selectors.hpp
 * libselectors for C++17: the C API of selectors.h behind a move-only RAII selector, typed
 * `data`, `std::chrono` timeouts, type-safe event bits, `std::error_code` errors, and the ready
 * events of a wait as a range over a buffer the caller owns (no allocation).
 *
 * @code
 * selectors::selector<connection> sel;                  // the platform's best kind
 * sel.register_fd(fd, selectors::event::read, &conn);   // conn's type is connection
 * selectors::event_buffer<64> buffer;
 * for (auto [key, mask] : sel.select(buffer, std::chrono::seconds(1)))
 *     key.data->on_ready(mask);                         // key.data is a connection *
 * @endcode
 *
 * Errors. Every call that can fail comes in two overloads with the same name, as in
 * std::filesystem: one throws std::system_error, the other is `noexcept` and reports through a
 * trailing `std::error_code &` (cleared on success). Why both, and throwing by default:
 * - A constructor has no return value, and a selector that cannot be made (no fd left, a kind
 *   this platform lacks) is a failure of set-up code, which exceptions report without a test
 *   after every line; the same holds for registering a socket the program has just made.
 * - In an event loop some "errors" are expected outcomes: ENOENT when a callback already
 *   unregistered an fd, EINTR with flag::interruptible, EBUSY from a second waiting thread.
 *   The `std::error_code &` overloads handle them as values, allocate nothing, and let code
 *   built with -fno-exceptions use the wrapper (there the throwing overloads abort instead).
 * - The throwing select() costs what C costs: it tests the C call's return value once, and the
 *   throw is out of line; the `std::error_code &` one adds two stores per wait to clear the
 *   code (BENCHMARKS.md, "C++ wrapper": one instruction per wait over the same loop in C).
 * The codes belong to selectors::error_category(): their value is the positive errno, their
 * message is sel_strerror()'s text, and they compare equal to the portable std::errc
 * conditions (`error == std::errc::file_exists`).
 *
 * Threads: as in C, one thread at a time waits in select(); any thread may register, modify,
 * unregister and look up fds meanwhile, and wakeup() may be called from any thread. A moved-from
 * or closed selector is empty: every call on it that can fail fails with EINVAL, it has no keys,
 * wakeup() and close() do nothing, and destroying it is safe.
 */
#ifndef SELECTORS_HPP
#define SELECTORS_HPP

#if __cplusplus < 201703L
#error "selectors.hpp needs C++17 (-std=c++17); older C++ can include selectors.h directly"
#endif

#include "selectors.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

/** Everything selectors.hpp adds to selectors.h. */
namespace selectors {

// ---- Errors ---------------------------------------------------------------------------------

namespace detail {

/** The category of selectors::error_category(): sel_strerror()'s texts, std::errc conditions. */
class selectors_error_category final : public std::error_category {
public:
    /** "selectors". */
    const char *name() const noexcept override { return "selectors"; }

    /** sel_strerror()'s text for the negative return code `-errno_value`. */
    std::string message(int errno_value) const override { return sel_strerror(-errno_value); }

    /** The portable condition of the same errno value, so codes compare with std::errc. */
    std::error_condition default_error_condition(int errno_value) const noexcept override {
        return std::generic_category().default_error_condition(errno_value);
    }
};

}  // namespace detail

/** The category of every std::error_code this header makes: value = errno, text = sel_strerror. */
inline const std::error_category &error_category() noexcept {
    static const detail::selectors_error_category category;
    return category;
}

namespace detail {

/** Turns a C return code into `error`: set for a negative code, cleared otherwise. */
inline bool failed(int return_code, std::error_code &error) noexcept {
    if (return_code < 0) {
        error.assign(-return_code, error_category());
        return true;
    }
    error.clear();
    return false;
}

/** Throws `error` as std::system_error naming the C call (aborts under -fno-exceptions). */
[[noreturn]] inline void throw_error(const std::error_code &error, const char *c_function) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
    throw std::system_error(error, c_function);
#else
    (void)error;
    (void)c_function;
    std::abort();
#endif
}

/** Throws a negative C return code as std::system_error naming the C call. */
[[noreturn]] inline void throw_return_code(int return_code, const char *c_function) {
    throw_error(std::error_code(-return_code, error_category()), c_function);
}

/** Throws when `error` is set: the throwing overloads are the `std::error_code &` ones + this. */
inline void throw_if_failed(const std::error_code &error, const char *c_function) {
    if (error)
        throw_error(error, c_function);
}

}  // namespace detail

// ---- Event bits, kinds, flags ---------------------------------------------------------------

/**
 * Event bits: what a registration waits for (key::events) and what a wait found (the ready
 * mask). Combine with `|`, test with `&` or contains().
 */
enum class event : std::uint32_t {
    none = 0,                   ///< No bit (a ready mask never has none).
    read = SEL_EVENT_READ,      ///< Ready to read (Python's EVENT_READ).
    write = SEL_EVENT_WRITE,    ///< Ready to write (Python's EVENT_WRITE).
    oneshot = SEL_EVENT_ONESHOT,  ///< Mode bit: report once, then disarm until modify() (needs flag::modes).
    edge = SEL_EVENT_EDGE,      ///< Mode bit: edge-triggered, epoll and kqueue only (needs flag::modes).
};

/** Options of a new selector; combine with `|`. */
enum class flag : unsigned {
    none = 0,                               ///< The contract's selector.
    interruptible = SEL_FLAG_EINTR,         ///< select() fails with EINTR on a signal instead of retrying.
    modes = SEL_FLAG_MODES,                 ///< Accept the mode bits event::oneshot and event::edge.
};

namespace detail {

/** Which enums get the bitwise operators. */
template <typename Enum>
struct is_bit_set : std::false_type {};
/** event is a set of bits. */
template <>
struct is_bit_set<event> : std::true_type {};
/** flag is a set of bits. */
template <>
struct is_bit_set<flag> : std::true_type {};

/** The operators below exist for the enums of is_bit_set only. */
template <typename Enum>
using if_bit_set = std::enable_if_t<is_bit_set<Enum>::value, Enum>;

/** The enum's bits as its unsigned underlying type. */
template <typename Enum>
constexpr std::underlying_type_t<Enum> bits(Enum value) noexcept {
    return static_cast<std::underlying_type_t<Enum>>(value);
}

}  // namespace detail

/** The bits of both. */
template <typename Enum>
constexpr detail::if_bit_set<Enum> operator|(Enum left, Enum right) noexcept {
    return static_cast<Enum>(detail::bits(left) | detail::bits(right));
}

/** The bits in both. */
template <typename Enum>
constexpr detail::if_bit_set<Enum> operator&(Enum left, Enum right) noexcept {
    return static_cast<Enum>(detail::bits(left) & detail::bits(right));
}

/** The bits in one but not both. */
template <typename Enum>
constexpr detail::if_bit_set<Enum> operator^(Enum left, Enum right) noexcept {
    return static_cast<Enum>(detail::bits(left) ^ detail::bits(right));
}

/** Every bit not in `value` (to clear bits: `set & ~event::write`). */
template <typename Enum>
constexpr detail::if_bit_set<Enum> operator~(Enum value) noexcept {
    return static_cast<Enum>(~detail::bits(value));
}

/** Adds the bits of `right`. */
template <typename Enum>
constexpr detail::if_bit_set<Enum> &operator|=(Enum &left, Enum right) noexcept {
    return left = left | right;
}

/** Keeps only the bits also in `right`. */
template <typename Enum>
constexpr detail::if_bit_set<Enum> &operator&=(Enum &left, Enum right) noexcept {
    return left = left & right;
}

/** Whether `set` has every bit of `wanted` (and `wanted` has one). */
template <typename Enum>
constexpr std::enable_if_t<detail::is_bit_set<Enum>::value, bool> contains(Enum set,
                                                                           Enum wanted) noexcept {
    return detail::bits(wanted) != 0 && (set & wanted) == wanted;
}

/** The kernel interface of a selector (Python's selector classes). */
enum class kind : int {
    platform_default = SEL_KIND_DEFAULT,  ///< DefaultSelector: epoll on Linux, kqueue on the BSDs, ...
    select = SEL_KIND_SELECT,             ///< SelectSelector: select(2), fds below FD_SETSIZE.
    poll = SEL_KIND_POLL,                 ///< PollSelector: poll(2).
    epoll = SEL_KIND_EPOLL,               ///< EpollSelector: Linux epoll(7).
    kqueue = SEL_KIND_KQUEUE,             ///< KqueueSelector: kqueue(2), macOS and the BSDs.
    devpoll = SEL_KIND_DEVPOLL,           ///< DevpollSelector: /dev/poll, illumos and Solaris.
};

/** CPython's class name of a kind ("EpollSelector", ...); platform_default names the kind it prefers. */
inline const char *kind_name(kind which) noexcept {
    return sel_kind_name(static_cast<int>(which));
}

/**
 * Whether selectors of `which` accept the interest `events` (false for event::edge on select,
 * poll and /dev/poll). Fails with EINVAL for bits every kind refuses (none, unknown bits).
 */
inline bool supports(kind which, event events, std::error_code &error) noexcept {
    const int answer = sel_supports(static_cast<int>(which), detail::bits(events));
    return !detail::failed(answer, error) && answer == 1;
}

/** As supports(kind, event, std::error_code &), throwing std::system_error on failure. */
inline bool supports(kind which, event events) {
    std::error_code error;
    const bool answer = supports(which, events, error);
    detail::throw_if_failed(error, "sel_supports");
    return answer;
}

// ---- Keys and ready events ------------------------------------------------------------------

/**
 * A registration (Python's SelectorKey): the fd, the events it waits for and the caller's
 * `data` pointer, typed. The library stores `data` and hands it back; it never dereferences,
 * copies or frees it.
 */
template <typename Data>
struct key {
    int fd = -1;                  ///< The registered file descriptor.
    event events = event::none;   ///< What it waits for: read, write or both (and mode bits).
    Data *data = nullptr;         ///< The pointer given to register_fd() or modify().
};

/** One ready registration of a wait (Python's `(key, mask)` pair); `auto [key, mask]` works. */
template <typename Data>
struct ready_event {
    selectors::key<Data> key;     ///< The registration, as get_key() would return it.
    event mask = event::none;     ///< What it is ready for: never none, never beyond key.events.

    /** Whether the fd is ready to read. */
    constexpr bool readable() const noexcept { return contains(mask, event::read); }
    /** Whether the fd is ready to write. */
    constexpr bool writable() const noexcept { return contains(mask, event::write); }
};

namespace detail {

/** The C key with its `data` given back its type. */
template <typename Data>
constexpr key<Data> typed(const sel_key &raw) noexcept {
    return {raw.fd, static_cast<event>(raw.events), static_cast<Data *>(raw.data)};
}

/** The C API's untyped `data`: const-ness is the caller's business, as in C. */
template <typename Data>
constexpr void *untyped(Data *data) noexcept {
    return const_cast<void *>(static_cast<const void *>(data));
}

}  // namespace detail

/**
 * Room for the ready events of one wait: `Capacity` entries in the object itself (on the stack,
 * or in the object that owns the loop), so a wait never allocates. When more fds are ready than
 * fit, the next wait reports the rest.
 */
template <std::size_t Capacity>
class event_buffer {
    static_assert(Capacity > 0, "a wait needs room for at least one event");

public:
    /** The entries, for event_span and the C API. */
    sel_event *data() noexcept { return entries_.data(); }
    /** How many events one wait can report. */
    static constexpr std::size_t capacity() noexcept { return Capacity; }

private:
    std::array<sel_event, Capacity> entries_;
};

/**
 * Where a wait writes its events: an event_buffer, or entries the caller sized at run time
 * (`std::vector<sel_event> entries(n); sel.select({entries.data(), entries.size()}, ...)`).
 */
class event_span {
public:
    /** `capacity` entries at `entries` (a capacity of 0 makes the wait fail with EINVAL). */
    constexpr event_span(sel_event *entries, std::size_t capacity) noexcept
        : entries_(entries), capacity_(capacity) {}

    /** All of a buffer's entries. */
    template <std::size_t Capacity>
    constexpr event_span(event_buffer<Capacity> &buffer) noexcept  // NOLINT: implicit by design
        : entries_(buffer.data()), capacity_(Capacity) {}

    /** The first entry. */
    constexpr sel_event *data() const noexcept { return entries_; }
    /** How many entries there are. */
    constexpr std::size_t capacity() const noexcept { return capacity_; }

private:
    sel_event *entries_;
    std::size_t capacity_;
};

/**
 * The ready events of one wait: a view of the entries the wait wrote, valid until the buffer is
 * reused or destroyed. Iterating it yields ready_event<Data> values made on the fly from the C
 * entries; nothing is copied ahead or allocated.
 */
template <typename Data>
class ready_events {
public:
    /** An input iterator over the entries; dereferencing makes a ready_event<Data>. */
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;  ///< Values made on the fly.
        using value_type = ready_event<Data>;               ///< What dereferencing gives.
        using difference_type = std::ptrdiff_t;             ///< Distance between two entries.
        using pointer = void;                               ///< No stored value to point to.
        using reference = ready_event<Data>;                ///< A value, not a reference.

        /** At `entry`. */
        constexpr explicit iterator(const sel_event *entry) noexcept : entry_(entry) {}

        /** The current entry, typed. */
        constexpr ready_event<Data> operator*() const noexcept {
            return {detail::typed<Data>(entry_->key), static_cast<event>(entry_->mask)};
        }
        /** To the next entry. */
        constexpr iterator &operator++() noexcept {
            ++entry_;
            return *this;
        }
        /** To the next entry; returns where it was. */
        constexpr iterator operator++(int) noexcept {
            iterator before = *this;
            ++entry_;
            return before;
        }
        /** Whether both are at the same entry. */
        constexpr bool operator==(const iterator &other) const noexcept {
            return entry_ == other.entry_;
        }
        /** Whether they are at different entries. */
        constexpr bool operator!=(const iterator &other) const noexcept {
            return entry_ != other.entry_;
        }

    private:
        const sel_event *entry_;
    };

    /** The `count` entries at `entries`. */
    constexpr ready_events(const sel_event *entries, std::size_t count) noexcept
        : entries_(entries), count_(count) {}

    /** The first ready event. */
    constexpr iterator begin() const noexcept { return iterator(entries_); }
    /** Past the last ready event. */
    constexpr iterator end() const noexcept { return iterator(entries_ + count_); }
    /** How many fds are ready (0 after a timeout, a wakeup or a failure). */
    constexpr std::size_t size() const noexcept { return count_; }
    /** Whether none is. */
    constexpr bool empty() const noexcept { return count_ == 0; }
    /** The `index`-th ready event (`index < size()`). */
    constexpr ready_event<Data> operator[](std::size_t index) const noexcept {
        return *iterator(entries_ + index);
    }

private:
    const sel_event *entries_;
    std::size_t count_;
};

// ---- Timeouts -------------------------------------------------------------------------------

/** The type of selectors::forever. */
struct forever_t {
    /** Explicit, so `{}` never means forever by accident. */
    explicit constexpr forever_t() = default;
};

/** A timeout that never expires: select() waits until an fd is ready or wakeup() is called. */
inline constexpr forever_t forever{};

/**
 * How long select() may wait: any std::chrono::duration (rounded up by the library, never
 * ending early), or selectors::forever. A negative duration means do not wait (as
 * std::this_thread::sleep_for), never "for ever" as a negative number does in C.
 */
class timeout {
public:
    /** At most `limit`; zero or negative polls. */
    template <typename Rep, typename Period>
    constexpr timeout(std::chrono::duration<Rep, Period> limit) noexcept  // NOLINT: implicit
        : seconds_(not_negative(std::chrono::duration<double>(limit).count())) {}

    /** No limit. */
    constexpr timeout(forever_t) noexcept : seconds_(-1.0) {}  // NOLINT: implicit by design

    /** The C API's timeout: seconds, or -1 for ever. */
    constexpr double seconds() const noexcept { return seconds_; }

private:
    // A NaN stays NaN, for sel_select to refuse with EINVAL.
    static constexpr double not_negative(double seconds) noexcept {
        return seconds < 0 ? 0.0 : seconds;
    }

    double seconds_;
};

// ---- The selector ---------------------------------------------------------------------------

/**
 * A selector that owns its sel_selector: made by the constructor, closed by the destructor
 * (sel_close, which never closes the registered fds). Move-only; a moved-from selector is empty
 * (see the file's comment). `Data` is what every registration's `data` points to; keys and
 * ready events give it back as a `Data *`. For several kinds of handler, use a common base
 * class (the echo example's `handler`); `selector<>` keeps `void *`.
 */
template <typename Data = void>
class selector {
public:
    /** What every registration's data points to. */
    using data_type = Data;
    /** A registration of this selector. */
    using key_type = selectors::key<Data>;
    /** A ready registration of this selector's waits. */
    using ready_type = ready_event<Data>;

    /**
     * Makes a selector of `which` kind with `options` (sel_new). Throws std::system_error: EINVAL
     * for an unknown kind or flag, ENOSYS for a kind this platform lacks, the kernel's error
     * (EMFILE, ...).
     */
    explicit selector(selectors::kind which = selectors::kind::platform_default,
                      flag options = flag::none)
        : handle_(sel_new(static_cast<int>(which), detail::bits(options))) {
        if (handle_ == nullptr)
            detail::throw_error(std::error_code(errno, error_category()), "sel_new");
    }

    /** As selector(kind, flag), reporting failure in `error`; the selector is then empty. */
    selector(selectors::kind which, flag options, std::error_code &error) noexcept
        : handle_(sel_new(static_cast<int>(which), detail::bits(options))) {
        detail::failed(handle_ == nullptr ? -errno : 0, error);
    }

    /** Takes `other`'s selector; `other` is left empty. */
    selector(selector &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    /** Closes this selector, then takes `other`'s; `other` is left empty. */
    selector &operator=(selector &&other) noexcept {
        if (this != &other) {
            sel_close(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    /** One owner: a copy would close the selector twice. */
    selector(const selector &) = delete;
    /** One owner: a copy would close the selector twice. */
    selector &operator=(const selector &) = delete;

    /** Closes the selector (nothing for an empty one). */
    ~selector() { sel_close(handle_); }

    /** Closes the selector now; it is empty afterwards. */
    void close() noexcept { sel_close(std::exchange(handle_, nullptr)); }

    /** Whether it holds a selector (false once moved from or closed). */
    bool is_open() const noexcept { return handle_ != nullptr; }

    /** The C selector, for the C API (owned by this object: do not sel_close it). */
    sel_selector *native_handle() const noexcept { return handle_; }

    /**
     * Registers `fd` for `events` with `data` (Python's register; `register` is a C++ keyword)
     * and returns the new key. Errors: EINVAL for bad events or an empty selector, EBADF for a
     * negative or closed fd, EEXIST if `fd` is registered, the kernel's (EPERM for a regular
     * file on epoll, ...). On error nothing is registered.
     */
    key_type register_fd(int fd, event events, Data *data, std::error_code &error) noexcept {
        sel_key registered;
        const int result = sel_register(handle_, fd, detail::bits(events), detail::untyped(data),
                                        &registered);
        return detail::failed(result, error) ? key_type{} : detail::typed<Data>(registered);
    }

    /** As register_fd(int, event, Data *, std::error_code &), throwing std::system_error. */
    key_type register_fd(int fd, event events, Data *data = nullptr) {
        std::error_code error;
        const key_type registered = register_fd(fd, events, data, error);
        detail::throw_if_failed(error, "sel_register");
        return registered;
    }

    /**
     * Changes the events and data of a registered `fd` (Python's modify) and returns the new
     * key; a change of data alone makes no system call. Errors: ENOENT if `fd` is not registered,
     * EBADF for a negative fd, EINVAL for bad events (the registration unchanged); a kernel error
     * unregisters `fd`, as CPython does.
     */
    key_type modify(int fd, event events, Data *data, std::error_code &error) noexcept {
        sel_key modified;
        const int result = sel_modify(handle_, fd, detail::bits(events), detail::untyped(data),
                                      &modified);
        return detail::failed(result, error) ? key_type{} : detail::typed<Data>(modified);
    }

    /** As modify(int, event, Data *, std::error_code &), throwing std::system_error. */
    key_type modify(int fd, event events, Data *data) {
        std::error_code error;
        const key_type modified = modify(fd, events, data, error);
        detail::throw_if_failed(error, "sel_modify");
        return modified;
    }

    /**
     * Unregisters `fd` (Python's unregister) and returns the key it had; call it before closing
     * the fd. Errors: ENOENT if `fd` is not registered, EBADF for a negative fd.
     */
    key_type unregister(int fd, std::error_code &error) noexcept {
        sel_key removed;
        const int result = sel_unregister(handle_, fd, &removed);
        return detail::failed(result, error) ? key_type{} : detail::typed<Data>(removed);
    }

    /** As unregister(int, std::error_code &), throwing std::system_error. */
    key_type unregister(int fd) {
        std::error_code error;
        const key_type removed = unregister(fd, error);
        detail::throw_if_failed(error, "sel_unregister");
        return removed;
    }

    /** The key of `fd` (Python's get_key). Errors: ENOENT if not registered, EBADF if negative. */
    key_type get_key(int fd, std::error_code &error) const noexcept {
        sel_key found;
        const int result = sel_get_key(handle_, fd, &found);
        return detail::failed(result, error) ? key_type{} : detail::typed<Data>(found);
    }

    /** As get_key(int, std::error_code &), throwing std::system_error. */
    key_type get_key(int fd) const {
        std::error_code error;
        const key_type found = get_key(fd, error);
        detail::throw_if_failed(error, "sel_get_key");
        return found;
    }

    /** How many fds are registered (0 for an empty selector). */
    std::size_t size() const noexcept { return sel_get_map(handle_, nullptr, 0); }

    /**
     * Every registration, in ascending fd order (Python's get_map). It allocates the vector;
     * the wait loop needs no call of it.
     */
    std::vector<key_type> get_map() const {
        std::vector<sel_key> raw(size());
        // Another thread may register meanwhile: grow until one copy fits.
        for (std::size_t total; (total = sel_get_map(handle_, raw.data(), raw.size())) != raw.size();)
            raw.resize(total);
        std::vector<key_type> keys;
        keys.reserve(raw.size());
        for (const sel_key &registered : raw)
            keys.push_back(detail::typed<Data>(registered));
        return keys;
    }

    /**
     * Waits until registered fds are ready or `limit` passes (Python's select) and returns the
     * ready events, written to `out` (one per fd; empty after a timeout or a wakeup). Errors:
     * EINVAL for an empty `out`, a NaN timeout or an empty selector; EBUSY while another thread
     * waits; EINTR with flag::interruptible; the kernel's. Allocates nothing.
     */
    ready_events<Data> select(event_span out, timeout limit, std::error_code &error) noexcept {
        const int ready = sel_select(handle_, limit.seconds(), out.data(), out.capacity());
        return {out.data(), detail::failed(ready, error) ? 0 : static_cast<std::size_t>(ready)};
    }

    /** As select(event_span, timeout, std::error_code &), throwing std::system_error. */
    ready_events<Data> select(event_span out, timeout limit) {
        // The hot path tests the C result once, as C code would: no std::error_code is made
        // unless it failed (one made and cleared on every wait costs two stores).
        const int ready = sel_select(handle_, limit.seconds(), out.data(), out.capacity());
        if (ready < 0)
            detail::throw_return_code(ready, "sel_select");
        return {out.data(), static_cast<std::size_t>(ready)};
    }

    /**
     * Makes a blocked select() (or the next one) return promptly, with no events if nothing
     * else is ready. Any thread may call it, and a signal handler: it only calls sel_wakeup,
     * which is async-signal-safe. It has nothing to report (on an empty selector it does
     * nothing).
     */
    void wakeup() const noexcept { sel_wakeup(handle_); }

    /**
     * In a child after fork(), before any other call: gives the selector its own kernel object
     * and wakeup channel, every registration re-armed (sel_after_fork). Returns how many
     * registrations the kernel refused (fds closed in the child) and were dropped, normally 0.
     * Errors: the kernel's (EMFILE, ...), the selector then unchanged; EINVAL when empty.
     */
    std::size_t after_fork(std::error_code &error) noexcept {
        const int dropped = sel_after_fork(handle_);
        return detail::failed(dropped, error) ? 0 : static_cast<std::size_t>(dropped);
    }

    /** As after_fork(std::error_code &), throwing std::system_error. */
    std::size_t after_fork() {
        std::error_code error;
        const std::size_t dropped = after_fork(error);
        detail::throw_if_failed(error, "sel_after_fork");
        return dropped;
    }

    /**
     * The fd of the kernel object (epoll, kqueue, /dev/poll; Python's fileno()); do not close
     * it. Errors: EOPNOTSUPP for select and poll, which have none; EINVAL when empty.
     */
    int fileno(std::error_code &error) const noexcept {
        const int fd = sel_fileno(handle_);
        return detail::failed(fd, error) ? -1 : fd;
    }

    /** As fileno(std::error_code &), throwing std::system_error. */
    int fileno() const {
        std::error_code error;
        const int fd = fileno(error);
        detail::throw_if_failed(error, "sel_fileno");
        return fd;
    }

    /** The concrete kind (never platform_default while open; platform_default when empty). */
    selectors::kind kind() const noexcept {
        const int concrete = sel_kind_of(handle_);
        return concrete < 0 ? selectors::kind::platform_default
                            : static_cast<selectors::kind>(concrete);
    }

private:
    sel_selector *handle_;
};

}  // namespace selectors

#endif /* SELECTORS_HPP */
