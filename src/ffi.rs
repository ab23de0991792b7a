//! The C API: every `extern "C"` function of the library, and nothing else.
//!
//! Each function validates its pointers, converts its arguments, calls the safe core and maps
//! the result to the contract's convention (`>= 0` or a negative errno). A panic is a bug of
//! ours; `catch_unwind` turns it into `-ENOTRECOVERABLE` (NULL with `errno` for `sel_new`)
//! instead of aborting the host program, since runtimes that embed us must survive our bugs; the
//! selector stays usable for the calls after it (see `crate::shared` and `crate::fault`).

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::mem::{align_of, size_of, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::errno::{Errno, Result};
use crate::error_text;
use crate::events::valid_interest;
use crate::key::{SelEvent, SelKey};
use crate::kind::{Kind, SEL_KIND_DEFAULT};
use crate::shared::SharedSelector;
use crate::version;

// Every thread of the host program may hold the same `sel_selector *` (one waits, others
// register; `sel_wakeup` from anywhere), which is sound only while `SharedSelector` is `Send`
// and `Sync`: a change that breaks that fails to compile here.
const _: () = {
    const fn shared_between_threads<T: Send + Sync>() {}
    shared_between_threads::<SharedSelector>();
};

/// Runs `body`, turning a panic into `on_panic` so it never unwinds into C.
fn guard<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// The return value of an `int` function that yields nothing else.
fn status(result: Result<()>) -> c_int {
    match result {
        Ok(()) => 0,
        Err(err) => err.negated(),
    }
}

/// Runs a call that yields a key, stores the key where the caller asked for it and returns the
/// contract's status.
///
/// # Safety
/// `key_out` is NULL or valid for writing one `sel_key` (alignment not required).
unsafe fn key_status(key_out: *mut SelKey, call: impl FnOnce() -> Result<SelKey>) -> c_int {
    guard(PANICKED, || match call() {
        Ok(key) => {
            if !key_out.is_null() {
                // SAFETY: the caller promises room for one key.
                unsafe { key_out.write_unaligned(key) };
            }
            0
        }
        Err(err) => err.negated(),
    })
}

const PANICKED: c_int = -libc::ENOTRECOVERABLE;

/// The selector behind a handle; `EINVAL` for NULL.
///
/// # Safety
/// `sel` is NULL or a live handle from `sel_new`.
unsafe fn shared<'a>(sel: *const SharedSelector) -> Result<&'a SharedSelector> {
    // SAFETY: the caller promises a live handle; SharedSelector is Sync, so other threads may
    // hold the same reference.
    unsafe { sel.as_ref() }.ok_or(Errno(libc::EINVAL))
}

/// The caller's array as a slice of at most `len` entries (clamped to what memory can hold);
/// `EINVAL` for a NULL or misaligned pointer.
///
/// # Safety
/// `array` is NULL or valid for writing `len` entries.
unsafe fn out_slice<'a, T>(array: *mut T, len: usize) -> Result<&'a mut [MaybeUninit<T>]> {
    if array.is_null() || (array as usize) % align_of::<T>() != 0 {
        return Err(Errno(libc::EINVAL));
    }
    let len = len.min(isize::MAX as usize / size_of::<T>());
    // SAFETY: the caller promises `len` writable entries; MaybeUninit needs no initialisation.
    Ok(unsafe { std::slice::from_raw_parts_mut(array.cast(), len) })
}

/// Creates a selector of `kind` (`SEL_KIND_*`) with `flags` (0, or `SEL_FLAG_EINTR` and/or
/// `SEL_FLAG_MODES`).
///
/// Returns NULL and sets `errno` on failure: `EINVAL` for an unknown kind or flag bit, `ENOSYS`
/// for a kind this platform lacks (kqueue on Linux, …), else the kernel's error (`EMFILE`, …).
/// `SEL_KIND_DEFAULT` picks the platform's best kind and falls back to poll, then select, when
/// the kernel refuses it. Every fd the selector opens is close-on-exec.
#[no_mangle]
pub extern "C" fn sel_new(kind: c_int, flags: c_uint) -> *mut SharedSelector {
    let created = guard(Err(Errno(libc::ENOTRECOVERABLE)), || {
        let kind = match kind {
            SEL_KIND_DEFAULT => None,
            raw => Some(Kind::from_raw(raw).ok_or(Errno(libc::EINVAL))?),
        };
        let selector = SharedSelector::new(kind, flags)?;
        Ok(Box::into_raw(Box::new(selector)))
    });
    created.unwrap_or_else(|Errno(err)| {
        Errno(err).set_last();
        ptr::null_mut()
    })
}

/// Registers `fd` for `events` (`SEL_EVENT_READ`, `SEL_EVENT_WRITE` or both, plus the mode bits
/// on a selector made with `SEL_FLAG_MODES`) with the caller's opaque `data`, like Python's
/// `register`. When `key_out` is not NULL it receives the new key.
///
/// Returns 0, or: `-EINVAL` for a NULL `sel` or bad events; `-EOPNOTSUPP` for a mode bit this
/// kind lacks (`SEL_EVENT_EDGE` outside EPOLL and KQUEUE); `-EBADF` for `fd < 0` or a closed
/// fd; `-EEXIST` if `fd` is registered, or is the selector's own wakeup fd; `-EINVAL` for
/// `fd >= FD_SETSIZE` on SELECT; the kernel's error (`-EPERM` for a regular file on EPOLL, …).
/// On error nothing is recorded.
///
/// # Safety
/// `sel` is NULL or a live selector; `key_out` is NULL or points to writable memory for one key.
#[no_mangle]
pub unsafe extern "C" fn sel_register(
    sel: *mut SharedSelector,
    fd: c_int,
    events: u32,
    data: *mut c_void,
    key_out: *mut SelKey,
) -> c_int {
    // SAFETY: the caller's promises, as documented above.
    unsafe { key_status(key_out, || shared(sel)?.lock().register(fd, events, data)) }
}

/// Changes the events and/or data of a registered `fd`, like Python's `modify`. A change of
/// `data` alone makes no system call, except on a oneshot registration, which it re-arms. When
/// `key_out` is not NULL it receives the new key.
///
/// Returns 0, or: `-EINVAL` for a NULL `sel`; `-EBADF` for `fd < 0`; `-ENOENT` if `fd` is not
/// registered; `-EINVAL` for bad events, `-EOPNOTSUPP` for a mode bit this kind lacks (the
/// registration is unchanged either way); the kernel's error, in which case `fd` has been
/// unregistered (as CPython does).
///
/// # Safety
/// `sel` is NULL or a live selector; `key_out` is NULL or points to writable memory for one key.
#[no_mangle]
pub unsafe extern "C" fn sel_modify(
    sel: *mut SharedSelector,
    fd: c_int,
    events: u32,
    data: *mut c_void,
    key_out: *mut SelKey,
) -> c_int {
    // SAFETY: the caller's promises, as documented above.
    unsafe { key_status(key_out, || shared(sel)?.lock().modify(fd, events, data)) }
}

/// Unregisters `fd`, like Python's `unregister`. When `key_out` is not NULL it receives the key
/// that was registered (with its `data`, which the library never frees).
///
/// Returns 0, or `-EINVAL` for a NULL `sel`, `-EBADF` for `fd < 0`, `-ENOENT` if `fd` is not
/// registered. Succeeds even when `fd` was closed first, or closed and its number reused; but
/// unregister before close: on EPOLL a closed fd whose file lives on in a `dup` stays in the
/// kernel set (its events are then dropped, never reported to a later registration).
///
/// # Safety
/// `sel` is NULL or a live selector; `key_out` is NULL or points to writable memory for one key.
#[no_mangle]
pub unsafe extern "C" fn sel_unregister(
    sel: *mut SharedSelector,
    fd: c_int,
    key_out: *mut SelKey,
) -> c_int {
    // SAFETY: the caller's promises, as documented above.
    unsafe { key_status(key_out, || shared(sel)?.lock().unregister(fd)) }
}

/// Waits until registered fds are ready or `timeout` seconds pass, like Python's `select`, and
/// writes up to `max_events` entries to `events`, one per ready fd: its key and
/// `mask = ready & key.events` (never 0). Hang-ups and errors report readable and/or writable,
/// as CPython maps them. When more fds are ready than fit, later calls report the rest.
///
/// `timeout < 0` or `+INFINITY` waits for ever, `0` polls. The wait never ends early on a
/// timeout; it retries after a signal with the time left, unless the selector was made with
/// `SEL_FLAG_EINTR`. `sel_wakeup` ends it with 0 entries if nothing else is ready.
///
/// Other threads may register, modify and unregister fds meanwhile; the blocked wait watches
/// the new set from then on.
///
/// Returns the number of entries written (0 on timeout), or: `-EINVAL` for a NULL `sel` or
/// `events`, `max_events == 0` or a NaN timeout; `-EBUSY` while another thread is in
/// `sel_select` on this selector; `-EINTR` with `SEL_FLAG_EINTR`; `-EBADF` on SELECT when a
/// registered fd was closed; another kernel error.
///
/// # Safety
/// `sel` is NULL or a live selector; `events` is NULL or points to `max_events` writable entries.
#[no_mangle]
pub unsafe extern "C" fn sel_select(
    sel: *mut SharedSelector,
    timeout: f64,
    events: *mut SelEvent,
    max_events: usize,
) -> c_int {
    guard(PANICKED, || {
        let selected = (|| {
            // SAFETY: the caller's promises, as documented above.
            let selector = unsafe { shared(sel) }?;
            if max_events == 0 {
                return Err(Errno(libc::EINVAL));
            }
            // SAFETY: `events` holds `max_events` writable entries, as documented above.
            let out = unsafe { out_slice(events, max_events) }?;
            selector.select(timeout, out)
        })();
        match selected {
            Ok(count) => c_int::try_from(count).unwrap_or(c_int::MAX),
            Err(err) => err.negated(),
        }
    })
}

/// Frees the selector and closes the library's own fds (never the registered ones). NULL is
/// allowed. Returns 0.
///
/// # Safety
/// `sel` is NULL or a live selector, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn sel_close(sel: *mut SharedSelector) -> c_int {
    guard(PANICKED, || {
        if !sel.is_null() {
            // SAFETY: the handle came from Box::into_raw in sel_new and is given up here.
            drop(unsafe { Box::from_raw(sel) });
        }
        0
    })
}

