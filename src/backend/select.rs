//! `select(2)`: everywhere, but only for fds below `FD_SETSIZE` (1024 with glibc), which
//! registration refuses with `EINVAL` rather than overflow the `fd_set`.
//!
//! Two master sets are kept between calls and copied for each wait, since the kernel overwrites
//! the sets it is given (and leaves them undefined after EINTR, CPython bpo-35310).

use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use super::fd::{ensure_open, syscall};
use super::{Kernel, Relocation};
use crate::errno::{Errno, Result};
use crate::events::{SEL_EVENT_READ, SEL_EVENT_WRITE};
use crate::kind::Kind;
use crate::report::{Answer, Report, Reports, Turns};

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

/// The master sets, and the sets the last wait answered with.
#[derive(Clone, Copy)]
struct Sets {
    readers: FdSet,
    writers: FdSet,
    readable: FdSet,
    writable: FdSet,
}

/// The sets (half a kilobyte, on the heap), their highest fd, and the last wait's extent.
pub struct SelectBackend {
    waker_fd: RawFd,
    sets: Box<Sets>,
    max_fd: RawFd,
    /// One more than the highest fd the last wait asked about.
    asked: RawFd,
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
            sets: Box::new(Sets {
                readers,
                writers: FdSet::empty(),
                readable: FdSet::empty(),
                writable: FdSet::empty(),
            }),
            max_fd: waker_fd,
            asked: 0,
        })
    }

    fn set_interest(&mut self, fd: RawFd, events: u32) {
        self.max_fd = self.max_fd.max(fd);
        if events & SEL_EVENT_READ != 0 {
            self.sets.readers.insert(fd);
        } else {
            self.sets.readers.remove(fd);
        }
        if events & SEL_EVENT_WRITE != 0 {
            self.sets.writers.insert(fd);
        } else {
            self.sets.writers.remove(fd);
        }
    }

    fn watched(&self, fd: RawFd) -> bool {
        self.sets.readers.contains(fd) || self.sets.writers.contains(fd)
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

impl Kernel for SelectBackend {
    const KIND: Kind = Kind::Select;

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
        self.sets.readers.remove(fd);
        self.sets.writers.remove(fd);
        while self.max_fd > self.waker_fd && !self.watched(self.max_fd) {
            self.max_fd -= 1;
        }
        None
    }

    fn wait(&mut self, wait: Option<Duration>, _capacity: usize) -> Result<usize> {
        let sets = &mut *self.sets;
        sets.readable = sets.readers;
        sets.writable = sets.writers;
        self.asked = 0;
        let mut timeout = wait.map(timeval_rounded_up);
        let timeout_ptr = timeout.as_mut().map_or(std::ptr::null_mut(), |timeout| {
            timeout as *mut libc::timeval
        });
        // SAFETY: the sets and the timeout are live; nfds covers every fd in the sets.
        let ready = syscall!(libc::select(
            self.max_fd + 1,
            &mut sets.readable.0,
            &mut sets.writable.0,
            std::ptr::null_mut(),
            timeout_ptr,
        ))?;
        self.asked = self.max_fd + 1;
        // An fd ready both ways counts twice: an upper bound on the fds that say something.
        Ok(ready as usize)
    }

    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Sets>()
    }
}

impl Reports for SelectBackend {
    const REQUEUES: bool = false;
    const REPORTS_PER_FD: usize = 1;

    fn positions(&self) -> usize {
        self.asked as usize
    }

    fn first_position(&self, turns: &Turns) -> usize {
        // A position is an fd: stable between waits.
        match self.asked as usize {
            0 => 0,
            asked => turns.next_position() % asked,
        }
    }

    fn answer(&self, position: usize) -> Answer {
        let fd = position as RawFd;
        let mut ready = 0;
        if self.sets.readable.contains(fd) {
            ready |= SEL_EVENT_READ;
        }
        if self.sets.writable.contains(fd) {
            ready |= SEL_EVENT_WRITE;
        }
        match ready {
            0 => Answer::Nothing,
            _ if fd == self.waker_fd => Answer::Waker,
            _ => Answer::Ready(Report {
                fd,
                token: None,
                ready,
            }),
        }
    }

    fn disarm(&mut self, fd: RawFd, _token: u32, _events: u32, _mask: u32) {
        self.set_interest(fd, 0);
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
