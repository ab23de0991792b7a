//! The one way the backends make a system call ([`syscall!`], after mio's), and the small fd
//! helpers built on it.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::errno::Result;

/// Calls the C function `$function` (`libc::epoll_ctl`, `sys::kevent`, …) with `$args`: `Ok`
/// with what it returned, or the thread's `errno` when it returned `-1` (every system call the
/// crate makes reports failure so).
///
/// The call is unsafe: each use says why its arguments are valid in a `// SAFETY:` comment,
/// as an `unsafe` block would.
macro_rules! syscall {
    ($($function:ident)::+($($arg:expr),* $(,)?)) => {{
        // SAFETY: the caller's comment states why these arguments are valid for `$function`.
        let returned = unsafe { $($function)::+($($arg),*) };
        if returned == -1 {
            Err($crate::errno::Errno::last())
        } else {
            Ok(returned)
        }
    }};
}
pub(super) use syscall;

/// `EBADF` unless `fd` is an open file descriptor. select and poll would accept a closed fd
/// silently (poll reports POLLNVAL later), so they check it at register time like epoll does.
pub fn ensure_open(fd: RawFd) -> Result<()> {
    // SAFETY: F_GETFD only reads the descriptor flags; any fd value is allowed.
    syscall!(libc::fcntl(fd, libc::F_GETFD)).map(drop)
}

/// Takes ownership of the fd a successful system call just created.
pub fn owned(fd: RawFd) -> OwnedFd {
    debug_assert!(fd >= 0);
    // SAFETY: the caller passes an fd its own system call just created and nobody else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Marks `fd` close-on-exec, where the call that made it has no flag for that (`kqueue` outside
/// NetBSD, `pipe` on Apple systems, which lack `pipe2`).
#[cfg(any(target_vendor = "apple", all(kqueue, not(target_os = "netbsd"))))]
pub fn set_close_on_exec(fd: RawFd) -> Result<()> {
    // SAFETY: F_SETFD takes an integer; FD_CLOEXEC is the only descriptor flag.
    syscall!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC)).map(drop)
}