/// Looks up the key of `fd`, like Python's `get_key`. `key_out` may be NULL (a membership test).
///
/// Returns 0, or `-EINVAL` for a NULL `sel`, `-EBADF` for `fd < 0`, `-ENOENT` if `fd` is not
/// registered.
///
/// # Safety
/// `sel` is NULL or a live selector; `key_out` is NULL or points to writable memory for one key.
#[no_mangle]
pub unsafe extern "C" fn sel_get_key(
    sel: *const SharedSelector,
    fd: c_int,
    key_out: *mut SelKey,
) -> c_int {
    // SAFETY: the caller's promises, as documented above.
    unsafe { key_status(key_out, || shared(sel)?.lock().get_key(fd)) }
}

/// Copies up to `cap` keys, in ascending fd order, to `keys` (Python's `get_map`), and returns
/// how many fds are registered in all: a call with `(NULL, 0)` sizes the buffer. A NULL `keys`
/// copies nothing; a NULL `sel` returns 0.
///
/// # Safety
/// `sel` is NULL or a live selector; `keys` is NULL or points to `cap` writable keys.
#[no_mangle]
pub unsafe extern "C" fn sel_get_map(
    sel: *const SharedSelector,
    keys: *mut SelKey,
    cap: usize,
) -> usize {
    guard(0, || {
        // SAFETY: the caller's promises, as documented above.
        let Ok(shared) = (unsafe { shared(sel) }) else {
            return 0;
        };
        let selector = shared.lock();
        // SAFETY: `keys` is NULL or holds `cap` writable keys, as documented above.
        match unsafe { out_slice(keys, cap) } {
            Ok(out) => selector.registry().copy_keys(out),
            Err(_) => selector.registry().len(),
        }
    })
}

