//! The kqueue change lists of register, modify, unregister and oneshot disarming, and how the
//! kernel's answer to each change is judged.
//!
//! READ and WRITE are two filters. Each list is applied with one `kevent()` call using
//! `EV_RECEIPT`, which makes the kernel answer every change, in list order, with its own errno
//! instead of failing the whole call at the first error (mio's `kevent_register`). No kernel
//! type appears here, so this logic is unit-tested on Linux.

use crate::errno::Errno;
use crate::events::{SEL_EVENT_EDGE, SEL_EVENT_ONESHOT, SEL_EVENT_READ, SEL_EVENT_WRITE};

/// A kqueue filter the library uses: one per direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Filter {
    /// `EVFILT_READ`.
    Read,
    /// `EVFILT_WRITE`.
    Write,
}

impl Filter {
    /// Both filters, READ first.
    const BOTH: [Filter; 2] = [Filter::Read, Filter::Write];

    /// The event bit this filter watches and reports. CPython's `KqueueSelector` maps a result
    /// by its filter alone: `EV_EOF` (end of file, or a peer that went away) and `EV_ERROR`
    /// arrive on the filter of the direction they concern, so READ-only and WRITE-only
    /// registrations both see a hang-up.
    pub(super) fn events(self) -> u32 {
        match self {
            Filter::Read => SEL_EVENT_READ,
            Filter::Write => SEL_EVENT_WRITE,
        }
    }
}

/// How an added filter reports: the registration's mode bits as kqueue flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Modes {
    /// `EV_CLEAR` (`SEL_EVENT_EDGE`): report changes of readiness only.
    pub clear: bool,
    /// `EV_DISPATCH` (`SEL_EVENT_ONESHOT`): the kernel disables the filter once it reports it.
    pub dispatch: bool,
}

impl Modes {
    /// The modes of a registration for `events`.
    fn of(events: u32) -> Modes {
        Modes {
            clear: events & SEL_EVENT_EDGE != 0,
            dispatch: events & SEL_EVENT_ONESHOT != 0,
        }
    }
}

/// What a change does to its filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// `EV_ADD`, with the registration's modes.
    Add(Modes),
    /// `EV_DELETE`.
    Delete,
    /// `EV_DISABLE`: keep the filter, stop reporting it (a oneshot registration, disarmed).
    Disable,
}

/// One entry of a change list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Change {
    /// The filter it changes.
    pub filter: Filter,
    /// What it does.
    pub action: Action,
}

impl Change {
    /// Whether the kernel's answer `errno` (0: done) leaves this change's goal reached. Deleting
    /// or disabling a filter that is not there (ENOENT) reaches it; so does adding to a pipe
    /// whose other end is gone (EPIPE: older macOS refuses, yet reports the hang-up afterwards,
    /// mio #582).
    fn succeeded(self, errno: i32) -> bool {
        matches!(
            (self.action, errno),
            (_, 0)
                | (Action::Delete | Action::Disable, libc::ENOENT)
                | (Action::Add(_), libc::EPIPE)
        )
    }
}

/// The most changes one list holds: a delete and an add for each of the two filters.
pub(super) const MAX_CHANGES: usize = 4;

/// The kernel's answer to each change of a list, by position: `receipts` gives the errno of
/// each receipt the kernel wrote (0 for done), in list order. A change left without a receipt
/// has an unknown outcome, so it is answered `EIO`: an error, and not undone.
pub(super) fn answers(receipts: impl IntoIterator<Item = i32>) -> [i32; MAX_CHANGES] {
    let mut answers = [libc::EIO; MAX_CHANGES];
    for (answer, errno) in answers.iter_mut().zip(receipts) {
        *answer = errno;
    }
    answers
}

/// The changes of one call, kept inline (no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Changes {
    list: [Change; MAX_CHANGES],
    len: usize,
}

impl Changes {
    fn empty() -> Changes {
        let unused = Change {
            filter: Filter::Read,
            action: Action::Delete,
        };
        Changes {
            list: [unused; MAX_CHANGES],
            len: 0,
        }
    }

    fn push(&mut self, filter: Filter, action: Action) {
        self.list[self.len] = Change { filter, action };
        self.len += 1;
    }

    /// A new registration for `events`: add the filter of each direction asked for, with the
    /// modes asked for.
    pub(super) fn register(events: u32) -> Changes {
        let mut changes = Changes::empty();
        for filter in Filter::BOTH {
            if events & filter.events() != 0 {
                changes.push(filter, Action::Add(Modes::of(events)));
            }
        }
        changes
    }

