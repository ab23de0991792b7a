//! The error type of the core: a positive errno value.
//!
//! The contract returns errors as negative errno values and never relies on the thread's
//! `errno`, so every fallible call in the crate carries its errno explicitly.

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
