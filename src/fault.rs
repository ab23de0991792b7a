//! Panics injected on purpose, to prove that a panic inside a C call leaves the selector usable
//! for the calls after it (`c_tests/panics.c`).
//!
//! The core calls [`reach`] at each point where a panic would leave something half done: right
//! after a lock is taken, between a kernel change and the registry's, around the kernel wait.
//! In a debug build a test arms one of these stages through `sel_debug_inject_panic` (not in the
//! header) and the next call to reach it panics there, once. In a release build `reach` is
//! empty and inlined away, and the C entry point does not exist (the `sanitize` target checks the
//! release library's symbols).

/// A point inside a C call where a test may make the library panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `sel_new`: the selector is built (fds open), not yet handed to the caller.
    New,
    /// Any call but `sel_select` and `sel_wakeup`: it has just taken the selector's lock.
    Lock,
    /// `sel_register`: the kernel watches the fd, the registry does not have it yet.
    RegisterKernel,
    /// `sel_modify`: the kernel has the new events, the registry still the old ones.
    ModifyKernel,
    /// `sel_unregister`: the registry forgot the fd, the kernel still watches it.
    UnregisterRegistry,
    /// `sel_select`: it is the one waiter, holds the lock, and has not waited yet.
    SelectWait,
    /// `sel_select`: the kernel wait returned, its entries are written and the wakeup channel
    /// drained, and the call has not decided yet whether to return.
    SelectReported,
    /// `sel_after_fork`: the child's selector is built, not yet in place of the parent's.
    AfterFork,
}

/// Panics if a test armed `stage`, and disarms it; does nothing in a release build.
#[inline(always)]
pub fn reach(stage: Stage) {
    #[cfg(debug_assertions)]
    armed::fire(stage);
    #[cfg(not(debug_assertions))]
    let _ = stage;
}

#[cfg(debug_assertions)]
pub use armed::arm;

#[cfg(debug_assertions)]
mod armed {
    use super::Stage;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Every stage, by its name in `sel_debug_inject_panic`.
    const NAMES: [(&str, Stage); 8] = [
        ("new", Stage::New),
        ("lock", Stage::Lock),
        ("register:kernel", Stage::RegisterKernel),
        ("modify:kernel", Stage::ModifyKernel),
        ("unregister:registry", Stage::UnregisterRegistry),
        ("select:wait", Stage::SelectWait),
        ("select:reported", Stage::SelectReported),
        ("after_fork", Stage::AfterFork),
    ];

    /// The armed stage's index in [`NAMES`] plus one; 0 when none is.
    static ARMED: AtomicUsize = AtomicUsize::new(0);

    fn index(stage: Stage) -> usize {
        NAMES
            .iter()
            .position(|(_, named)| *named == stage)
            .expect("every stage has a name")
    }

    /// Arms the stage called `name` (replacing any armed one); `false` for an unknown name.
    pub fn arm(name: &[u8]) -> bool {
        let Some(index) = NAMES.iter().position(|(known, _)| known.as_bytes() == name) else {
            return false;
        };
        ARMED.store(index + 1, Ordering::SeqCst);
        true
    }

    pub(super) fn fire(stage: Stage) {
        let index = index(stage);
        if ARMED
            .compare_exchange(index + 1, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            panic!("panic injected at {}", NAMES[index].0);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn an_armed_stage_panics_once() {
            assert!(!arm(b"nowhere"));
            assert!(arm(b"after_fork"));
            super::super::reach(Stage::New);
            let fired = std::panic::catch_unwind(|| super::super::reach(Stage::AfterFork));
            assert!(fired.is_err());
            super::super::reach(Stage::AfterFork);
        }
    }
}
