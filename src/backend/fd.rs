//! Small fd helpers shared by the backends.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::errno::{Errno, Result};

/// `EBADF` unless `fd` is an open file descriptor. select and poll would accept a closed fd
/// silently (poll reports POLLNVAL later), so they check it at register time like epoll does.
pub fn ensure_open(fd: RawFd) -> Result<()> {
    // SAFETY: F_GETFD only reads the descriptor flags; any fd value is allowed.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Takes ownership of the fd a successful system call returned (`-1` means failure).
pub fn owned(fd: RawFd) -> Result<OwnedFd> {
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the caller passes an fd its own system call just created and nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `Ok(())` for a system call's `0`, else its errno.
pub fn check(rc: libc::c_int) -> Result<()> {
    if rc == -1 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Marks `fd` close-on-exec, where the call that made it has no flag for that (`kqueue` outside
/// NetBSD, `pipe` on Apple systems, which lack `pipe2`).
#[cfg(any(target_vendor = "apple", all(kqueue, not(target_os = "netbsd"))))]
pub fn set_close_on_exec(fd: RawFd) -> Result<()> {
    // SAFETY: F_SETFD takes an integer; FD_CLOEXEC is the only descriptor flag.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) })
}
