//! The selector: Python's `_BaseSelectorImpl` and `_PollLikeSelector` in one safe type.
//!
//! It validates every argument in Python's order before any kernel call and keeps the registry
//! in step with the kernel (a refused register records nothing, a refused modify unregisters, as
//! CPython does since bpo-30014). The wait loop around [`Selector::wait_once`] lives in
//! [`crate::shared`], which also lets other threads in.

use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::backend::{each_kind, waker, Backend, Kernel, UnlockedWait};
use crate::errno::{Errno, Result};
use crate::events::{
    valid_interest, ALL_EVENTS, ALL_FLAGS, ALL_MODES, SEL_EVENT_ONESHOT, SEL_FLAG_EINTR,
    SEL_FLAG_MODES,
};
use crate::fault::{reach, Stage};
use crate::key::{SelEvent, SelKey};
use crate::kind::Kind;
use crate::registry::Registry;
use crate::report::{self, Reporter};

/// A registry of keys and the backend that watches them.
pub struct Selector {
    registry: Registry,
    backend: Backend,
    /// Where the next wait resumes delivering (see [`crate::report`]).
    reporter: Reporter,
    waker_fd: RawFd,
    report_interrupts: bool,
    accepts_modes: bool,
    /// The change in progress between the kernel and the registry, if any: a panic there leaves
    /// it set, and [`Selector::settle`] puts the two back in agreement.
    unsettled: Option<Unsettled>,
    /// Counts the calls that may change the registrations, so that a wait which holds no lock
    /// can tell whether they changed while it was blocked.
    changes: u64,
}

/// One fd's change that a panic may have cut off between the kernel and the registry.
#[derive(Clone, Copy, Debug)]
enum Unsettled {
    /// The kernel may watch `fd` under `token` although the registry lacks it: a register
    /// before its record, or an unregister after its record is gone.
    KernelOnly { fd: RawFd, token: u32 },
    /// The kernel may watch `fd` for other events than the registry holds: a modify.
    Interest { fd: RawFd },
}

impl Selector {
    /// A selector of `kind` (`None`: the platform's default, with fallbacks) whose backend also
    /// watches `waker_fd`. `EINVAL` for unknown flag bits, `ENOSYS` for a kind this platform
    /// lacks, else the kernel's error.
    pub fn new(kind: Option<Kind>, flags: u32, waker_fd: RawFd) -> Result<Selector> {
        if flags & !ALL_FLAGS != 0 {
            return Err(Errno(libc::EINVAL));
        }
        let backend = match kind {
            Some(kind) => Backend::open(kind, waker_fd)?,
            None => Backend::open_default(waker_fd)?,
        };
        Ok(Selector {
            registry: Registry::default(),
            backend,
            reporter: Reporter::default(),
            waker_fd,
            report_interrupts: flags & SEL_FLAG_EINTR != 0,
            accepts_modes: flags & SEL_FLAG_MODES != 0,
            unsettled: None,
            changes: 0,
        })
    }

    /// The concrete kind.
    pub fn kind(&self) -> Kind {
        self.backend.kind()
    }

    /// The kernel object's fd; `EOPNOTSUPP` for select and poll, which have none.
    pub fn fileno(&self) -> Result<RawFd> {
        self.backend.fileno().ok_or(Errno(libc::EOPNOTSUPP))
    }

    /// The registrations.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Bytes of heap held for the registrations (registry and kernel-side arrays).
    pub fn heap_bytes(&self) -> usize {
        self.registry.heap_bytes() + self.backend.heap_bytes()
    }