    /// A registration changing to `events`, or a oneshot one re-armed: each filter is deleted,
    /// and added anew if asked for.
    ///
    /// Adding over a filter that is there would neither change its mode flags (kqueue keeps
    /// `EV_CLEAR` and `EV_DISPATCH` from the first add) nor re-enable a dispatched oneshot
    /// filter, and the backend is not told the previous events; delete-then-add in one call
    /// reaches the wanted state from any state. A level-triggered filter added while its fd is
    /// ready reports at once, so nothing is lost between the two changes.
    pub(super) fn modify(events: u32) -> Changes {
        let mut changes = Changes::empty();
        for filter in Filter::BOTH {
            changes.push(filter, Action::Delete);
            if events & filter.events() != 0 {
                changes.push(filter, Action::Add(Modes::of(events)));
            }
        }
        changes
    }

    /// The end of a registration: delete both filters (an absent one answers ENOENT).
    pub(super) fn unregister() -> Changes {
        let mut changes = Changes::empty();
        for filter in Filter::BOTH {
            changes.push(filter, Action::Delete);
        }
        changes
    }

    /// The disarming of a oneshot registration just reported for `reported` and watching
    /// `watched`: `EV_DISPATCH` disabled the filters that fired, so disable the others, which
    /// would otherwise report the registration a second time.
    pub(super) fn disarm(watched: u32, reported: u32) -> Changes {
        let mut changes = Changes::empty();
        for filter in Filter::BOTH {
            if watched & !reported & filter.events() != 0 {
                changes.push(filter, Action::Disable);
            }
        }
        changes
    }

    /// The changes, in the order they are applied.
    pub(super) fn as_slice(&self) -> &[Change] {
        &self.list[..self.len]
    }

    /// The first error among the kernel's answers (`answers[i]` is the errno change `i` was
    /// answered with, 0 for done), ignoring those that reach the goal anyway.
    pub(super) fn first_error(&self, answers: &[i32]) -> Option<Errno> {
        self.as_slice()
            .iter()
            .zip(answers)
            .find(|(change, &errno)| !change.succeeded(errno))
            .map(|(_, &errno)| Errno(errno))
    }

