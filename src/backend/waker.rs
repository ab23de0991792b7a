//! The selector's own wakeup channel, behind `sel_wakeup`.
//!
//! An eventfd on Linux, a pipe elsewhere. Both ends are non-blocking and close-on-exec: a wake
//! that finds the channel full (EAGAIN) has nothing left to do, since the channel is already
//! signalled, and the waiting side drains it completely before reporting.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::fd::{owned, syscall};
use crate::errno::{Errno, Result};

/// The wakeup channel of one selector. `wake` is thread-safe and async-signal-safe.
#[derive(Debug)]
pub struct Waker {
    watched: OwnedFd,
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    signalled: OwnedFd,
}

impl Waker {
    /// Opens the channel.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn new() -> Result<Waker> {
        // SAFETY: eventfd takes no pointers.
        let fd = syscall!(libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK))?;
        Ok(Waker { watched: owned(fd) })
    }

    /// Opens the channel.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub fn new() -> Result<Waker> {
        let (watched, signalled) = pipe()?;
        Ok(Waker { watched, signalled })
    }

    /// The fd a backend watches for readability.
    pub fn watched_fd(&self) -> RawFd {
        self.watched.as_raw_fd()
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn signalled_fd(&self) -> RawFd {
        self.watched.as_raw_fd()
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn signalled_fd(&self) -> RawFd {
        self.signalled.as_raw_fd()
    }

    /// Makes the watched fd readable. Keeps the caller's `errno`, since signal handlers call it.
    pub fn wake(&self) -> Result<()> {
        let saved = Errno::last();
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an fd this waker owns.
        let written = syscall!(libc::write(
            self.signalled_fd(),
            (&one as *const u64).cast(),
            std::mem::size_of::<u64>(),
        ));
        let result = match written {
            Ok(_) | Err(Errno(libc::EAGAIN)) => Ok(()),
            Err(err) => Err(err),
        };
        saved.set_last();
        result
    }
}

/// A non-blocking, close-on-exec pipe (read end, write end), made so atomically by `pipe2`.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut ends = [-1; 2];
    // SAFETY: `ends` has room for the two fds pipe2 writes.
    syscall!(libc::pipe2(
        ends.as_mut_ptr(),
        libc::O_CLOEXEC | libc::O_NONBLOCK
    ))?;
    Ok((owned(ends[0]), owned(ends[1])))
}

/// A non-blocking, close-on-exec pipe (read end, write end). Apple systems have no `pipe2`, so
/// the flags are set right after `pipe`; the window left is an `exec` by another thread between
/// the calls.
#[cfg(target_vendor = "apple")]
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    use super::fd::set_close_on_exec;
    let mut ends = [-1; 2];
    // SAFETY: `ends` has room for the two fds pipe writes.
    syscall!(libc::pipe(ends.as_mut_ptr()))?;
    let ends = (owned(ends[0]), owned(ends[1]));
    for end in [&ends.0, &ends.1] {
        let fd = end.as_raw_fd();
        set_close_on_exec(fd)?;
        // SAFETY: F_GETFL and F_SETFL on an fd this function owns take integers.
        let flags = syscall!(libc::fcntl(fd, libc::F_GETFL))?;
        // SAFETY: as above.
        syscall!(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(ends)
}

/// Empties the channel whose watched end is `fd`, so the next wait blocks again.
pub fn drain(fd: RawFd) {
    let mut buffer = [0u8; 64];
    // An eventfd empties in one 8-byte read; a pipe is read until a short read (or EAGAIN).
    // SAFETY: reads into a live local buffer of the given length.
    while syscall!(libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()))
        == Ok(buffer.len() as isize)
    {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(fd: RawFd) -> bool {
        let mut pollfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        syscall!(libc::poll(&mut pollfd, 1, 0)) == Ok(1)
    }

    #[test]
    fn wakes_coalesce_and_drain_empties() {
        let waker = Waker::new().unwrap();
        assert!(!readable(waker.watched_fd()));
        for _ in 0..3 {
            waker.wake().unwrap();
        }
        assert!(readable(waker.watched_fd()));
        drain(waker.watched_fd());
        assert!(!readable(waker.watched_fd()));
    }

    #[test]
    fn wake_keeps_errno() {
        let waker = Waker::new().unwrap();
        Errno(libc::ENOTTY).set_last();
        waker.wake().unwrap();
        assert_eq!(Errno::last(), Errno(libc::ENOTTY));
    }
}
