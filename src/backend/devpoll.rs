//! `/dev/poll`: the scalable readiness interface of illumos and Solaris, and DEFAULT there.
//!
//! The set lives in the kernel: registrations are `pollfd` entries written to the device
//! ([`Entries`]), removal is an entry whose events are `POLLREMOVE`, and `ioctl(DP_POLL)` waits.
//! Each change is written at once, in one `write`, so the kernel's set always matches the
//! registry (CPython instead queues changes until the next poll). illumos applies a write's
//! entries in order and fails the write at the first entry it refuses; a short write would leave
//! the set unknown, so it is an error (`EIO`) too.
//!
//! Stale events: /dev/poll keeps no cookie, but it needs none. Its set is keyed by fd number,
//! and every register, modify and unregister reaches the kernel before the next wait, so a
//! reported fd number always means its current registration. A registered fd closed behind the
//! selector's back may be reported with `POLLNVAL`, which maps to readable and writable, as on
//! POLL, until `sel_unregister` removes it.
//!
//! A wait asks for every ready fd at once (one per registration plus the wakeup fd) and sorts
//! them by fd, so the core's turns resume after the fd it delivered last whatever order the
//! kernel scans its set in. Nothing is lost by taking more than fits: the set is level-
//! triggered, so an fd left unreported is reported again by the next wait.
//!
//! `SEL_EVENT_ONESHOT` is emulated, as on poll: a oneshot registration is removed from the set
//! once it is reported, and `sel_modify` writes it back (a removal of an fd not in the set is
//! ignored by the device, so modify's remove-then-add re-arms it either way).
//!
//! The device belongs to the process that first used it: illumos answers a forked child's
//! writes and polls with `EACCES` (`dpwrite`, `dpioctl`), so a child uses the selector after
//! `sel_after_fork`, which opens a new one.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::devpoll_changes::Entries;
use super::devpoll_sys::{DvPoll, DP_POLL};
use super::fd::{ensure_open, owned, syscall};
use super::{Kernel, Relocation};
use crate::deadline::millis_rounded_up;
use crate::errno::{Errno, Result};
use crate::events::{from_poll_bits, SEL_EVENT_READ};
use crate::kind::Kind;
use crate::report::{Answer, Report, Reports, Turns};

const READABLE: u32 = libc::POLLIN as u32;
const WRITABLE: u32 = libc::POLLOUT as u32;

/// The /dev/poll device opened for one set, and the buffer its waits fill.
pub struct DevpollBackend {
    device: OwnedFd,
    waker_fd: RawFd,
    results: Vec<libc::pollfd>,
    /// How many entries of `results` the last wait filled.
    received: usize,
}

impl DevpollBackend {
    /// Opens a close-on-exec /dev/poll set watching `waker_fd`.
    pub fn new(waker_fd: RawFd) -> Result<DevpollBackend> {
        // SAFETY: a NUL-terminated path.
        let device = owned(syscall!(libc::open(
            c"/dev/poll".as_ptr(),
            libc::O_RDWR | libc::O_CLOEXEC
        ))?);
        let backend = DevpollBackend {
            device,
            waker_fd,
            results: Vec::new(),
            received: 0,
        };
        backend.write(&Entries::register(waker_fd, SEL_EVENT_READ))?;
        Ok(backend)
    }

    /// Writes `entries` to the device in one `write`; a short write is an error (`EIO`), since
    /// the set would then differ from what was asked.
    fn write(&self, entries: &Entries) -> Result<()> {
        let entries = entries.as_slice();
        let bytes = std::mem::size_of_val(entries);
        loop {
            // SAFETY: writes `bytes` bytes from the live `entries` slice.
            let written = syscall!(libc::write(
                self.device.as_raw_fd(),
                entries.as_ptr().cast(),
                bytes
            ));
            return match written {
                Ok(written) if written as usize == bytes => Ok(()),
                Ok(_) => Err(Errno(libc::EIO)),
                Err(Errno(libc::EINTR)) => continue,
                Err(err) => Err(err),
            };
        }
    }
}

impl Kernel for DevpollBackend {
    const KIND: Kind = Kind::Devpoll;

    fn fileno(&self) -> Option<RawFd> {
        Some(self.device.as_raw_fd())
    }

    fn admit(&self, fd: RawFd) -> Result<()> {
        // The device accepts a closed fd and reports POLLNVAL for it later; refuse it now.
        ensure_open(fd)
    }

    fn add(&mut self, fd: RawFd, events: u32) -> Result<u32> {
        self.write(&Entries::register(fd, events))?;
        // No generation: the fd number identifies the registration (see the module comment).
        Ok(0)
    }

    fn modify(&mut self, fd: RawFd, token: u32, events: u32) -> Result<u32> {
        self.write(&Entries::modify(fd, events))?;
        Ok(token)
    }

    fn remove(&mut self, fd: RawFd, _token: u32) -> Option<Relocation> {
        // Removing an fd that was closed, or whose number was reused, has nothing else to do.
        let _ = self.write(&Entries::unregister(fd));
        None
    }

    fn wait(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize> {
        // Room for every registration and the wakeup fd (`kernel_capacity`), so one wait sees
        // every ready fd. Grows with the registrations, then never allocates.
        if self.results.len() < capacity {
            let unused = libc::pollfd {
                fd: -1,
                events: 0,
                revents: 0,
            };
            self.results.resize(capacity, unused);
        }
        self.received = 0;
        let mut request = DvPoll {
            dp_fds: self.results.as_mut_ptr(),
            dp_nfds: capacity as libc::nfds_t,
            dp_timeout: millis_rounded_up(wait),
        };
        // SAFETY: `request` is live and points to at least `capacity` pollfds.
        let received = syscall!(libc::ioctl(self.device.as_raw_fd(), DP_POLL, &mut request))?;
        self.received = received as usize;
        // In fd order, so the turns resume after the fd delivered last.
        self.results[..self.received].sort_unstable_by_key(|result| result.fd);
        Ok(self.received)
    }

    fn heap_bytes(&self) -> usize {
        self.results.capacity() * std::mem::size_of::<libc::pollfd>()
    }
}

impl Reports for DevpollBackend {
    const REQUEUES: bool = false;
    const REPORTS_PER_FD: usize = 1;

    fn positions(&self) -> usize {
        self.received
    }

    fn first_position(&self, turns: &Turns) -> usize {
        let first = self.results[..self.received].partition_point(|r| r.fd <= turns.last_fd());
        if first == self.received {
            0
        } else {
            first
        }
    }

    fn answer(&self, position: usize) -> Answer {
        let result = self.results[position];
        if result.fd == self.waker_fd {
            return Answer::Waker;
        }
        Answer::Ready(Report {
            fd: result.fd,
            token: None,
            ready: from_poll_bits(result.revents as u32, READABLE, WRITABLE),
        })
    }

    fn disarm(&mut self, fd: RawFd, _token: u32, _events: u32, _mask: u32) {
        // A failed removal leaves the fd armed, which reports it again: an extra report, never
        // a lost one.
        let _ = self.write(&Entries::unregister(fd));
    }
}
