//! A selector that threads share: what the C API's `sel_selector` is.
//!
//! One thread at a time may wait in [`SharedSelector::select`]; any thread may register, modify,
//! unregister and look up keys meanwhile (mio's `Registry` is `Sync` for the same reason), and
//! any thread or signal handler may call [`SharedSelector::wakeup`].
//!
//! Two ways to wait, by what the kernel allows:
//! - epoll and kqueue take changes while a wait is blocked in them, and report what they watch
//!   now. The waiter waits through a waiting half of its own and holds the lock only for moments
//!   before and after the kernel wait (mio's `Registry` works this way): a change from another
//!   thread costs its system call and a short lock, never a wakeup of the waiter. A report of a
//!   registration changed during the wait carries an old generation and is dropped.
//! - select, poll and /dev/poll wait on a set the core keeps, so the waiter holds the lock
//!   through the kernel wait, and the single-threaded path costs one uncontended lock. Another
//!   thread that finds the lock taken counts itself in `waiting_for_lock` and, if the waiter is
//!   in the kernel, writes the wakeup channel; the waiter, woken, sees that it was not a
//!   `sel_wakeup`, and before any kernel wait it steps aside while the count is not 0: it sleeps
//!   on `changes_done`, the lock released, until the last of those threads has the lock
//!   (smol-rs polling's `poll.rs` does the same), then waits again on the new set with the time
//!   left.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

use crate::backend::waker::Waker;
use crate::backend::UnlockedWait;
use crate::deadline::Deadline;
use crate::errno::{Errno, Result};
use crate::fault::{reach, Stage};
use crate::key::SelEvent;
use crate::kind::Kind;
use crate::selector::{Selector, Waited};

/// A selector: a set of registrations and the kernel object that watches them. Opaque; made by
/// `sel_new`, freed by `sel_close`. One thread at a time may wait in `sel_select`; any thread may
/// register, modify, unregister or look up keys meanwhile, and `sel_wakeup` may be called from
/// any thread or signal handler.
pub struct SharedSelector {
    waker: Waker,
    selector: Mutex<Selector>,
    /// The one waiter's turn (a second gets `EBUSY`), with the waiting half of a kernel that
    /// takes changes while a wait is blocked in it (epoll, kqueue): that waiter holds no lock while it
    /// waits. `None`: the waiter holds `selector` through the kernel wait.
    waiting: Mutex<Option<UnlockedWaiter>>,
    /// Whether `waiting` holds a waiting half, read without its lock.
    waits_unlocked: bool,
    /// Whether an interrupted wait returns `EINTR` (`SEL_FLAG_EINTR`) rather than waiting again.
    report_interrupts: bool,
    /// Set by `wakeup` before it writes the wakeup channel, so the waiter can tell a caller's
    /// wakeup (return 0 entries) from a thread asking for the lock (wait again).
    woken_by_caller: AtomicBool,
    /// Threads that found the lock taken and asked the waiter to step aside, until they have it.
    waiting_for_lock: AtomicUsize,
    /// Set while a waiter that holds the lock is in (or about to enter) the kernel wait: only
    /// then does a thread asking for the lock write the wakeup channel.
    waiter_in_kernel: AtomicBool,
    /// Set, under the lock, while the waiter sleeps on `changes_done`: only then does the last
    /// thread that asked for the lock signal it.
    waiter_aside: AtomicBool,
    /// Signalled when `waiting_for_lock` drops to 0: the waiter sleeps on it while others make
    /// their changes, instead of spinning.
    changes_done: Condvar,
}

impl SharedSelector {
    /// A selector of `kind` (`None`: the platform's default, with fallbacks); see
    /// [`Selector::new`] for the errors.
    pub fn new(kind: Option<Kind>, flags: u32) -> Result<SharedSelector> {
        let waker = Waker::new()?;
        let selector = Selector::new(kind, flags, waker.watched_fd())?;
        let shared = SharedSelector::from_parts(waker, selector);
        reach(Stage::New);
        Ok(shared)
    }

    fn from_parts(waker: Waker, selector: Selector) -> SharedSelector {
        let waiting = selector
            .unlocked_wait()
            .map(|kernel| UnlockedWaiter { kernel, seen: None });
        SharedSelector {
            waker,
            waits_unlocked: waiting.is_some(),
            report_interrupts: selector.reports_interrupts(),
            selector: Mutex::new(selector),
            waiting: Mutex::new(waiting),
            woken_by_caller: AtomicBool::new(false),
            waiting_for_lock: AtomicUsize::new(0),
            waiter_in_kernel: AtomicBool::new(false),
            waiter_aside: AtomicBool::new(false),
            changes_done: Condvar::new(),
        }
    }