/// The selector's concrete kind (`SEL_KIND_SELECT`, …; never `SEL_KIND_DEFAULT`), or `-EINVAL`
/// for a NULL `sel`.
///
/// # Safety
/// `sel` is NULL or a live selector.
#[no_mangle]
pub unsafe extern "C" fn sel_kind_of(sel: *const SharedSelector) -> c_int {
    guard(PANICKED, || {
        // SAFETY: the caller's promise, as documented above.
        match unsafe { shared(sel) } {
            Ok(shared) => shared.lock().kind().raw(),
            Err(err) => err.negated(),
        }
    })
}

/// CPython's class name of a kind (`"EpollSelector"`, …; for `SEL_KIND_DEFAULT`, the name of
/// the kind DEFAULT prefers on this platform), or NULL for an unknown kind. The string is static.
#[no_mangle]
pub extern "C" fn sel_kind_name(kind: c_int) -> *const c_char {
    guard(ptr::null(), || {
        Kind::from_raw(kind).map_or(ptr::null(), |kind| kind.name().as_ptr())
    })
}

/// The fd of the kernel object (the epoll, kqueue or /dev/poll fd, like Python's `fileno()`),
/// `-EOPNOTSUPP` for SELECT and POLL, `-EINVAL` for a NULL `sel`. Do not close it.
///
/// # Safety
/// `sel` is NULL or a live selector.
#[no_mangle]
pub unsafe extern "C" fn sel_fileno(sel: *const SharedSelector) -> c_int {
    guard(PANICKED, || {
        // SAFETY: the caller's promise, as documented above.
        match unsafe { shared(sel) }.and_then(|shared| shared.lock().fileno()) {
            Ok(fd) => fd,
            Err(err) => err.negated(),
        }
    })
}