    /// The changes that undo this list's additions that took effect: what a register that
    /// failed halfway sends so that it leaves nothing behind.
    pub(super) fn undo(&self, answers: &[i32]) -> Changes {
        let mut undo = Changes::empty();
        for (change, &errno) in self.as_slice().iter().zip(answers) {
            if matches!(change.action, Action::Add(_)) && change.succeeded(errno) {
                undo.push(change.filter, Action::Delete);
            }
        }
        undo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ALL_EVENTS;

    const READ: Filter = Filter::Read;
    const WRITE: Filter = Filter::Write;
    /// A level-triggered add, as a registration without mode bits makes.
    const ADD: Action = Action::Add(Modes {
        clear: false,
        dispatch: false,
    });

    fn list(changes: Changes) -> Vec<(Filter, Action)> {
        changes
            .as_slice()
            .iter()
            .map(|change| (change.filter, change.action))
            .collect()
    }

    #[test]
    fn register_adds_one_filter_per_direction() {
        assert_eq!(list(Changes::register(SEL_EVENT_READ)), [(READ, ADD)]);
        assert_eq!(list(Changes::register(SEL_EVENT_WRITE)), [(WRITE, ADD)]);
        assert_eq!(
            list(Changes::register(ALL_EVENTS)),
            [(READ, ADD), (WRITE, ADD)]
        );
    }

    #[test]
    fn modify_deletes_then_adds_what_is_asked_for() {
        assert_eq!(
            list(Changes::modify(SEL_EVENT_WRITE)),
            [
                (READ, Action::Delete),
                (WRITE, Action::Delete),
                (WRITE, ADD)
            ]
        );
        assert_eq!(
            list(Changes::modify(ALL_EVENTS)),
            [
                (READ, Action::Delete),
                (READ, ADD),
                (WRITE, Action::Delete),
                (WRITE, ADD)
            ]
        );
        assert_eq!(Changes::modify(ALL_EVENTS).as_slice().len(), MAX_CHANGES);
    }

    #[test]
    fn every_add_carries_the_registrations_modes() {
        let edge = Action::Add(Modes {
            clear: true,
            dispatch: false,
        });
        let oneshot_edge = Action::Add(Modes {
            clear: true,
            dispatch: true,
        });
        assert_eq!(
            list(Changes::register(SEL_EVENT_WRITE | SEL_EVENT_EDGE)),
            [(WRITE, edge)]
        );
        assert_eq!(
            list(Changes::modify(
                SEL_EVENT_READ | SEL_EVENT_ONESHOT | SEL_EVENT_EDGE
            )),
            [
                (READ, Action::Delete),
                (READ, oneshot_edge),
                (WRITE, Action::Delete)
            ]
        );
    }

    #[test]
    fn unregister_deletes_both() {
        assert_eq!(
            list(Changes::unregister()),
            [(READ, Action::Delete), (WRITE, Action::Delete)]
        );
    }

    #[test]
    fn disarm_disables_the_filters_that_did_not_fire() {
        assert_eq!(
            list(Changes::disarm(ALL_EVENTS, SEL_EVENT_READ)),
            [(WRITE, Action::Disable)]
        );
        assert_eq!(
            list(Changes::disarm(ALL_EVENTS, SEL_EVENT_WRITE)),
            [(READ, Action::Disable)]
        );
        assert!(list(Changes::disarm(ALL_EVENTS, ALL_EVENTS)).is_empty());
        assert!(list(Changes::disarm(SEL_EVENT_READ, SEL_EVENT_READ)).is_empty());
    }

    #[test]
    fn harmless_answers_are_not_errors() {
        assert_eq!(Changes::register(ALL_EVENTS).first_error(&[0, 0]), None);
        assert_eq!(
            Changes::register(ALL_EVENTS).first_error(&[libc::EPIPE, 0]),
            None
        );
        assert_eq!(
            Changes::unregister().first_error(&[libc::ENOENT, libc::ENOENT]),
            None
        );
        assert_eq!(
            Changes::disarm(ALL_EVENTS, SEL_EVENT_READ).first_error(&[libc::ENOENT]),
            None
        );
        // Deleting the READ filter a WRITE-only registration never had.
        assert_eq!(
            Changes::modify(SEL_EVENT_WRITE).first_error(&[libc::ENOENT, 0, 0]),
            None
        );
    }

    #[test]
    fn real_errors_are_reported_first_come() {
        assert_eq!(
            Changes::register(ALL_EVENTS).first_error(&[libc::EBADF, libc::EBADF]),
            Some(Errno(libc::EBADF))
        );
        assert_eq!(
            Changes::register(ALL_EVENTS).first_error(&[0, libc::ENOMEM]),
            Some(Errno(libc::ENOMEM))
        );
        // ENOENT on an add is an error, and so is EPIPE on a delete.
        assert_eq!(
            Changes::register(SEL_EVENT_READ).first_error(&[libc::ENOENT]),
            Some(Errno(libc::ENOENT))
        );
        assert_eq!(
            Changes::unregister().first_error(&[libc::EPIPE, 0]),
            Some(Errno(libc::EPIPE))
        );
        assert_eq!(
            Changes::modify(SEL_EVENT_READ).first_error(&[0, libc::EBADF, 0]),
            Some(Errno(libc::EBADF))
        );
    }

    #[test]
    fn a_half_done_register_is_undone() {
        assert_eq!(
            list(Changes::register(ALL_EVENTS).undo(&[0, libc::ENOMEM])),
            [(READ, Action::Delete)]
        );
        assert_eq!(
            list(Changes::register(ALL_EVENTS).undo(&[libc::ENOMEM, 0])),
            [(WRITE, Action::Delete)]
        );
        assert!(list(Changes::register(ALL_EVENTS).undo(&[libc::EBADF, libc::EBADF])).is_empty());
        assert!(list(Changes::unregister().undo(&[0, 0])).is_empty());
    }

    #[test]
    fn a_change_without_a_receipt_is_an_error_left_alone() {
        let answers = answers([0]);
        assert_eq!(answers, [0, libc::EIO, libc::EIO, libc::EIO]);
        let changes = Changes::register(ALL_EVENTS);
        assert_eq!(changes.first_error(&answers), Some(Errno(libc::EIO)));
        // The READ filter was added and is deleted; the WRITE add may or may not have been.
        assert_eq!(list(changes.undo(&answers)), [(READ, Action::Delete)]);
    }

    #[test]
    fn filters_map_like_cpython() {
        assert_eq!(Filter::Read.events(), SEL_EVENT_READ);
        assert_eq!(Filter::Write.events(), SEL_EVENT_WRITE);
    }
}