    /// Python's `register`.
    #[inline]
    pub fn register(&mut self, fd: c_int, events: u32, data: *mut c_void) -> Result<SelKey> {
        self.count_change();
        check_interest(events, self.accepts_modes, || self.kind())?;
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        // The wakeup fd is registered already, by the selector itself: a second registration
        // would take over its kernel entry (epoll, kqueue) or let the caller drain it.
        if self.registry.contains(fd) || fd == self.waker_fd {
            return Err(Errno(libc::EEXIST));
        }
        self.backend.admit(fd)?;
        let token = self.backend.add(fd, events)?;
        self.unsettled = Some(Unsettled::KernelOnly { fd, token });
        reach(Stage::RegisterKernel);
        let key = self.registry.insert(fd, events, data, token);
        self.unsettled = None;
        Ok(key)
    }

    /// Python's `modify`: a change of data alone makes no system call (except on a oneshot
    /// registration, which it re-arms); a change of events the kernel refuses unregisters the fd.
    #[inline]
    pub fn modify(&mut self, fd: c_int, events: u32, data: *mut c_void) -> Result<SelKey> {
        self.count_change();
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        let entry = self.registry.entry(fd).ok_or(Errno(libc::ENOENT))?;
        let (current, mut token) = entry.get();
        let backend = &mut self.backend;
        check_interest(events, self.accepts_modes, || backend.kind())?;
        if events != current.events || events & SEL_EVENT_ONESHOT != 0 {
            self.unsettled = Some(Unsettled::Interest { fd });
            match backend.modify(fd, token, events) {
                Ok(changed) => token = changed,
                Err(err) => {
                    self.unregister(fd)?;
                    return Err(err);
                }
            }
            reach(Stage::ModifyKernel);
        }
        let key = entry.set(events, data, token);
        self.unsettled = None;
        Ok(key)
    }

    /// Python's `unregister`; succeeds even when the fd was closed, or its number reused.
    // Always: its other callers (a failed modify, `settle`) made the compiler keep it out of
    // line, a call frame on every `sel_unregister`.
    #[inline(always)]
    pub fn unregister(&mut self, fd: c_int) -> Result<SelKey> {
        self.count_change();
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        let (key, token) = self.registry.remove(fd).ok_or(Errno(libc::ENOENT))?;
        self.unsettled = Some(Unsettled::KernelOnly { fd, token });
        reach(Stage::UnregisterRegistry);
        self.forget_in_kernel(fd, token);
        Ok(key)
    }

    fn count_change(&mut self) {
        self.changes = self.changes.wrapping_add(1);
    }

    /// How many calls that may change the registrations were made so far (wrapping).
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Stops the kernel watching `fd` under `token`, and follows a registration the backend
    /// moved. Settles the change at once: a second removal would take another fd's entry (poll).
    #[inline]
    fn forget_in_kernel(&mut self, fd: RawFd, token: u32) {
        let moved = self.backend.remove(fd, token);
        self.unsettled = None;
        if let Some(moved) = moved {
            self.registry.set_token(moved.fd, moved.token);
        }
    }

    /// Puts the kernel back in agreement with the registry after a panic cut a change off
    /// (the registry is the truth: a register that did not record its fd is undone in the
    /// kernel, an unregister is finished there, a modify's kernel side is made the registry's
    /// again, or the fd unregistered if the kernel now refuses it, as a failed modify does).
    /// Idempotent: a panic inside it leaves the same work for the next call.
    pub fn settle(&mut self) {
        match self.unsettled {
            None => {}
            Some(Unsettled::KernelOnly { fd, token }) => {
                if self.registry.contains(fd) {
                    self.unsettled = None;
                } else {
                    self.forget_in_kernel(fd, token);
                }
            }
            Some(Unsettled::Interest { fd }) => {
                if let Some((key, token)) = self.registry.get_with_token(fd) {
                    match self.backend.modify(fd, token, key.events) {
                        Ok(token) => self.registry.set_token(fd, token),
                        Err(_) => {
                            let _ = self.unregister(fd);
                        }
                    }
                }
                self.unsettled = None;
            }
        }
    }

    /// Python's `get_key`.
    pub fn get_key(&self, fd: c_int) -> Result<SelKey> {
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        self.registry.get(fd).ok_or(Errno(libc::ENOENT))
    }