/// Makes a blocked `sel_select` (or the next one) return promptly, with 0 entries if nothing
/// else is ready. Wakeups coalesce. Thread-safe and async-signal-safe (it keeps `errno`).
///
/// Returns 0, or `-EINVAL` for a NULL `sel`.
///
/// # Safety
/// `sel` is NULL or a live selector (it may be in use by another thread).
#[no_mangle]
pub unsafe extern "C" fn sel_wakeup(sel: *mut SharedSelector) -> c_int {
    guard(PANICKED, || {
        // SAFETY: the caller's promise, as documented above.
        status(unsafe { shared(sel) }.and_then(SharedSelector::wakeup))
    })
}

/// The library's version at run time: `SEL_VERSION_MAJOR << 16 | SEL_VERSION_MINOR << 8 |
/// SEL_VERSION_PATCH` of the library actually loaded, to compare with the header's macros.
#[no_mangle]
pub extern "C" fn sel_version() -> u32 {
    version::packed()
}

/// A static, human-readable description of a `sel_*` return code: `"success"` for `rc >= 0`;
/// for a negative errno value, the library's own short text where it knows the cause
/// (`-EEXIST`: "file descriptor already registered", …), else the system's description of
/// that errno (as `strerror` gives it); a generic text for a value that is no errno. Never
/// NULL, the same pointer on every call; thread-safe.
#[no_mangle]
pub extern "C" fn sel_strerror(rc: c_int) -> *const c_char {
    guard(error_text::describe(libc::ENOTRECOVERABLE).as_ptr(), || {
        if rc >= 0 {
            c"success".as_ptr()
        } else {
            error_text::describe(rc.saturating_neg()).as_ptr()
        }
    })
}

