//! `epoll(7)`: Linux's scalable readiness interface, and DEFAULT there.
//!
//! Each kernel registration carries `fd | generation << 32` in `epoll_event.data`. epoll watches
//! open file descriptions, not fd numbers: a file closed without `sel_unregister` while a `dup`
//! or a forked child keeps it open stays in the set and keeps reporting (man 7 epoll, Q6), and
//! the fd number may meanwhile belong to a new registration. The generation tells them apart, so
//! an event of an earlier registration is dropped instead of reaching the current key.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use super::fd::{owned, syscall};
use super::generation::Generations;
use super::{Kernel, Relocation};
use crate::deadline::millis_rounded_up;
use crate::errno::{Errno, Result};
use crate::events::{from_poll_bits, to_poll_bits, SEL_EVENT_EDGE, SEL_EVENT_ONESHOT};
use crate::kind::Kind;
use crate::report::{Answer, Queue, Report, Reports, Turns};

const READABLE: u32 = libc::EPOLLIN as u32;
const WRITABLE: u32 = libc::EPOLLOUT as u32;

/// The `data` of the wakeup fd's registration; no (fd, generation) pair has it, since fds are
/// below `i32::MAX`.
const WAKER_TAG: u64 = u64::MAX;

/// An epoll set and the buffer its waits fill.
pub struct EpollBackend {
    epoll: OwnedFd,
    generations: Generations,
    waiting: EpollWait,
}

/// The waiting half of an epoll set: its fd and the buffer a wait fills. The kernel takes
/// `epoll_ctl` changes while a wait is blocked, so a [`SharedSelector`] waits through one of its
/// own without the selector's lock, and takes the lock only to deliver the answer.
///
/// [`SharedSelector`]: crate::shared::SharedSelector
pub struct EpollWait {
    /// The set's fd, owned by the [`EpollBackend`], which outlives every wait.
    epoll: RawFd,
    kernel_events: Vec<libc::epoll_event>,
    /// How many entries of `kernel_events` the last wait filled.
    received: usize,
}

/// The epoll interest bits of an interest set: directions and modes.
fn interest(events: u32) -> u32 {
    let mut bits = to_poll_bits(events, READABLE, WRITABLE);
    if events & SEL_EVENT_ONESHOT != 0 {
        bits |= libc::EPOLLONESHOT as u32;
    }
    if events & SEL_EVENT_EDGE != 0 {
        bits |= libc::EPOLLET as u32;
    }
    bits
}

fn tag(fd: RawFd, generation: u32) -> u64 {
    u64::from(fd as u32) | u64::from(generation) << 32
}

fn untag(data: u64) -> (RawFd, u32) {
    (data as u32 as RawFd, (data >> 32) as u32)
}

impl EpollBackend {
    /// Creates a close-on-exec epoll set watching `waker_fd`.
    pub fn new(waker_fd: RawFd) -> Result<EpollBackend> {
        // SAFETY: epoll_create1 takes no pointers.
        let epoll = owned(syscall!(libc::epoll_create1(libc::EPOLL_CLOEXEC))?);
        let backend = EpollBackend {
            waiting: EpollWait::new(epoll.as_raw_fd()),
            epoll,
            generations: Generations::default(),
        };
        backend.control(libc::EPOLL_CTL_ADD, waker_fd, READABLE, WAKER_TAG)?;
        Ok(backend)
    }

    #[inline]
    fn control(&self, op: libc::c_int, fd: RawFd, bits: u32, data: u64) -> Result<()> {
        let mut event = libc::epoll_event {
            events: bits,
            u64: data,
        };
        // SAFETY: `event` is a live epoll_event; the kernel validates fd and op.
        syscall!(libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event)).map(drop)
    }

    /// A waiting half of its own, for a selector whose waits hold no lock.
    pub fn unlocked_wait(&self) -> EpollWait {
        EpollWait::new(self.epoll.as_raw_fd())
    }
}

impl EpollWait {
    fn new(epoll: RawFd) -> EpollWait {
        EpollWait {
            epoll,
            kernel_events: Vec::new(),
            received: 0,
        }
    }

