//! The numbers that tell one registration of an fd from an earlier one, for the kernels that
//! carry a cookie with each report (epoll's `data`, kqueue's `udata`).
//!
//! A report whose number is not the fd's current one belongs to a registration that is gone (an
//! fd closed behind the selector's back while a duplicate keeps its file open, a number reused),
//! and is dropped. Every add and every modify takes a new number.

/// The number a backend gives its wakeup fd's cookie; no registration ever gets it.
pub(super) const WAKER_GENERATION: u32 = u32::MAX;

/// Hands out generations: `0, 1, …` up to `u32::MAX - 1`, then from 0 again, so a number
/// repeats only after 2^32 - 1 changes and never equals [`WAKER_GENERATION`].
#[derive(Debug, Default)]
pub(super) struct Generations {
    next: u32,
}

impl Generations {
    /// A generation no live registration has.
    pub(super) fn next(&mut self) -> u32 {
        let generation = self.next;
        // A compare, not `% WAKER_GENERATION`: this runs on every register and modify.
        self.next = if generation + 1 == WAKER_GENERATION {
            0
        } else {
            generation + 1
        };
        generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_and_wraps_before_the_wakers_number() {
        let mut generations = Generations::default();
        assert_eq!((generations.next(), generations.next()), (0, 1));
        generations.next = WAKER_GENERATION - 1;
        assert_eq!(generations.next(), WAKER_GENERATION - 1);
        assert_eq!(generations.next(), 0);
    }
}
