//! Turning `sel_select`'s timeout in seconds into waits the kernel can do.
//!
//! The deadline is computed once on a monotonic clock; each wait gets the time left, capped to
//! what every kernel interface accepts, and the caller waits again while time is left (after a
//! signal, a capped wait, or a kernel that woke a little early). Nothing is ever rounded down.

use std::time::{Duration, Instant};

use crate::errno::{Errno, Result};

/// The longest single wait: `INT_MAX` milliseconds, the most `poll(2)` and `epoll_wait(2)` take.
/// Longer timeouts wait again.
pub const MAX_SINGLE_WAIT: Duration = Duration::from_millis(i32::MAX as u64);

/// When a `sel_select` call must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// Poll once (timeout 0).
    Now,
    /// Wait until something happens (negative or infinite timeout, or one too far away for the
    /// clock to represent, which is the same in practice).
    Never,
    /// Wait until this instant.
    At(Instant),
}

impl Deadline {
    /// The deadline of a timeout given in seconds; NaN is refused with `EINVAL`.
    pub fn after_seconds(timeout: f64) -> Result<Deadline> {
        if timeout.is_nan() {
            return Err(Errno(libc::EINVAL));
        }
        if timeout == 0.0 {
            return Ok(Deadline::Now);
        }
        if timeout < 0.0 {
            return Ok(Deadline::Never);
        }
        let Ok(wait) = Duration::try_from_secs_f64(timeout) else {
            return Ok(Deadline::Never);
        };
        // A positive timeout below a nanosecond still waits, never polls.
        let wait = wait.max(Duration::from_nanos(1));
        Ok(Instant::now()
            .checked_add(wait)
            .map_or(Deadline::Never, Deadline::At))
    }

    /// How long the next kernel wait may last: `None` for ever, else the time left (zero once
    /// the deadline has passed), capped at [`MAX_SINGLE_WAIT`].
    pub fn next_wait(self) -> Option<Duration> {
        match self {
            Deadline::Now => Some(Duration::ZERO),
            Deadline::Never => None,
            Deadline::At(at) => Some(
                at.saturating_duration_since(Instant::now())
                    .min(MAX_SINGLE_WAIT),
            ),
        }
    }

    /// Whether the deadline has passed (never true for `Never`).
    pub fn has_passed(self) -> bool {
        match self {
            Deadline::Now => true,
            Deadline::Never => false,
            Deadline::At(at) => Instant::now() >= at,
        }
    }
}

/// A wait in whole milliseconds for `poll(2)` and `epoll_wait(2)`: rounded up so the kernel
/// never wakes before the deadline (a truncated 0.5 ms would busy-loop), `-1` for ever.
pub fn millis_rounded_up(wait: Option<Duration>) -> i32 {
    match wait {
        None => -1,
        Some(wait) => {
            let millis = wait.as_nanos().div_ceil(1_000_000);
            i32::try_from(millis).unwrap_or(i32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_refused() {
        assert_eq!(Deadline::after_seconds(f64::NAN), Err(Errno(libc::EINVAL)));
    }

    #[test]
    fn zero_polls_and_negative_waits_for_ever() {
        assert_eq!(Deadline::after_seconds(0.0), Ok(Deadline::Now));
        assert_eq!(Deadline::after_seconds(-0.0), Ok(Deadline::Now));
        assert_eq!(Deadline::after_seconds(-1.0), Ok(Deadline::Never));
        assert_eq!(
            Deadline::after_seconds(f64::NEG_INFINITY),
            Ok(Deadline::Never)
        );
        assert_eq!(Deadline::after_seconds(f64::INFINITY), Ok(Deadline::Never));
        assert_eq!(Deadline::Now.next_wait(), Some(Duration::ZERO));
        assert_eq!(Deadline::Never.next_wait(), None);
        assert!(Deadline::Now.has_passed());
        assert!(!Deadline::Never.has_passed());
    }

    #[test]
    fn huge_timeouts_never_wrap() {
        for huge in [f64::MAX, 1e30, 1e19] {
            assert_eq!(Deadline::after_seconds(huge), Ok(Deadline::Never));
        }
        let far = Deadline::after_seconds(1e9).unwrap();
        assert_eq!(far.next_wait(), Some(MAX_SINGLE_WAIT));
        assert!(!far.has_passed());
    }

    #[test]
    fn tiny_timeouts_still_wait() {
        let deadline = Deadline::after_seconds(1e-12).unwrap();
        assert!(matches!(deadline, Deadline::At(_)));
        assert_eq!(millis_rounded_up(Some(Duration::from_nanos(1))), 1);
    }

    #[test]
    fn milliseconds_round_up_and_clamp() {
        assert_eq!(millis_rounded_up(None), -1);
        assert_eq!(millis_rounded_up(Some(Duration::ZERO)), 0);
        assert_eq!(millis_rounded_up(Some(Duration::from_micros(1500))), 2);
        assert_eq!(millis_rounded_up(Some(Duration::from_millis(3))), 3);
        assert_eq!(
            millis_rounded_up(Some(Duration::from_secs(u64::MAX))),
            i32::MAX
        );
    }

    #[test]
    fn a_deadline_passes() {
        let deadline = Deadline::after_seconds(0.001).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        assert!(deadline.has_passed());
        assert_eq!(deadline.next_wait(), Some(Duration::ZERO));
    }
}
