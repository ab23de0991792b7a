//! The selector kinds: which kernel interface a selector uses, named as CPython names them.

use std::ffi::{c_int, CStr};

use crate::events::SEL_EVENT_EDGE;

/// `DefaultSelector`: the best kind this platform has (epoll on Linux, kqueue on macOS and the
/// BSDs, /dev/poll on illumos and Solaris, else poll).
pub const SEL_KIND_DEFAULT: c_int = 0;
/// `SelectSelector`: `select(2)`; portable, limited to descriptors below `FD_SETSIZE`.
pub const SEL_KIND_SELECT: c_int = 1;
/// `PollSelector`: `poll(2)`.
pub const SEL_KIND_POLL: c_int = 2;
/// `EpollSelector`: Linux `epoll(7)`.
pub const SEL_KIND_EPOLL: c_int = 3;
/// `KqueueSelector`: `kqueue(2)` on macOS and the BSDs.
pub const SEL_KIND_KQUEUE: c_int = 4;
/// `DevpollSelector`: `/dev/poll` on illumos and Solaris.
pub const SEL_KIND_DEVPOLL: c_int = 5;

/// A concrete selector kind (never "default").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `select(2)`.
    Select,
    /// `poll(2)`.
    Poll,
    /// `epoll(7)`.
    Epoll,
    /// `kqueue(2)`.
    Kqueue,
    /// `/dev/poll`.
    Devpoll,
}

impl Kind {
    /// The kind a `SEL_KIND_*` value asks for, resolving DEFAULT to this platform's preference;
    /// `None` for a value the contract does not define.
    pub fn from_raw(raw: c_int) -> Option<Kind> {
        match raw {
            SEL_KIND_DEFAULT => Some(Kind::platform_default()),
            SEL_KIND_SELECT => Some(Kind::Select),
            SEL_KIND_POLL => Some(Kind::Poll),
            SEL_KIND_EPOLL => Some(Kind::Epoll),
            SEL_KIND_KQUEUE => Some(Kind::Kqueue),
            SEL_KIND_DEVPOLL => Some(Kind::Devpoll),
            _ => None,
        }
    }

    /// The `SEL_KIND_*` value of this kind.
    pub fn raw(self) -> c_int {
        match self {
            Kind::Select => SEL_KIND_SELECT,
            Kind::Poll => SEL_KIND_POLL,
            Kind::Epoll => SEL_KIND_EPOLL,
            Kind::Kqueue => SEL_KIND_KQUEUE,
            Kind::Devpoll => SEL_KIND_DEVPOLL,
        }
    }

    /// CPython's class name for this kind.
    pub fn name(self) -> &'static CStr {
        match self {
            Kind::Select => c"SelectSelector",
            Kind::Poll => c"PollSelector",
            Kind::Epoll => c"EpollSelector",
            Kind::Kqueue => c"KqueueSelector",
            Kind::Devpoll => c"DevpollSelector",
        }
    }

    /// Whether this kind can watch with the mode bits of `events` (edge-triggering is epoll's and
    /// kqueue's alone; every kind has oneshot).
    pub fn supports(self, events: u32) -> bool {
        events & SEL_EVENT_EDGE == 0 || matches!(self, Kind::Epoll | Kind::Kqueue)
    }

    /// Whether this build has the kind: select and poll everywhere, epoll on Linux, kqueue on
    /// macOS and the BSDs (and on Linux with the `libkqueue` feature), /dev/poll on illumos and
    /// Solaris. `sel_new` of any other kind fails with `ENOSYS`.
    pub const fn is_built(self) -> bool {
        match self {
            Kind::Select | Kind::Poll => true,
            Kind::Epoll => cfg!(any(target_os = "linux", target_os = "android")),
            Kind::Kqueue => cfg!(kqueue),
            Kind::Devpoll => cfg!(devpoll),
        }
    }

    /// Every kind this build has ([`Self::is_built`]), for the tests that run on each.
    #[cfg(test)]
    pub fn built() -> Vec<Kind> {
        let all = [
            Kind::Select,
            Kind::Poll,
            Kind::Epoll,
            Kind::Kqueue,
            Kind::Devpoll,
        ];
        all.into_iter().filter(|kind| kind.is_built()).collect()
    }

    /// What DEFAULT means on this platform, before any run-time fallback.
    pub const fn platform_default() -> Kind {
        if cfg!(any(target_os = "linux", target_os = "android")) {
            Kind::Epoll
        } else if cfg!(kqueue) {
            Kind::Kqueue
        } else if cfg!(devpoll) {
            Kind::Devpoll
        } else {
            Kind::Poll
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip() {
        for raw in SEL_KIND_SELECT..=SEL_KIND_DEVPOLL {
            assert_eq!(Kind::from_raw(raw).map(Kind::raw), Some(raw));
        }
    }

    #[test]
    fn unknown_values_are_refused() {
        assert_eq!(Kind::from_raw(-1), None);
        assert_eq!(Kind::from_raw(6), None);
    }

    #[test]
    fn default_resolves_to_a_concrete_kind() {
        assert_eq!(
            Kind::from_raw(SEL_KIND_DEFAULT),
            Some(Kind::platform_default())
        );
        #[cfg(target_os = "linux")]
        assert_eq!(Kind::platform_default(), Kind::Epoll);
    }

    #[test]
    fn only_epoll_and_kqueue_trigger_on_edges() {
        for kind in [Kind::Epoll, Kind::Kqueue] {
            assert!(kind.supports(SEL_EVENT_EDGE | 1));
        }
        for kind in [Kind::Select, Kind::Poll, Kind::Devpoll] {
            assert!(!kind.supports(SEL_EVENT_EDGE | 1));
            assert!(kind.supports(crate::events::SEL_EVENT_ONESHOT | 1));
        }
    }

    #[test]
    fn the_built_kinds_are_the_ones_that_open() {
        let waker = crate::backend::waker::Waker::new().unwrap();
        for raw in SEL_KIND_SELECT..=SEL_KIND_DEVPOLL {
            let kind = Kind::from_raw(raw).unwrap();
            let opened = crate::backend::Backend::open(kind, waker.watched_fd());
            assert_eq!(opened.is_ok(), kind.is_built(), "{kind:?}");
        }
        assert!(Kind::built().contains(&Kind::platform_default()));
        #[cfg(feature = "libkqueue")]
        assert!(Kind::built().contains(&Kind::Kqueue));
    }

    #[test]
    fn names_are_cpythons() {
        assert_eq!(Kind::Epoll.name(), c"EpollSelector");
        assert_eq!(Kind::Select.name(), c"SelectSelector");
    }
}