    /// A copy of this selector on a new kernel object watching `waker_fd`, for a child after
    /// `fork()`: the same keys, re-armed. Building it makes no kernel call on the object the
    /// parent shares. A registration is left out when `register` would refuse it now, on every
    /// kind alike: its fd closed in the child (`admit` or the kernel says so), or its number
    /// now the new wakeup fd's; returns the copy and how many were left out.
    pub fn forked(&self, waker_fd: RawFd) -> Result<(Selector, usize)> {
        let mut backend = Backend::open(self.kind(), waker_fd)?;
        let mut registry = self.registry.clone();
        let mut dropped = 0;
        for key in self.registry.keys() {
            let rearmed = if key.fd == waker_fd {
                Err(Errno(libc::EEXIST))
            } else {
                backend
                    .admit(key.fd)
                    .and_then(|()| backend.add(key.fd, key.events))
            };
            match rearmed {
                Ok(token) => registry.set_token(key.fd, token),
                Err(_) => {
                    registry.remove(key.fd);
                    dropped += 1;
                }
            }
        }
        let forked = Selector {
            registry,
            backend,
            reporter: Reporter::default(),
            waker_fd,
            report_interrupts: self.report_interrupts,
            accepts_modes: self.accepts_modes,
            unsettled: None,
            changes: 0,
        };
        Ok((forked, dropped))
    }

    /// Lets go of this (the parent's) selector in a child after `fork()`, once [`Self::forked`]
    /// gave the child its own: see [`Kernel::release_after_fork`].
    pub fn release_after_fork(self) {
        self.backend.release_after_fork();
    }

    /// A waiting half of its own for waits that hold no lock, where the kernel takes changes
    /// while a wait is blocked in it (see [`Backend::unlocked_wait`]).
    pub fn unlocked_wait(&self) -> Option<UnlockedWait> {
        self.backend.unlocked_wait()
    }