/// Gives the selector of a child process its own kernel state after `fork()`: a new kernel
/// object (epoll set, kqueue, /dev/poll fd) and wakeup channel, with every registration of the
/// map re-armed on it, without touching what the parent still uses (libev's `ev_loop_fork`,
/// libevent's `event_reinit`). Call it in the child, right after `fork()`, before any other
/// call on the selector; without it the child shares the parent's epoll set and wakeup
/// channel, so its changes and wakeups reach the parent. On the other kernels the child cannot
/// use the parent's object at all: a kqueue is not inherited by `fork()`, and a /dev/poll fd
/// answers a child's changes and waits with `EACCES`.
///
/// KQUEUE on Linux runs on libkqueue, which cannot free the parent's state in a child (its
/// BUGS.md: a forked child must `exec()` or `_exit()` soon after): there `sel_after_fork` gives
/// the child a working selector, but libkqueue's memory from the parent stays allocated in the
/// child, and libkqueue does not support a long-lived child that never calls `exec()`; such a
/// child should use POLL or EPOLL.
///
/// Returns the number of registrations removed from the map because the child could not
/// register them now, on every kind alike (their fds were closed in the child, or the kernel
/// refuses the file now at that number), normally 0; or a negative errno if the new
/// kernel object could not be made (`-EMFILE`, …), the selector then unchanged; `-EINVAL` for a
/// NULL `sel`.
///
/// # Safety
/// `sel` is NULL or a live selector, used by no other thread (after `fork()` there is none).
#[no_mangle]
pub unsafe extern "C" fn sel_after_fork(sel: *mut SharedSelector) -> c_int {
    guard(PANICKED, || {
        // SAFETY: the caller's promise, as documented above; after fork this thread is alone.
        let Some(selector) = (unsafe { sel.as_mut() }) else {
            return Errno(libc::EINVAL).negated();
        };
        match selector.after_fork() {
            Ok(dropped) => c_int::try_from(dropped).unwrap_or(c_int::MAX),
            Err(err) => err.negated(),
        }
    })
}

/// Whether selectors of `kind` accept the interest set `events`, before registering: 1 if they
/// do, 0 if a mode bit is one the kind lacks (`SEL_EVENT_EDGE` on SELECT, POLL and DEVPOLL,
/// where `sel_register` would return `-EOPNOTSUPP`), `-EINVAL` for an unknown kind or bits
/// `sel_register` refuses everywhere. It answers for the kind, not for this platform:
/// `sel_new` says whether the kind exists here. DEFAULT means the kind DEFAULT prefers.
#[no_mangle]
pub extern "C" fn sel_supports(kind: c_int, events: u32) -> c_int {
    guard(PANICKED, || match Kind::from_raw(kind) {
        Some(kind) if valid_interest(events) => c_int::from(kind.supports(events)),
        _ => Errno(libc::EINVAL).negated(),
    })
}

/// Test hook of debug builds, not in the header and absent from release builds: makes the next
/// call that reaches `stage` (a name from `src/fault.rs`: `"register:kernel"`, …) panic there,
/// once, so `c_tests/panics.c` can prove the selector stays usable after a panic.
///
/// Returns 0, or `-EINVAL` for a NULL or unknown name.
///
/// # Safety
/// `stage` is NULL or a NUL-terminated string.
#[cfg(debug_assertions)]
#[no_mangle]
pub unsafe extern "C" fn sel_debug_inject_panic(stage: *const c_char) -> c_int {
    guard(PANICKED, || {
        if stage.is_null() {
            return Errno(libc::EINVAL).negated();
        }
        // SAFETY: the caller's promise, as documented above.
        let name = unsafe { std::ffi::CStr::from_ptr(stage) };
        if crate::fault::arm(name.to_bytes()) {
            0
        } else {
            Errno(libc::EINVAL).negated()
        }
    })
}
