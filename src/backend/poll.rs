//! `poll(2)`: portable and without select's `FD_SETSIZE` bound.
//!
//! The `pollfd` array is kept between calls and changed in place: entry 0 is the wakeup fd, and
//! each registration's token is the index of its entry. Removal swaps the last entry into the
//! hole, so the array stays dense and the moved registration's token is updated by the core.

use std::os::fd::RawFd;
use std::time::Duration;

use super::fd::{ensure_open, syscall};
use super::{Kernel, Relocation};
use crate::deadline::millis_rounded_up;
use crate::errno::Result;
use crate::events::{from_poll_bits, to_poll_bits};
use crate::growth;
use crate::kind::Kind;
use crate::report::{Answer, Report, Reports, Turns};

const READABLE: u32 = libc::POLLIN as u32;
const WRITABLE: u32 = libc::POLLOUT as u32;

/// Index of the wakeup fd's entry.
const WAKER_INDEX: usize = 0;

/// The `pollfd` array; each wait writes its answer into it (`revents`).
pub struct PollBackend {
    pollfds: Vec<libc::pollfd>,
}

fn pollfd(fd: RawFd, events: u32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: to_poll_bits(events, READABLE, WRITABLE) as libc::c_short,
        revents: 0,
    }
}

/// The fd of an entry, whether armed or disarmed (a oneshot registration after its report is
/// stored as `!fd`, which poll(2) ignores).
fn armed_fd(stored: RawFd) -> RawFd {
    if stored < 0 {
        !stored
    } else {
        stored
    }
}

impl PollBackend {
    /// A set watching only `waker_fd`.
    pub fn new(waker_fd: RawFd) -> PollBackend {
        PollBackend {
            pollfds: vec![libc::pollfd {
                fd: waker_fd,
                events: libc::POLLIN,
                revents: 0,
            }],
        }
    }
}

impl Kernel for PollBackend {
    const KIND: Kind = Kind::Poll;

    fn fileno(&self) -> Option<RawFd> {
        None
    }

    fn admit(&self, fd: RawFd) -> Result<()> {
        ensure_open(fd)
    }

    fn add(&mut self, fd: RawFd, events: u32) -> Result<u32> {
        let token = u32::try_from(self.pollfds.len()).expect("fewer pollfds than u32::MAX");
        let len = self.pollfds.len() + 1;
        growth::reserve_for(&mut self.pollfds, len);
        self.pollfds.push(pollfd(fd, events));
        Ok(token)
    }

    fn modify(&mut self, fd: RawFd, token: u32, events: u32) -> Result<u32> {
        self.pollfds[token as usize] = pollfd(fd, events);
        Ok(token)
    }

    fn remove(&mut self, _fd: RawFd, token: u32) -> Option<Relocation> {
        let index = token as usize;
        self.pollfds.swap_remove(index);
        self.pollfds.get(index).map(|moved| Relocation {
            fd: armed_fd(moved.fd),
            token,
        })
    }

    fn wait(&mut self, wait: Option<Duration>, _capacity: usize) -> Result<usize> {
        // SAFETY: the pointer and length describe the live pollfd array.
        let ready = syscall!(libc::poll(
            self.pollfds.as_mut_ptr(),
            self.pollfds.len() as libc::nfds_t,
            millis_rounded_up(wait),
        ))?;
        Ok(ready as usize)
    }

    fn heap_bytes(&self) -> usize {
        self.pollfds.capacity() * std::mem::size_of::<libc::pollfd>()
    }
}

impl Reports for PollBackend {
    const REQUEUES: bool = false;
    const REPORTS_PER_FD: usize = 1;

    fn positions(&self) -> usize {
        self.pollfds.len()
    }

    fn first_position(&self, turns: &Turns) -> usize {
        // Indices are stable between waits (a removal moves one entry, whose turn may shift).
        turns.next_position() % self.pollfds.len()
    }

    fn answer(&self, position: usize) -> Answer {
        let libc::pollfd { fd, revents, .. } = self.pollfds[position];
        match (revents, position) {
            (0, _) => Answer::Nothing,
            (_, WAKER_INDEX) => Answer::Waker,
            _ => Answer::Ready(Report {
                fd,
                token: Some(position as u32),
                ready: from_poll_bits(revents as u32, READABLE, WRITABLE),
            }),
        }
    }

    fn disarm(&mut self, fd: RawFd, token: u32, _events: u32, _mask: u32) {
        // poll(2) skips negative fds entirely, hang-ups included, until re-armed.
        self.pollfds[token as usize].fd = !fd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_relocates_the_last_entry() {
        let mut backend = PollBackend::new(100);
        assert_eq!(backend.add(10, 1), Ok(1));
        assert_eq!(backend.add(11, 2), Ok(2));
        assert_eq!(backend.add(12, 3), Ok(3));
        assert_eq!(backend.remove(10, 1), Some(Relocation { fd: 12, token: 1 }));
        assert_eq!(backend.remove(11, 2), None);
        assert_eq!(backend.pollfds.len(), 2);
        assert_eq!(backend.pollfds[1].fd, 12);
        assert_eq!(backend.pollfds[WAKER_INDEX].fd, 100);
    }

    #[test]
    fn disarmed_entries_relocate_with_their_real_fd() {
        let mut backend = PollBackend::new(100);
        backend.add(10, 1).unwrap();
        backend.add(11, 1).unwrap();
        backend.pollfds[2].fd = !11;
        assert_eq!(backend.remove(10, 1), Some(Relocation { fd: 11, token: 1 }));
    }

    #[test]
    fn modify_rewrites_the_interest() {
        let mut backend = PollBackend::new(100);
        let token = backend.add(10, 1).unwrap();
        backend.modify(10, token, 3).unwrap();
        assert_eq!(backend.pollfds[1].events, libc::POLLIN | libc::POLLOUT);
    }
}