    /// Waits once, at most `wait`, taking at most `capacity` reports; returns how many.
    pub fn wait(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize> {
        // Grows once to what the registrations need, then never allocates.
        if self.kernel_events.len() < capacity {
            self.kernel_events
                .resize(capacity, libc::epoll_event { events: 0, u64: 0 });
        }
        self.received = 0;
        self.received = self.wait_kernel(wait, capacity)?;
        Ok(self.received)
    }

    /// One `epoll_pwait2` (exact timeout) or `epoll_wait` (milliseconds rounded up) into the
    /// first `capacity` entries of the buffer.
    fn wait_kernel(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize> {
        let epoll = self.epoll;
        let buffer = self.kernel_events.as_mut_ptr();
        let max = libc::c_int::try_from(capacity).unwrap_or(libc::c_int::MAX);
        if let Some(wait) = wait.filter(|wait| !wait.is_zero() && pwait2_usable()) {
            let timeout = libc::timespec {
                tv_sec: wait.as_secs() as libc::time_t,
                tv_nsec: wait.subsec_nanos() as libc::c_long,
            };
            // SAFETY: the buffer holds at least `max` entries; `timeout` is live; a null sigmask
            // leaves the signal mask alone.
            let waited = syscall!(libc::syscall(
                libc::SYS_epoll_pwait2,
                epoll,
                buffer,
                max,
                &timeout as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            ));
            match waited {
                Ok(received) => return Ok(received as usize),
                // Old kernels (ENOSYS) and seccomp filters (ENOSYS or EPERM, ivykis #33).
                Err(Errno(libc::ENOSYS) | Errno(libc::EPERM)) => {
                    PWAIT2.store(UNUSABLE, Ordering::Relaxed)
                }
                Err(err) => return Err(err),
            }
        }
        // SAFETY: the buffer holds at least `max` entries.
        let received = syscall!(libc::epoll_wait(
            epoll,
            buffer,
            max,
            millis_rounded_up(wait)
        ))?;
        Ok(received as usize)
    }
}

const USABLE_OR_UNKNOWN: u8 = 0;
const UNUSABLE: u8 = 1;

/// Whether `epoll_pwait2` may be tried: it is, until one call says the kernel or a seccomp
/// filter refuses it, and that answer holds for the whole process.
static PWAIT2: AtomicU8 = AtomicU8::new(USABLE_OR_UNKNOWN);

fn pwait2_usable() -> bool {
    PWAIT2.load(Ordering::Relaxed) == USABLE_OR_UNKNOWN
}

impl Kernel for EpollBackend {
    const KIND: Kind = Kind::Epoll;

    fn fileno(&self) -> Option<RawFd> {
        Some(self.epoll.as_raw_fd())
    }

    #[inline]
    fn add(&mut self, fd: RawFd, events: u32) -> Result<u32> {
        let generation = self.generations.next();
        let bits = interest(events);
        match self.control(libc::EPOLL_CTL_ADD, fd, bits, tag(fd, generation)) {
            // The set still holds this very file at this number from a registration whose fd was
            // closed while a duplicate kept the file open: take that entry over.
            Err(Errno(libc::EEXIST)) => {
                self.control(libc::EPOLL_CTL_MOD, fd, bits, tag(fd, generation))?
            }
            other => other?,
        }
        Ok(generation)
    }

    #[inline]
    fn modify(&mut self, fd: RawFd, _token: u32, events: u32) -> Result<u32> {
        // A new generation on every change: EPOLL_CTL_MOD updates the entry of the file now at
        // `fd`, which after a close-and-dup2 behind our back may not be the entry we added; any
        // entry it did not touch keeps the old generation, so its events are dropped, and the
        // fd never has two entries reported.
        let generation = self.generations.next();
        let bits = interest(events);
        self.control(libc::EPOLL_CTL_MOD, fd, bits, tag(fd, generation))?;
        Ok(generation)
    }

    #[inline]
    fn remove(&mut self, fd: RawFd, _token: u32) -> Option<Relocation> {
        // EBADF (fd closed) and ENOENT (number reused by another file) leave nothing to remove.
        let _ = self.control(libc::EPOLL_CTL_DEL, fd, 0, 0);
        None
    }

    fn wait(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize> {
        self.waiting.wait(wait, capacity)
    }

    fn heap_bytes(&self) -> usize {
        self.waiting.kernel_events.capacity() * std::mem::size_of::<libc::epoll_event>()
    }
}

reports_of_waiting_half!(EpollBackend, waiting: EpollWait);

impl Queue for EpollWait {
    fn take_now(&mut self, capacity: usize) -> Result<usize> {
        self.wait(Some(Duration::ZERO), capacity)
    }
}

impl Reports for EpollWait {
    const REQUEUES: bool = true;
    const REPORTS_PER_FD: usize = 1;

    fn positions(&self) -> usize {
        self.received
    }

    fn first_position(&self, _turns: &Turns) -> usize {
        // Every report taken fits (see `kernel_capacity`); the kernel's queue keeps the turns.
        0
    }

    fn answer(&self, position: usize) -> Answer {
        let libc::epoll_event { events, u64: data } = self.kernel_events[position];
        if data == WAKER_TAG {
            return Answer::Waker;
        }
        let (fd, generation) = untag(data);
        Answer::Ready(Report {
            fd,
            token: Some(generation),
            ready: from_poll_bits(events, READABLE, WRITABLE),
        })
    }

    fn disarm(&mut self, _fd: RawFd, _token: u32, _events: u32, _mask: u32) {
        // EPOLLONESHOT: the kernel disarmed it when it reported it.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for (fd, generation) in [(0, 0), (5, 7), (i32::MAX, u32::MAX)] {
            assert_eq!(untag(tag(fd, generation)), (fd, generation));
            assert_ne!(tag(fd, generation), WAKER_TAG);
        }
    }
}
