//! `select(2)`: everywhere, but only for fds below `FD_SETSIZE` (1024 with glibc), which
//! registration refuses with `EINVAL` rather than overflow the `fd_set`.
//!
//! Two master sets are kept between calls and copied for each wait, since the kernel overwrites
//! the sets it is given (and leaves them undefined after EINTR, CPython bpo-35310).

use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use super::fd::{check, ensure_open};
use super::{push, ready_entry, waker, Backend, Relocation, Waited};
use crate::errno::{Errno, Result};
use crate::events::{SEL_EVENT_ONESHOT, SEL_EVENT_READ, SEL_EVENT_WRITE};
use crate::key::SelEvent;
use crate::kind::Kind;
use crate::registry::Registry;

/// One more than the highest fd an `fd_set` holds.
const SET_SIZE: RawFd = libc::FD_SETSIZE as RawFd;

/// An `fd_set` with safe accessors for fds already checked to be below `FD_SETSIZE`.
#[derive(Clone, Copy)]
struct FdSet(libc::fd_set);

impl FdSet {
    fn empty() -> FdSet {
        let mut set = MaybeUninit::<libc::fd_set>::uninit();
        // SAFETY: FD_ZERO initialises the whole set.
        unsafe {
            libc::FD_ZERO(set.as_mut_ptr());
            FdSet(set.assume_init())
        }
    }

    fn insert(&mut self, fd: RawFd) {
        debug_assert!((0..SET_SIZE).contains(&fd));
        // SAFETY: fd is within the set (checked at registration).
        unsafe { libc::FD_SET(fd, &mut self.0) }
    }

    fn remove(&mut self, fd: RawFd) {
        debug_assert!((0..SET_SIZE).contains(&fd));
        // SAFETY: fd is within the set (checked at registration).
        unsafe { libc::FD_CLR(fd, &mut self.0) }
    }

    fn contains(&self, fd: RawFd) -> bool {
        debug_assert!((0..SET_SIZE).contains(&fd));
        // SAFETY: fd is within the set (checked at registration).
        unsafe { libc::FD_ISSET(fd, &self.0) }
    }
}

/// The master sets, their highest fd and where the next scan of results starts.
pub struct SelectBackend {
    waker_fd: RawFd,
    readers: FdSet,
    writers: FdSet,
    max_fd: RawFd,
    /// Results are scanned from this fd, wrapping around, and the scan resumes after the last fd
    /// reported: with a result buffer smaller than the ready set, every fd gets its turn.
    scan_start: RawFd,
}

impl SelectBackend {
    /// Sets watching only `waker_fd`; `EMFILE` if that fd is already beyond `FD_SETSIZE`.
    pub fn new(waker_fd: RawFd) -> Result<SelectBackend> {
        if waker_fd >= SET_SIZE {
            return Err(Errno(libc::EMFILE));
        }
        let mut readers = FdSet::empty();
        readers.insert(waker_fd);
        Ok(SelectBackend {
            waker_fd,
            readers,
            writers: FdSet::empty(),
            max_fd: waker_fd,
            scan_start: 0,
        })
    }

    fn set_interest(&mut self, fd: RawFd, events: u32) {
        self.max_fd = self.max_fd.max(fd);
        if events & SEL_EVENT_READ != 0 {
            self.readers.insert(fd);
        } else {
            self.readers.remove(fd);
        }
        if events & SEL_EVENT_WRITE != 0 {
            self.writers.insert(fd);
        } else {
            self.writers.remove(fd);
        }
    }

    fn watched(&self, fd: RawFd) -> bool {
        self.readers.contains(fd) || self.writers.contains(fd)
    }
}

/// A `timeval` rounded up to the microsecond, so the kernel never wakes before the deadline.
fn timeval_rounded_up(wait: Duration) -> libc::timeval {
    let micros = wait.subsec_nanos().div_ceil(1_000);
    let (secs, micros) = if micros == 1_000_000 {
        (wait.as_secs() + 1, 0)
    } else {
        (wait.as_secs(), micros)
    };
    libc::timeval {
        tv_sec: secs as libc::time_t,
        tv_usec: micros as libc::suseconds_t,
    }
}

