//! The crate's one errno module: the error type of the core (a positive errno value) and the
//! calling thread's `errno`.
//!
//! The contract returns errors as negative errno values and never relies on the thread's
//! `errno`, so every fallible call in the crate carries its errno explicitly. The thread's
//! `errno` is read right after a failed system call ([`Errno::last`]), saved and restored where
//! the C API promises to leave it alone (`sel_wakeup` in a signal handler), and set where it
//! promises to set it (`sel_new` returning NULL). Writing it is the one `unsafe` outside the
//! backends and the FFI layer: a store through the pointer libc gives for this thread's slot,
//! not a system call.

use std::fmt;

/// A positive `errno` value (`libc::EINVAL`, …); the FFI layer returns it negated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The calling thread's `errno`, read right after a failed system call.
    pub fn last() -> Errno {
        Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// Makes this the calling thread's `errno`.
    pub fn set_last(self) {
        // SAFETY: each platform's function returns a valid pointer to this thread's errno slot.
        unsafe { *location() = self.0 };
    }

    /// The value the C API returns for this error.
    pub fn negated(self) -> i32 {
        -self.0
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Errno({}: {})",
            self.0,
            std::io::Error::from_raw_os_error(self.0)
        )
    }
}

/// The result of every fallible operation of the core.
pub type Result<T> = std::result::Result<T, Errno>;

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
    use super::*;

    #[test]
    fn set_last_then_last() {
        Errno(libc::EXDEV).set_last();
        assert_eq!(Errno::last(), Errno(libc::EXDEV));
    }
}
