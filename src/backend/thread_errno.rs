//! The calling thread's `errno`: read and written where the C API promises to leave it alone
//! (`sel_wakeup` in a signal handler) or to set it (`sel_new` returning NULL).

/// The calling thread's `errno`.
pub fn get() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets the calling thread's `errno`.
pub fn set(value: i32) {
    // SAFETY: each platform's function returns a pointer to this thread's errno slot.
    unsafe { *location() = value };
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn location() -> *mut i32 {
    // SAFETY: __errno_location has no preconditions.
    unsafe { libc::__errno_location() }
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
fn location() -> *mut i32 {
    // SAFETY: __error has no preconditions.
    unsafe { libc::__error() }
}

#[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
fn location() -> *mut i32 {
    // SAFETY: __errno has no preconditions.
    unsafe { libc::__errno() }
}

#[cfg(any(target_os = "illumos", target_os = "solaris"))]
fn location() -> *mut i32 {
    // SAFETY: ___errno has no preconditions.
    unsafe { libc::___errno() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn set_then_get() {
        super::set(libc::EXDEV);
        assert_eq!(super::get(), libc::EXDEV);
    }
}