    /// The selector, for one call of a thread that is not waiting in `select`: at once when it
    /// is free; else, where the waiter holds the lock through its kernel wait, after asking it
    /// to step aside; else (the waiter holds it only to read its reports) after that moment.
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, Selector> {
        let guard = match self.selector.try_lock() {
            Ok(guard) => guard,
            Err(refused) => self.lock_refused(refused),
        };
        reach(Stage::Lock);
        guard
    }

    /// [`Self::lock`] when the lock is poisoned or taken: out of line, so that the uncontended
    /// path inlines into each call as a few instructions.
    #[cold]
    #[inline(never)]
    fn lock_refused<'a>(
        &'a self,
        refused: TryLockError<MutexGuard<'a, Selector>>,
    ) -> MutexGuard<'a, Selector> {
        match refused {
            TryLockError::Poisoned(poisoned) => self.recovered(poisoned),
            TryLockError::WouldBlock if self.waits_unlocked => self.lock_plainly(),
            TryLockError::WouldBlock => {
                let _asking = StepAside::ask(self);
                self.lock_plainly()
            }
        }
    }

    /// The lock, also after a panic in another call (which returned `-ENOTRECOVERABLE`).
    fn lock_plainly(&self) -> MutexGuard<'_, Selector> {
        self.selector
            .lock()
            .unwrap_or_else(|poisoned| self.recovered(poisoned))
    }

    /// The lock that a call which panicked while holding it left poisoned: the kernel put back
    /// in agreement with the registry, and the lock made plain again, so that the calls after a
    /// panic (`-ENOTRECOVERABLE`) find the selector as usable as before it.
    fn recovered<'a>(
        &'a self,
        poisoned: PoisonError<MutexGuard<'a, Selector>>,
    ) -> MutexGuard<'a, Selector> {
        let mut guard = poisoned.into_inner();
        self.selector.clear_poison();
        guard.settle();
        guard
    }

    /// Python's `select`: waits up to `timeout` seconds (`< 0` or infinite: for ever; NaN:
    /// `EINVAL`) and writes at most `out.len()` entries, one per ready fd; returns how many.
    /// Retries after signals with the time left (PEP 475) unless the selector reports them, and
    /// never returns before the deadline unless woken. `EBUSY` while another thread selects.
    pub fn select(&self, timeout: f64, out: &mut [MaybeUninit<SelEvent>]) -> Result<usize> {
        let deadline = Deadline::after_seconds(timeout)?;
        let mut turn = WaiterTurn::take(self)?;
        let waiting = match turn.waiting.as_mut() {
            Some(waiter) => Waiting::Unlocked(waiter),
            None => Waiting::Locked(self.lock_plainly()),
        };
        self.select_alone(waiting, deadline, out)
    }

    fn select_alone<'a>(
        &'a self,
        mut waiting: Waiting<'a>,
        deadline: Deadline,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Result<usize> {
        reach(Stage::SelectWait);
        loop {
            if let Waiting::Locked(selector) = waiting {
                waiting = Waiting::Locked(self.enter_wait(selector));
            }
            let waited = self.wait_once(&mut waiting, deadline.next_wait(), out);
            reach(Stage::SelectReported);
            match waited {
                Ok(waited) => {
                    let woken =
                        waited.waker_fired && self.woken_by_caller.swap(false, Ordering::AcqRel);
                    if waited.reported > 0 || woken {
                        return Ok(waited.reported);
                    }
                    // Only events of stale registrations (dropped): return rather than spin on
                    // them until the deadline.
                    if waited.kernel_woke && !waited.waker_fired {
                        return Ok(0);
                    }
                }
                Err(Errno(libc::EINTR)) if self.report_interrupts => {
                    return Err(Errno(libc::EINTR))
                }
                Err(Errno(libc::EINTR)) => {}
                Err(err) => return Err(err),
            }
            if deadline.has_passed() {
                return Ok(0);
            }
        }
    }

    /// Announces that the waiter, which holds the lock, enters the kernel wait, once the
    /// threads that asked for the lock have had it. Both sides are sequentially consistent: a
    /// thread that counts itself in `waiting_for_lock` after the announcement sees it and wakes
    /// the waiter; one that counted itself before is seen here.
    fn enter_wait<'a>(
        &'a self,
        mut selector: MutexGuard<'a, Selector>,
    ) -> MutexGuard<'a, Selector> {
        loop {
            self.waiter_in_kernel.store(true, Ordering::SeqCst);
            if self.waiting_for_lock.load(Ordering::SeqCst) == 0 {
                return selector;
            }
            self.waiter_in_kernel.store(false, Ordering::SeqCst);
            selector = self.step_aside(selector);
        }
    }

    /// One kernel wait of at most `wait`, and its reports turned into entries. A wait that holds
    /// no lock takes it for moments: before, when it is free, to read how many fds are
    /// registered, which bounds the reports it takes; after, to look its reports up, where a
    /// report of a registration changed meanwhile carries an old generation and is dropped.
    fn wait_once(
        &self,
        waiting: &mut Waiting<'_>,
        wait: Option<Duration>,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Result<Waited> {
        match waiting {
            Waiting::Locked(selector) => {
                let waited = selector.wait_once(wait, out);
                self.waiter_in_kernel.store(false, Ordering::SeqCst);
                waited
            }
            Waiting::Unlocked(waiter) => {
                let before = self.look(waiter.seen);
                let said = waiter.kernel.wait(wait, out.len(), before.registered)?;
                let mut selector = self.lock_plainly();
                let mut waited = selector.deliver_unlocked(&mut waiter.kernel, said, out);
                let after = Seen::now(&selector);
                // Reports dropped because their registrations changed during this wait are no
                // reason to return: the kernel no longer makes them, so the next wait blocks.
                waited.kernel_woke &= after.changes == before.changes;
                waiter.seen = Some(after);
                Ok(waited)
            }
        }
    }

    /// The registrations as they are now when the lock is free, else as the waiter last saw
    /// them (`seen`), rather than queue for a lock that other threads' changes keep busy: a
    /// count read earlier only bounds the reports a wait takes, and changes made since only
    /// count as made during the wait.
    fn look(&self, seen: Option<Seen>) -> Seen {
        match self.selector.try_lock() {
            Ok(selector) => Seen::now(&selector),
            Err(TryLockError::Poisoned(poisoned)) => Seen::now(&self.recovered(poisoned)),
            Err(TryLockError::WouldBlock) => {
                seen.unwrap_or_else(|| Seen::now(&self.lock_plainly()))
            }
        }
    }

    /// Lets the threads that asked for the lock (`waiting_for_lock`) make their changes: sleeps,
    /// the lock released, until the last of them has taken it, and takes it back.
    fn step_aside<'a>(
        &'a self,
        mut selector: MutexGuard<'a, Selector>,
    ) -> MutexGuard<'a, Selector> {
        // Under the lock, which `changes_done.wait` releases only once the waiter sleeps.
        self.waiter_aside.store(true, Ordering::Relaxed);
        while self.waiting_for_lock.load(Ordering::SeqCst) > 0 {
            selector = self
                .changes_done
                .wait(selector)
                .unwrap_or_else(|poisoned| self.recovered(poisoned));
        }
        self.waiter_aside.store(false, Ordering::Relaxed);
        selector
    }

    /// Makes a blocked `select` (or the next one) return promptly. Thread-safe and
    /// async-signal-safe: an atomic store and one `write`, no lock.
    pub fn wakeup(&self) -> Result<()> {
        // The flag goes first: a waiter that drains the channel must find it set.
        self.woken_by_caller.store(true, Ordering::Release);
        self.waker.wake()
    }

    /// Gives a child after `fork()` its own kernel object and wakeup channel with every key
    /// re-armed; returns how many keys the kernel refused. A thread of the parent may have held
    /// the lock when `fork()` copied it; that thread does not exist here, so the lock is not
    /// taken but made anew with the rest. On error nothing changes.
    pub fn after_fork(&mut self) -> Result<usize> {
        let waker = Waker::new()?;
        let parent = self
            .selector
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let (child, dropped) = parent.forked(waker.watched_fd())?;
        reach(Stage::AfterFork);
        let parent = std::mem::replace(self, SharedSelector::from_parts(waker, child));
        parent
            .selector
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .release_after_fork();
        Ok(dropped)
    }
}

