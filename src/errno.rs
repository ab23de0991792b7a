//! The error type of the core: a positive errno value.
//!
//! The contract returns errors as negative errno values and never relies on the thread's
//! `errno`, so every fallible call in the crate carries its errno explicitly.

use std::ffi::CStr;
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

    /// What this error means when a `sel_*` call returns it, for `sel_strerror`.
    pub fn describe(self) -> &'static CStr {
        match self.0 {
            libc::EINVAL => c"invalid argument: bad events, NaN timeout, NULL pointer, empty buffer, fd beyond FD_SETSIZE on select, or unknown kind or flag",
            libc::EBADF => c"bad file descriptor: negative, or not open",
            libc::EEXIST => c"file descriptor already registered",
            libc::ENOENT => c"file descriptor not registered",
            libc::EPERM => c"operation not permitted: the kernel refuses this file (a regular file on epoll) or a seccomp filter refuses the call",
            libc::ENOSYS => c"selector kind not available on this platform",
            libc::EINTR => c"interrupted by a signal",
            libc::EOPNOTSUPP => c"not supported by this selector kind",
            libc::EMFILE => c"too many open files in this process",
            libc::ENFILE => c"too many open files in the system",
            libc::ENOMEM => c"out of memory",
            libc::ENOSPC => c"kernel limit on watched file descriptors reached (epoll max_user_watches)",
            libc::EBUSY => c"another thread is already waiting on this selector",
            libc::ENOTRECOVERABLE => c"internal error in libselectors (a bug: please report it)",
            _ => c"unexpected error code",
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contract_error_is_described() {
        for errno in [
            libc::EINVAL,
            libc::EBADF,
            libc::EEXIST,
            libc::ENOENT,
            libc::EPERM,
            libc::ENOSYS,
            libc::EINTR,
        ] {
            assert_ne!(Errno(errno).describe(), c"unexpected error code");
        }
        assert_eq!(Errno(libc::EXDEV).describe(), c"unexpected error code");
    }
}