impl Backend for SelectBackend {
    fn kind(&self) -> Kind {
        Kind::Select
    }

    fn fileno(&self) -> Option<RawFd> {
        None
    }

    fn admit(&self, fd: RawFd) -> Result<()> {
        if fd >= SET_SIZE {
            return Err(Errno(libc::EINVAL));
        }
        ensure_open(fd)
    }

    fn add(&mut self, fd: RawFd, events: u32) -> Result<u32> {
        self.set_interest(fd, events);
        Ok(0)
    }

    fn modify(&mut self, fd: RawFd, token: u32, events: u32) -> Result<u32> {
        self.set_interest(fd, events);
        Ok(token)
    }

    fn remove(&mut self, fd: RawFd, _token: u32) -> Option<Relocation> {
        self.readers.remove(fd);
        self.writers.remove(fd);
        while self.max_fd > self.waker_fd && !self.watched(self.max_fd) {
            self.max_fd -= 1;
        }
        None
    }

    fn wait(
        &mut self,
        registry: &Registry,
        wait: Option<Duration>,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Result<Waited> {
        let mut readable = self.readers;
        let mut writable = self.writers;
        let mut timeout = wait.map(timeval_rounded_up);
        let timeout_ptr = timeout.as_mut().map_or(std::ptr::null_mut(), |timeout| {
            timeout as *mut libc::timeval
        });
        // SAFETY: the sets and the timeout are live locals; nfds covers every fd in the sets.
        let ready = unsafe {
            libc::select(
                self.max_fd + 1,
                &mut readable.0,
                &mut writable.0,
                std::ptr::null_mut(),
                timeout_ptr,
            )
        };
        check(ready.min(0))?;
        let mut left = ready as usize;
        let waker_fired = readable.contains(self.waker_fd);
        if waker_fired {
            waker::drain(self.waker_fd);
            left -= 1;
        }
        let mut written = 0;
        let fds = self.max_fd + 1;
        let mut fd = self.scan_start % fds;
        for _ in 0..fds {
            if left == 0 || written == out.len() {
                break;
            }
            let current = fd;
            fd = (fd + 1) % fds;
            if current == self.waker_fd {
                continue;
            }
            let mut ready = 0;
            if readable.contains(current) {
                ready |= SEL_EVENT_READ;
                left -= 1;
            }
            if writable.contains(current) {
                ready |= SEL_EVENT_WRITE;
                left -= 1;
            }
            if ready == 0 {
                continue;
            }
            if let Some(event) = registry
                .get(current)
                .and_then(|key| ready_entry(key, ready))
            {
                push(out, &mut written, event);
                self.scan_start = fd;
                if event.key.events & SEL_EVENT_ONESHOT != 0 {
                    self.set_interest(current, 0);
                }
            }
        }
        Ok(Waited {
            reported: written,
            kernel_woke: ready > 0,
            waker_fired,
        })
    }

    fn heap_bytes(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timevals_round_up() {
        let tv = timeval_rounded_up(Duration::from_nanos(1));
        assert_eq!((tv.tv_sec, tv.tv_usec), (0, 1));
        let tv = timeval_rounded_up(Duration::new(2, 999_999_001));
        assert_eq!((tv.tv_sec, tv.tv_usec), (3, 0));
        let tv = timeval_rounded_up(Duration::from_micros(1_500_000));
        assert_eq!((tv.tv_sec, tv.tv_usec), (1, 500_000));
    }

    #[test]
    fn the_highest_fd_follows_removals() {
        let mut backend = SelectBackend::new(3).unwrap();
        backend.add(10, SEL_EVENT_READ).unwrap();
        backend.add(20, SEL_EVENT_WRITE).unwrap();
        assert_eq!(backend.max_fd, 20);
        backend.remove(20, 0);
        assert_eq!(backend.max_fd, 10);
        backend.remove(10, 0);
        assert_eq!(backend.max_fd, 3);
    }

    #[test]
    fn fds_beyond_the_set_are_refused() {
        let backend = SelectBackend::new(3).unwrap();
        assert_eq!(backend.admit(SET_SIZE), Err(Errno(libc::EINVAL)));
        assert!(SelectBackend::new(SET_SIZE).is_err());
    }
}
