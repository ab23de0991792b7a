//! What register, modify and unregister write to `/dev/poll`.
//!
//! The set is changed by writing `pollfd` entries to the device: an entry adds its fd with its
//! events, and one whose events are `POLLREMOVE` removes the fd. Writing an fd already in the set
//! ORs the new events into the old ones, so a modify that drops a direction writes a removal
//! first and then the new entry, in one write (as CPython's `devpoll.modify` does). No kernel
//! call is made here, so this logic is unit-tested on Linux.

use std::os::fd::RawFd;

use super::devpoll_sys::POLLREMOVE;
use crate::events::to_poll_bits;

/// The entries of one write: at most two, kept inline (no allocation).
#[derive(Clone, Copy)]
pub(super) struct Entries {
    list: [libc::pollfd; 2],
    len: usize,
}

fn entry(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// The `pollfd` events that watch `events` (`SEL_EVENT_READ` and/or `SEL_EVENT_WRITE`).
fn poll_events(events: u32) -> libc::c_short {
    to_poll_bits(events, libc::POLLIN as u32, libc::POLLOUT as u32) as libc::c_short
}

impl Entries {
    fn of(list: &[libc::pollfd]) -> Entries {
        let mut entries = Entries {
            list: [entry(-1, 0); 2],
            len: list.len(),
        };
        entries.list[..list.len()].copy_from_slice(list);
        entries
    }

    /// A new registration of `fd` for `events`.
    pub(super) fn register(fd: RawFd, events: u32) -> Entries {
        Entries::of(&[entry(fd, poll_events(events))])
    }

    /// A registration of `fd` changing to `events`: remove, then add anew.
    pub(super) fn modify(fd: RawFd, events: u32) -> Entries {
        Entries::of(&[entry(fd, POLLREMOVE), entry(fd, poll_events(events))])
    }

    /// The end of the registration of `fd`.
    pub(super) fn unregister(fd: RawFd) -> Entries {
        Entries::of(&[entry(fd, POLLREMOVE)])
    }

    /// The entries, in the order they are written.
    pub(super) fn as_slice(&self) -> &[libc::pollfd] {
        &self.list[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ALL_EVENTS, SEL_EVENT_READ, SEL_EVENT_WRITE};

    fn pairs(entries: Entries) -> Vec<(RawFd, libc::c_short)> {
        entries
            .as_slice()
            .iter()
            .map(|pollfd| (pollfd.fd, pollfd.events))
            .collect()
    }

    #[test]
    fn register_writes_one_entry() {
        assert_eq!(
            pairs(Entries::register(4, SEL_EVENT_READ)),
            [(4, libc::POLLIN)]
        );
        assert_eq!(
            pairs(Entries::register(4, SEL_EVENT_WRITE)),
            [(4, libc::POLLOUT)]
        );
        assert_eq!(
            pairs(Entries::register(4, ALL_EVENTS)),
            [(4, libc::POLLIN | libc::POLLOUT)]
        );
    }

    #[test]
    fn modify_removes_before_it_adds() {
        assert_eq!(
            pairs(Entries::modify(9, SEL_EVENT_WRITE)),
            [(9, POLLREMOVE), (9, libc::POLLOUT)]
        );
    }

    #[test]
    fn unregister_removes() {
        assert_eq!(pairs(Entries::unregister(9)), [(9, POLLREMOVE)]);
    }

    #[test]
    fn entries_start_with_no_revents() {
        let entries = Entries::modify(3, ALL_EVENTS);
        assert!(entries.as_slice().iter().all(|pollfd| pollfd.revents == 0));
    }
}