/// A thread's request that the waiter step aside: counted in `waiting_for_lock` from before it
/// looks whether the waiter is in the kernel until it holds the lock, or unwinds (a count left
/// behind would keep the waiter aside for ever). When another thread, not the waiter, holds the
/// lock, nobody is woken: the waiter sees the count before its next kernel wait.
struct StepAside<'a>(&'a SharedSelector);

impl<'a> StepAside<'a> {
    fn ask(shared: &'a SharedSelector) -> StepAside<'a> {
        shared.waiting_for_lock.fetch_add(1, Ordering::SeqCst);
        if shared.waiter_in_kernel.load(Ordering::SeqCst) {
            // A full channel is already signalled; any other failure leaves the waiter to
            // finish on its own, which it does at its deadline.
            let _ = shared.waker.wake();
        }
        StepAside(shared)
    }
}

impl Drop for StepAside<'_> {
    fn drop(&mut self) {
        let last = self.0.waiting_for_lock.fetch_sub(1, Ordering::SeqCst) == 1;
        // `waiter_aside` is read under the lock, except when unwinding, which signals anyway.
        let aside = self.0.waiter_aside.load(Ordering::Relaxed) || std::thread::panicking();
        if last && aside {
            self.0.changes_done.notify_one();
        }
    }
}

