//! Event bits and creation flags, with Python's values (docs/CONTRACT.md, The API).

/// The file descriptor is ready to read (Python's `selectors.EVENT_READ`).
pub const SEL_EVENT_READ: u32 = 1;

/// The file descriptor is ready to write (Python's `selectors.EVENT_WRITE`).
pub const SEL_EVENT_WRITE: u32 = 2;

/// Mode bit (an addition to Python's API, for selectors made with `SEL_FLAG_MODES`): report the
/// registration once, then disarm it until `sel_modify` re-arms it (epoll's EPOLLONESHOT,
/// kqueue's EV_DISPATCH; emulated by select, poll and /dev/poll). Combine with READ and/or WRITE.
pub const SEL_EVENT_ONESHOT: u32 = 0x100;

/// Mode bit (an addition to Python's API, for selectors made with `SEL_FLAG_MODES`):
/// edge-triggered, report only changes of readiness (epoll's EPOLLET, kqueue's EV_CLEAR). Only
/// EPOLL and KQUEUE have it; the others return `-EOPNOTSUPP` (ask with `sel_supports`). Combine
/// with READ and/or WRITE.
pub const SEL_EVENT_EDGE: u32 = 0x200;

/// `sel_new` flag: `sel_select` returns `-EINTR` when a signal interrupts the wait, instead of
/// retrying with the time left. Language runtimes use it to run their own signal handlers.
pub const SEL_FLAG_EINTR: u32 = 1;

/// The directions a registration may wait for; `sel_select`'s masks hold only these.
pub(crate) const ALL_EVENTS: u32 = SEL_EVENT_READ | SEL_EVENT_WRITE;

/// The mode bits a registration may add to its directions.
pub(crate) const ALL_MODES: u32 = SEL_EVENT_ONESHOT | SEL_EVENT_EDGE;

/// `sel_new` flag (an addition to the contract): the selector accepts the mode bits
/// `SEL_EVENT_ONESHOT` and `SEL_EVENT_EDGE`. Without it they are bits beyond READ | WRITE, which
/// the contract (and Python) refuses with `-EINVAL`; asking for them up front keeps every
/// selector made the contract's way exactly as the contract says.
pub const SEL_FLAG_MODES: u32 = 2;

/// Every flag bit `sel_new` accepts.
pub(crate) const ALL_FLAGS: u32 = SEL_FLAG_EINTR | SEL_FLAG_MODES;

/// Whether `events` is a valid interest set: READ and/or WRITE, plus mode bits, nothing else
/// (Python raises `ValueError` for an empty set or unknown bits).
pub fn valid_interest(events: u32) -> bool {
    events & ALL_EVENTS != 0 && events & !(ALL_EVENTS | ALL_MODES) == 0
}

/// Readiness as `poll(2)` and `epoll(7)` report it, mapped the way CPython's
/// `_PollLikeSelector.select` maps it: any bit besides "readable" (hang-up, error, invalid fd,
/// writable) counts as writable, and any bit besides "writable" counts as readable. Hang-ups and
/// errors therefore wake both directions, so a caller always gets to see them.
#[inline]
pub(crate) fn from_poll_bits(revents: u32, readable: u32, writable: u32) -> u32 {
    // The most common report, readable alone, in one compare.
    if revents == readable {
        return SEL_EVENT_READ;
    }
    let mut mask = 0;
    if revents & !readable != 0 {
        mask |= SEL_EVENT_WRITE;
    }
    if revents & !writable != 0 {
        mask |= SEL_EVENT_READ;
    }
    mask
}

/// The `poll(2)`/`epoll(7)` interest bits for an interest set of READ and WRITE.
pub(crate) fn to_poll_bits(events: u32, readable: u32, writable: u32) -> u32 {
    let mut bits = 0;
    if events & SEL_EVENT_READ != 0 {
        bits |= readable;
    }
    if events & SEL_EVENT_WRITE != 0 {
        bits |= writable;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN: u32 = libc::POLLIN as u32;
    const OUT: u32 = libc::POLLOUT as u32;

    #[test]
    fn interest_must_be_read_write_and_not_empty() {
        assert!(valid_interest(SEL_EVENT_READ));
        assert!(valid_interest(SEL_EVENT_WRITE));
        assert!(valid_interest(ALL_EVENTS));
        assert!(!valid_interest(0));
        assert!(!valid_interest(4));
        assert!(!valid_interest(SEL_EVENT_READ | 8));
        assert!(!valid_interest(u32::MAX));
        assert!(valid_interest(
            SEL_EVENT_READ | SEL_EVENT_ONESHOT | SEL_EVENT_EDGE
        ));
        assert!(!valid_interest(SEL_EVENT_ONESHOT));
        assert!(!valid_interest(SEL_EVENT_EDGE | 0x400));
    }

    #[test]
    fn poll_bits_map_like_cpython() {
        assert_eq!(from_poll_bits(IN, IN, OUT), SEL_EVENT_READ);
        assert_eq!(from_poll_bits(OUT, IN, OUT), SEL_EVENT_WRITE);
        assert_eq!(from_poll_bits(IN | OUT, IN, OUT), ALL_EVENTS);
        for hangup in [libc::POLLHUP, libc::POLLERR, libc::POLLNVAL] {
            assert_eq!(from_poll_bits(hangup as u32, IN, OUT), ALL_EVENTS);
        }
        assert_eq!(from_poll_bits(0, IN, OUT), 0);
    }

    #[test]
    fn interest_maps_to_poll_bits() {
        assert_eq!(to_poll_bits(SEL_EVENT_READ, IN, OUT), IN);
        assert_eq!(to_poll_bits(SEL_EVENT_WRITE, IN, OUT), OUT);
        assert_eq!(to_poll_bits(ALL_EVENTS, IN, OUT), IN | OUT);
    }
}