    /// Delivers the answer of a wait that `waiting` made without the lock, as
    /// [`Selector::wait_once`] delivers its own: `waited` is what [`UnlockedWait::wait`] said.
    pub fn deliver_unlocked(
        &mut self,
        waiting: &mut UnlockedWait,
        waited: (usize, usize),
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Waited {
        let delivered = waiting.deliver(waited, &self.registry, out, &mut self.reporter);
        self.drained_if(delivered.waker_fired);
        Waited {
            reported: delivered.entries,
            kernel_woke: waited.0 > 0,
            waker_fired: delivered.waker_fired,
        }
    }

    /// Drains the wakeup channel when a wait said it fired.
    fn drained_if(&self, waker_fired: bool) {
        if waker_fired {
            waker::drain(self.waker_fd);
        }
    }

    /// Whether an interrupted wait is reported (`SEL_FLAG_EINTR`) rather than retried.
    pub fn reports_interrupts(&self) -> bool {
        self.report_interrupts
    }

    /// One kernel wait of at most `wait` (`None`: for ever), writing at most `out.len()`
    /// entries; the caller (see [`crate::shared`]) decides whether to wait again.
    pub fn wait_once(
        &mut self,
        wait: Option<Duration>,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Result<Waited> {
        // Never more entries than registrations: this also bounds the kernels' scratch space.
        let room = out.len().min(self.registry.len());
        let out = &mut out[..room];
        let (registry, reporter) = (&self.registry, &mut self.reporter);
        let waited = each_kind!(&mut self.backend, kernel => {
            wait_and_deliver(kernel, wait, registry, out, reporter)
        })?;
        self.drained_if(waited.waker_fired);
        Ok(waited)
    }
}

/// Validates an interest set for a selector of `kind` that `accepts_modes` (`SEL_FLAG_MODES`):
/// `EINVAL` for bad bits (mode bits included, unless it accepts them), `EOPNOTSUPP` for a mode
/// the kind lacks. A function of those two, not of the selector, so that `modify` can check
/// while it holds its registration.
#[inline]
fn check_interest(events: u32, accepts_modes: bool, kind: impl FnOnce() -> Kind) -> Result<()> {
    // READ, WRITE or both, the common case, is valid on every selector: one compare.
    if events.wrapping_sub(1) < ALL_EVENTS {
        return Ok(());
    }
    check_modes(events, accepts_modes, kind())
}

/// [`check_interest`] for anything but plain directions.
#[cold]
fn check_modes(events: u32, accepts_modes: bool, kind: Kind) -> Result<()> {
    let modes_refused = !accepts_modes && events & ALL_MODES != 0;
    if !valid_interest(events) || modes_refused {
        return Err(Errno(libc::EINVAL));
    }
    // Only a mode bit can be unsupported.
    if events & ALL_MODES != 0 && !kind.supports(events) {
        return Err(Errno(libc::EOPNOTSUPP));
    }
    Ok(())
}

/// What one wait produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waited {
    /// Entries written to the caller's buffer.
    pub reported: usize,
    /// Whether the kernel reported anything at all (a wakeup, or events of a stale registration
    /// that were dropped): then the wait did not merely time out.
    pub kernel_woke: bool,
    /// Whether the wakeup fd was among what the kernel reported (it has been drained).
    pub waker_fired: bool,
}

/// One wait of `kernel`, then its answer turned into entries by the one reporting path.
fn wait_and_deliver<K: Kernel>(
    kernel: &mut K,
    wait: Option<Duration>,
    registry: &Registry,
    out: &mut [MaybeUninit<SelEvent>],
    reporter: &mut Reporter,
) -> Result<Waited> {
    let capacity = report::kernel_capacity::<K>(out.len(), registry.len());
    let said = kernel.wait(wait, capacity)?;
    let delivered = reporter.deliver(kernel, (said, capacity), registry, out);
    Ok(Waited {
        reported: delivered.entries,
        kernel_woke: said > 0,
        waker_fired: delivered.waker_fired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{SEL_EVENT_READ, SEL_EVENT_WRITE};
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    use std::ptr;

    /// A selector of `kind` and the waker it watches (kept alive beside it).
    fn selector(kind: Kind) -> (Selector, crate::backend::waker::Waker) {
        let waker = crate::backend::waker::Waker::new().unwrap();
        let selector = Selector::new(Some(kind), 0, waker.watched_fd()).unwrap();
        (selector, waker)
    }

    fn pair() -> (UnixStream, UnixStream) {
        UnixStream::pair().unwrap()
    }

    fn select_now(selector: &mut Selector) -> Vec<SelEvent> {
        let mut out = [MaybeUninit::uninit(); 16];
        let count = selector
            .wait_once(Some(Duration::ZERO), &mut out)
            .unwrap()
            .reported;
        // SAFETY: select initialised the first `count` entries.
        out[..count]
            .iter()
            .map(|entry| unsafe { entry.assume_init() })
            .collect()
    }

    #[test]
    fn register_select_unregister_on_every_kind() {
        for kind in Kind::built() {
            let (mut selector, _waker) = selector(kind);
            let (a, mut b) = pair();
            let data = 7usize as *mut c_void;
            let key = selector
                .register(a.as_raw_fd(), SEL_EVENT_READ, data)
                .unwrap();
            assert_eq!(key.data, data);
            assert!(select_now(&mut selector).is_empty(), "{kind:?}");
            std::io::Write::write_all(&mut b, b"x").unwrap();
            let events = select_now(&mut selector);
            assert_eq!(events.len(), 1, "{kind:?}");
            assert_eq!((events[0].key, events[0].mask), (key, SEL_EVENT_READ));
            assert_eq!(selector.unregister(a.as_raw_fd()), Ok(key));
            assert!(select_now(&mut selector).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn errors_come_in_pythons_order() {
        for kind in Kind::built() {
            let (mut selector, _waker) = selector(kind);
            let (a, _b) = pair();
            let fd = a.as_raw_fd();
            let none = ptr::null_mut();
            assert_eq!(selector.register(-1, 0, none), Err(Errno(libc::EINVAL)));
            assert_eq!(
                selector.register(-1, SEL_EVENT_READ, none),
                Err(Errno(libc::EBADF))
            );
            selector.register(fd, SEL_EVENT_READ, none).unwrap();
            assert_eq!(
                selector.register(fd, SEL_EVENT_READ, none),
                Err(Errno(libc::EEXIST))
            );
            assert_eq!(selector.modify(-1, 0, none), Err(Errno(libc::EBADF)));
            assert_eq!(selector.modify(fd + 100, 0, none), Err(Errno(libc::ENOENT)));
            assert_eq!(selector.modify(fd, 0, none), Err(Errno(libc::EINVAL)));
            assert_eq!(
                selector.get_key(fd).map(|key| key.events),
                Ok(SEL_EVENT_READ)
            );
            assert_eq!(selector.unregister(fd + 100), Err(Errno(libc::ENOENT)));
        }
    }

    #[test]
    fn poll_tokens_follow_relocations() {
        let (mut selector, _waker) = selector(Kind::Poll);
        let pairs: Vec<_> = (0..4).map(|_| pair()).collect();
        for (a, _) in &pairs {
            selector
                .register(a.as_raw_fd(), SEL_EVENT_WRITE, ptr::null_mut())
                .unwrap();
        }
        // Removing the first moves the last into its place; it must still be reported as itself.
        selector.unregister(pairs[0].0.as_raw_fd()).unwrap();
        let mut fds: Vec<_> = select_now(&mut selector)
            .iter()
            .map(|event| event.key.fd)
            .collect();
        fds.sort_unstable();
        let mut expected: Vec<_> = pairs[1..].iter().map(|(a, _)| a.as_raw_fd()).collect();
        expected.sort_unstable();
        assert_eq!(fds, expected);
        selector
            .modify(pairs[3].0.as_raw_fd(), SEL_EVENT_READ, ptr::null_mut())
            .unwrap();
        assert_eq!(select_now(&mut selector).len(), 2);
    }

    #[test]
    fn flags_and_kinds_are_checked() {
        let waker = crate::backend::waker::Waker::new().unwrap();
        let fd = waker.watched_fd();
        assert!(matches!(
            Selector::new(None, 4, fd),
            Err(Errno(libc::EINVAL))
        ));
        let missing = if cfg!(devpoll) {
            Kind::Kqueue
        } else {
            Kind::Devpoll
        };
        assert!(matches!(
            Selector::new(Some(missing), 0, fd),
            Err(Errno(libc::ENOSYS))
        ));
        let default = Selector::new(None, SEL_FLAG_EINTR, fd).unwrap();
        assert_eq!(default.kind(), Kind::platform_default());
        assert!(default.fileno().is_ok());
        let poll = Selector::new(Some(Kind::Poll), 0, fd).unwrap();
        assert_eq!(poll.fileno(), Err(Errno(libc::EOPNOTSUPP)));
    }

    #[test]
    fn heap_stays_within_budget_per_registration() {
        let (mut selector, _waker) = selector(Kind::platform_default());
        let fds: Vec<OwnedFd> = (0..512)
            .map(|_| OwnedFd::from(UnixStream::pair().unwrap().0))
            .collect();
        for fd in &fds {
            selector
                .register(fd.as_raw_fd(), SEL_EVENT_READ, ptr::null_mut())
                .unwrap();
        }
        let highest = fds.iter().map(|fd| fd.as_raw_fd()).max().unwrap() as usize;
        // The dense table is sized by the highest fd; amortised growth may double it.
        assert!(selector.heap_bytes() <= 2 * 16 * (highest + 1) + 16 * 4);
    }
}