/// How the one waiter waits: holding the selector's lock through the kernel wait, whose set
/// other threads then change only after asking it to step aside (select, poll, /dev/poll), or
/// without it, through a waiting half of its own (epoll, kqueue).
enum Waiting<'a> {
    Locked(MutexGuard<'a, Selector>),
    Unlocked(&'a mut UnlockedWaiter),
}

/// The waiting half of a kind whose waits hold no lock, and what its waiter last saw.
struct UnlockedWaiter {
    kernel: UnlockedWait,
    seen: Option<Seen>,
}

/// What a waiter that holds no lock reads of the registrations, under the lock.
#[derive(Clone, Copy)]
struct Seen {
    /// How many fds are registered: bounds the reports a wait takes.
    registered: usize,
    /// [`Selector::changes`]: tells whether the registrations changed during a wait.
    changes: u64,
}

impl Seen {
    fn now(selector: &Selector) -> Seen {
        Seen {
            registered: selector.registry().len(),
            changes: selector.changes(),
        }
    }
}

/// The one waiter's turn in `select`: taken with `EBUSY` while another thread has it, and given
/// back when the call returns or unwinds, so a panic never leaves every later `select` refused.
struct WaiterTurn<'a> {
    shared: &'a SharedSelector,
    waiting: MutexGuard<'a, Option<UnlockedWaiter>>,
}

impl<'a> WaiterTurn<'a> {
    fn take(shared: &'a SharedSelector) -> Result<WaiterTurn<'a>> {
        let waiting = match shared.waiting.try_lock() {
            Ok(waiting) => waiting,
            Err(TryLockError::WouldBlock) => return Err(Errno(libc::EBUSY)),
            // A select that panicked: its waiting half keeps nothing the next wait needs.
            Err(TryLockError::Poisoned(poisoned)) => {
                shared.waiting.clear_poison();
                poisoned.into_inner()
            }
        };
        Ok(WaiterTurn { shared, waiting })
    }
}

impl Drop for WaiterTurn<'_> {
    fn drop(&mut self) {
        // A call that panics may have drained a caller's wakeup without returning for it: the
        // wakeup is signalled again, so that it ends the next select as the contract says.
        if std::thread::panicking() && self.shared.woken_by_caller.load(Ordering::Acquire) {
            let _ = self.shared.waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::SEL_EVENT_READ;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    fn select(shared: &SharedSelector, timeout: f64) -> Result<Vec<SelEvent>> {
        let mut out = [MaybeUninit::uninit(); 8];
        let count = shared.select(timeout, &mut out)?;
        // SAFETY: select initialised the first `count` entries.
        Ok(out[..count]
            .iter()
            .map(|entry| unsafe { entry.assume_init() })
            .collect())
    }

    #[test]
    fn a_registration_from_another_thread_reaches_the_blocked_wait() {
        for kind in Kind::built() {
            let shared = Arc::new(SharedSelector::new(Some(kind), 0).unwrap());
            let (reader, mut writer) = UnixStream::pair().unwrap();
            writer.write_all(b"x").unwrap();
            let fd = reader.as_raw_fd();
            let registrar = {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(50));
                    let registered =
                        shared
                            .lock()
                            .register(fd, SEL_EVENT_READ, std::ptr::null_mut());
                    registered.map(|key| key.fd)
                })
            };
            let started = Instant::now();
            let events = select(&shared, 5.0).unwrap();
            assert!(registrar.join().unwrap().is_ok());
            assert_eq!(events.len(), 1, "{kind:?}");
            assert_eq!(events[0].key.fd, fd);
            assert!(started.elapsed() < Duration::from_secs(4), "{kind:?}");
        }
    }

    #[test]
    fn a_second_waiter_is_refused() {
        let shared = Arc::new(SharedSelector::new(Some(Kind::platform_default()), 0).unwrap());
        // Either thread may find the other's turn first: the waiter tries again until it has
        // it, and this thread until it is refused.
        let waiter = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || loop {
                match select(&shared, -1.0) {
                    Err(Errno(libc::EBUSY)) => thread::yield_now(),
                    waited => return waited.map(|events| events.len()),
                }
            })
        };
        while select(&shared, 0.0) != Err(Errno(libc::EBUSY)) {
            thread::yield_now();
        }
        shared.wakeup().unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(0));
        assert_eq!(select(&shared, 0.0), Ok(Vec::new()));
    }

    #[test]
    fn a_lookup_from_another_thread_does_not_end_the_wait() {
        let shared = Arc::new(SharedSelector::new(Some(Kind::Poll), 0).unwrap());
        let prober = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                shared.lock().get_key(0).map(|key| key.fd)
            })
        };
        let started = Instant::now();
        assert_eq!(select(&shared, 0.2), Ok(Vec::new()));
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(prober.join().unwrap(), Err(Errno(libc::ENOENT)));
    }
}
