//! `kqueue(2)`: the readiness interface of macOS and the BSDs, and DEFAULT there.
//!
//! READ and WRITE are two filters of one fd (`EVFILT_READ`, `EVFILT_WRITE`). Register, modify
//! and unregister each apply their change list ([`Changes`]) with ONE `kevent()` call using
//! `EV_RECEIPT`, so the kernel answers every change, in list order, with its own errno; a
//! register that fails halfway deletes the filter it did add, so it leaves nothing behind.
//!
//! Modes map to filter flags: `SEL_EVENT_EDGE` is `EV_CLEAR`, `SEL_EVENT_ONESHOT` is
//! `EV_DISPATCH` (the kernel disables a filter once it is reported; `sel_modify` deletes and
//! re-adds it). A oneshot registration ready in both directions reports both in one entry;
//! ready in one, the other filter is disabled after the report, so the registration is reported
//! once, as on epoll.
//!
//! Each filter carries its registration's generation in `udata` (a number, never an address),
//! and a report whose generation is not the fd's current one is dropped, as on epoll. kqueue
//! watches fd numbers and `close` removes their filters, so such reports are rare; the tag
//! costs nothing and keeps the backends alike. The caller's `data` never enters the kernel.
//!
//! A wait asks the kernel for every ready filter, two per registration plus the wakeup fd's
//! (CPython gh-110038), when the caller's buffer holds every registration, and for exactly the
//! buffer's size otherwise (see `kernel_capacity`: a report taken and dropped would be lost for
//! good with `EV_CLEAR` or `EV_DISPATCH`). The answer is sorted by fd, which puts the two
//! filters of an fd side by side for the core to merge into one entry. A wait of the buffer's
//! size may take one filter of an fd ready both ways, and the kernel may hand back that same
//! filter first every time: the core then asks `probe` about the other direction of such
//! entries, which one `poll(2)` answers, so an entry always carries all of ready & interest.
//!
//! The wakeup channel is the pipe of [`waker`], watched by an `EVFILT_READ` filter.
//! `EVFILT_USER` would save the pipe's two fds, but OpenBSD lacks it, and the core makes the
//! waker before, and apart from, the backend: one mechanism for every platform.
//!
//! A kqueue is not inherited by a child of `fork` on these systems (the child's fd table has no
//! such fd; OpenBSD's regress test `kqueue-fork.c` checks it; libkqueue closes its copy in the
//! child): a child uses the selector after `sel_after_fork`, which builds a new kqueue, and
//! never closes the old number ([`KqueueFd`]), since in the child that number is free or
//! already names a file the child opened.

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};
use std::ptr;
use std::time::Duration;

use super::fd::{owned, syscall};
use super::generation::{Generations, WAKER_GENERATION};
use super::kqueue_changes::{answers, Action, Change, Changes, Filter, MAX_CHANGES};
use super::kqueue_sys as sys;
use super::{Kernel, Relocation};
use crate::errno::{Errno, Result};
use crate::events::{from_poll_bits, to_poll_bits, SEL_EVENT_READ};
use crate::kind::Kind;
use crate::report::{Answer, Probe, Queue, Report, Reports, Turns};

/// A kqueue and the buffer its waits fill.
pub struct KqueueBackend {
    kqueue: KqueueFd,
    generations: Generations,
    waiting: KqueueWait,
}

/// The waiting half of a kqueue: its fd, the buffer a wait fills and the probes' room.
/// `kevent()` takes changes from other threads while a wait is blocked in it (libkqueue too: it
/// drops its lock around the wait), so a [`SharedSelector`] waits through one of its own
/// without the selector's lock, and takes the lock only to deliver the answer.
///
/// [`SharedSelector`]: crate::shared::SharedSelector
pub struct KqueueWait {
    /// The kqueue's fd, owned by the [`KqueueBackend`], which outlives every wait.
    kqueue: RawFd,
    waker_fd: RawFd,
    kernel_events: KernelEvents,
    /// How many entries of `kernel_events` the last wait filled.
    received: usize,
    /// What `probe` asks `poll(2)` about; grows to the caller's buffer.
    missing: Vec<libc::pollfd>,
}

/// The kqueue's fd, closed only by the process that made it. A child of `fork` has no copy (the
/// BSD kernels do not inherit a kqueue; libkqueue closes it in the child): there the number is
/// free, or names a file the child opened since, which closing it would take away. So a child
/// that drops the selector, by `sel_close` or after `sel_after_fork`, forgets the number.
struct KqueueFd {
    fd: RawFd,
    creator: libc::pid_t,
}

impl KqueueFd {
    fn new(kqueue: OwnedFd) -> KqueueFd {
        KqueueFd {
            fd: kqueue.into_raw_fd(),
            // SAFETY: getpid takes no arguments and cannot fail.
            creator: syscall!(libc::getpid()).unwrap_or(0),
        }
    }
}

impl AsRawFd for KqueueFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for KqueueFd {
    fn drop(&mut self) {
        // SAFETY: getpid takes no arguments.
        if syscall!(libc::getpid()) == Ok(self.creator) {
            // SAFETY: `fd` is the kqueue this process made and owns; nothing uses it after this.
            let _ = syscall!(libc::close(self.fd));
        }
    }
}

/// The buffer kernel waits fill.
struct KernelEvents(Vec<sys::kevent>);

// SAFETY: the only pointer in a `kevent` is `udata`, which holds a generation number, never an
// address; moving the buffer to another thread moves numbers.
unsafe impl Send for KernelEvents {}

/// `kevent()`'s `nchanges` and `nevents`: a `c_int` on most systems.
#[cfg(not(target_os = "netbsd"))]
fn count(len: usize) -> libc::c_int {
    libc::c_int::try_from(len).unwrap_or(libc::c_int::MAX)
}

/// `kevent()`'s `nchanges` and `nevents`: a `size_t` on NetBSD.
#[cfg(target_os = "netbsd")]
fn count(len: usize) -> libc::size_t {
    len
}

/// A `kevent` with every field zero, to be filled in or overwritten by the kernel.
fn blank() -> sys::kevent {
    // SAFETY: `kevent` is integers and a pointer used as an integer; all-zero is a valid value.
    // Zeroing also covers the fields some systems add (FreeBSD's `ext`).
    unsafe { std::mem::zeroed() }
}

/// The change entry that applies `change` to `fd`, tagged with `tag`. The field types differ
/// between systems (`filter` is `u32` on NetBSD, `i16` elsewhere; `flags` `u32` or `u16`), so
/// the values come straight from the libc constants and are never named by type here.
fn change_entry(fd: RawFd, change: Change, tag: u32) -> sys::kevent {
    let mut entry = blank();
    entry.ident = fd as libc::uintptr_t;
    entry.filter = match change.filter {
        Filter::Read => sys::EVFILT_READ,
        Filter::Write => sys::EVFILT_WRITE,
    };
    entry.flags = sys::EV_RECEIPT
        | match change.action {
            Action::Add(modes) => {
                let mut flags = sys::EV_ADD;
                if modes.clear {
                    flags |= sys::EV_CLEAR;
                }
                if modes.dispatch {
                    flags |= sys::EV_DISPATCH;
                }
                flags
            }
            Action::Delete => sys::EV_DELETE,
            Action::Disable => sys::EV_DISABLE,
        };
    entry.udata = tag as usize as *mut libc::c_void;
    entry
}

/// The library's filter a kernel entry is about, if it is one of them.
fn filter_of(entry: &sys::kevent) -> Option<Filter> {
    match entry.filter {
        sys::EVFILT_READ => Some(Filter::Read),
        sys::EVFILT_WRITE => Some(Filter::Write),
        _ => None,
    }
}

/// The tag a kernel entry carries in `udata`.
fn tag_of(entry: &sys::kevent) -> Option<u32> {
    u32::try_from(entry.udata as usize).ok()
}

/// Whether a kernel entry is the wakeup fd's.
fn is_waker(entry: &sys::kevent, waker_fd: RawFd) -> bool {
    RawFd::try_from(entry.ident) == Ok(waker_fd) && tag_of(entry) == Some(WAKER_GENERATION)
}

/// What a reported filter says. Like CPython's `KqueueSelector`, the filter alone gives the
/// event: `EV_EOF` (end of file, a peer gone) and `EV_ERROR` arrive on the filter of the
/// direction they concern.
fn answer_of(entry: &sys::kevent, waker_fd: RawFd) -> Answer {
    if is_waker(entry, waker_fd) {
        return Answer::Waker;
    }
    let report = || {
        Some(Report {
            fd: RawFd::try_from(entry.ident).ok()?,
            token: Some(tag_of(entry)?),
            ready: filter_of(entry)?.events(),
        })
    };
    report().map_or(Answer::Nothing, Answer::Ready)
}

/// The errno a receipt answers its change with: `data` when `EV_ERROR` is set (0 for done).
fn receipt_errno(receipt: &sys::kevent) -> i32 {
    if receipt.flags & sys::EV_ERROR != 0 {
        i32::try_from(receipt.data).unwrap_or(libc::EIO)
    } else {
        0
    }
}

/// A wait of `wait` as a timespec. It is exact to the nanosecond, as `Duration` is, so the
/// kernel never wakes before the deadline for want of precision; a single wait is bounded by
/// the core (under 25 days), which every `time_t` holds.
fn timespec(wait: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: wait.as_secs() as libc::time_t,
        tv_nsec: wait.subsec_nanos() as libc::c_long,
    }
}

/// A close-on-exec kqueue, made so atomically by `kqueue1` (NetBSD).
#[cfg(target_os = "netbsd")]
fn close_on_exec_kqueue() -> Result<OwnedFd> {
    // SAFETY: kqueue1 takes no pointers.
    Ok(owned(syscall!(sys::kqueue1(libc::O_CLOEXEC))?))
}

/// A close-on-exec kqueue, marked right after `kqueue()`: macOS and OpenBSD have no `kqueue1`,
/// and FreeBSD's `kqueuex` (14 and later) is neither in the libc crate nor in the older ABI
/// Rust links against, so calling it would leave the library unloadable on older releases. A
/// kqueue is not inherited by `fork` here, which narrows the window to an `exec` without `fork`
/// by another thread between the two calls.
#[cfg(not(target_os = "netbsd"))]
fn close_on_exec_kqueue() -> Result<OwnedFd> {
    // SAFETY: kqueue takes no pointers.
    let kqueue = owned(syscall!(sys::kqueue())?);
    super::fd::set_close_on_exec(kqueue.as_raw_fd())?;
    Ok(kqueue)
}

impl KqueueBackend {
    /// Creates a close-on-exec kqueue watching `waker_fd`.
    pub fn new(waker_fd: RawFd) -> Result<KqueueBackend> {
        let kqueue = KqueueFd::new(close_on_exec_kqueue()?);
        let backend = KqueueBackend {
            waiting: KqueueWait::new(kqueue.as_raw_fd(), waker_fd),
            kqueue,
            generations: Generations::default(),
        };
        backend.change(
            waker_fd,
            &Changes::register(SEL_EVENT_READ),
            WAKER_GENERATION,
        )?;
        Ok(backend)
    }

    /// See [`apply`], on this kqueue.
    fn apply(&self, fd: RawFd, changes: &Changes, tag: u32) -> Result<[i32; MAX_CHANGES]> {
        apply(self.kqueue.as_raw_fd(), fd, changes, tag)
    }

    /// Applies `changes` and returns the first error that matters among the kernel's answers.
    fn change(&self, fd: RawFd, changes: &Changes, tag: u32) -> Result<()> {
        let answers = self.apply(fd, changes, tag)?;
        changes.first_error(&answers).map_or(Ok(()), Err)
    }

    /// A waiting half of its own, for a selector whose waits hold no lock.
    pub fn unlocked_wait(&self) -> KqueueWait {
        KqueueWait::new(self.kqueue.as_raw_fd(), self.waiting.waker_fd)
    }
}

/// Applies `changes` to `fd` with one `kevent()` call on `kqueue`, each entry tagged with `tag`;
/// returns the kernel's answer to each change by position (an errno, 0 for done), or the error
/// of the call as a whole.
fn apply(kqueue: RawFd, fd: RawFd, changes: &Changes, tag: u32) -> Result<[i32; MAX_CHANGES]> {
    let changes = changes.as_slice();
    let mut list = [blank(); MAX_CHANGES];
    for (entry, &change) in list.iter_mut().zip(changes) {
        *entry = change_entry(fd, change, tag);
    }
    let mut receipts = [blank(); MAX_CHANGES];
    // EV_RECEIPT answers every change in the event list, so the call returns at once; the
    // zero timeout makes sure it never waits for readiness instead.
    let no_wait = timespec(Duration::ZERO);
    // SAFETY: both arrays hold MAX_CHANGES entries, and the kernel reads and writes at most
    // `changes.len()` of them; `no_wait` is live.
    let answered = match syscall!(sys::kevent(
        kqueue,
        list.as_ptr(),
        count(changes.len()),
        receipts.as_mut_ptr(),
        count(changes.len()),
        &no_wait,
    )) {
        Ok(answered) => answered as usize,
        // "When kevent() call fails with EINTR error, all changes in the changelist have
        // been applied" (FreeBSD's kevent(2); mio's kevent_register): done, not failed.
        Err(Errno(libc::EINTR)) => return Ok([0; MAX_CHANGES]),
        Err(err) => return Err(err),
    };
    Ok(answers(receipts[..answered].iter().map(receipt_errno)))
}

impl KqueueWait {
    fn new(kqueue: RawFd, waker_fd: RawFd) -> KqueueWait {
        KqueueWait {
            kqueue,
            waker_fd,
            kernel_events: KernelEvents(Vec::new()),
            received: 0,
            missing: Vec::new(),
        }
    }

    /// Waits once, at most `wait`, taking at most `capacity` reports; returns how many.
    pub fn wait(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize> {
        // Grows with the registrations (two filters each), then never allocates.
        if self.kernel_events.0.len() < capacity {
            self.kernel_events.0.resize(capacity, blank());
        }
        self.received = 0;
        let timeout = wait.map(timespec);
        let timeout = timeout.as_ref().map_or(ptr::null(), ptr::from_ref);
        // SAFETY: the buffer holds at least `capacity` entries; `timeout` is null or live.
        let received = syscall!(sys::kevent(
            self.kqueue,
            ptr::null(),
            0,
            self.kernel_events.0.as_mut_ptr(),
            count(capacity),
            timeout,
        ))?;
        self.received = received as usize;
        // The two filters of an fd side by side, for the core to merge (CPython gh-110038).
        self.kernel_events.0[..self.received].sort_unstable_by_key(|entry| entry.ident);
        Ok(self.received)
    }
}

impl Kernel for KqueueBackend {
    const KIND: Kind = Kind::Kqueue;

    fn fileno(&self) -> Option<RawFd> {
        Some(self.kqueue.as_raw_fd())
    }

    fn admit(&self, fd: RawFd) -> Result<()> {
        // A kqueue watching itself: FreeBSD refuses it (EINVAL), as Linux refuses an epoll fd in
        // its own set; libkqueue, whose kqueue fd is the write end of a pipe, would take it and
        // never report it. Refused here, so every kqueue answers alike.
        if fd == self.kqueue.as_raw_fd() {
            Err(Errno(libc::EINVAL))
        } else {
            Ok(())
        }
    }

    fn add(&mut self, fd: RawFd, events: u32) -> Result<u32> {
        let generation = self.generations.next();
        let changes = Changes::register(events);
        match self.apply(fd, &changes, generation) {
            Ok(answers) => match changes.first_error(&answers) {
                None => Ok(generation),
                Some(err) => {
                    // One filter added, the other refused: delete the one, leave nothing.
                    let _ = self.apply(fd, &changes.undo(&answers), generation);
                    Err(err)
                }
            },
            Err(err) => {
                // The call failed as a whole, so which changes took effect is unknown: delete
                // whatever may be there (the fd is registered nowhere else in this selector).
                let _ = self.apply(fd, &Changes::unregister(), generation);
                Err(err)
            }
        }
    }

    fn modify(&mut self, fd: RawFd, _token: u32, events: u32) -> Result<u32> {
        // Deleting the filters drops their pending reports; the new generation tells any report
        // already copied out apart from the new registration's.
        let generation = self.generations.next();
        self.change(fd, &Changes::modify(events), generation)?;
        Ok(generation)
    }

    fn remove(&mut self, fd: RawFd, token: u32) -> Option<Relocation> {
        // EBADF (the fd was closed, and close removed its filters) and ENOENT (its number now
        // belongs to another file) leave nothing to remove.
        let _ = self.apply(fd, &Changes::unregister(), token);
        None
    }

    fn wait(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize> {
        self.waiting.wait(wait, capacity)
    }

    fn heap_bytes(&self) -> usize {
        self.waiting.kernel_events.0.capacity() * std::mem::size_of::<sys::kevent>()
            + self.waiting.missing.capacity() * std::mem::size_of::<libc::pollfd>()
    }
}

reports_of_waiting_half!(KqueueBackend, waiting: KqueueWait);

impl Queue for KqueueWait {
    fn take_now(&mut self, capacity: usize) -> Result<usize> {
        self.wait(Some(Duration::ZERO), capacity)
    }
}

impl Reports for KqueueWait {
    const REQUEUES: bool = true;
    const REPORTS_PER_FD: usize = 2;

    fn positions(&self) -> usize {
        self.received
    }

    fn first_position(&self, _turns: &Turns) -> usize {
        // Every report taken fits (see `kernel_capacity`); the kernel's queue keeps the turns.
        0
    }

    fn answer(&self, position: usize) -> Answer {
        answer_of(&self.kernel_events.0[position], self.waker_fd)
    }

    fn disarm(&mut self, fd: RawFd, token: u32, events: u32, mask: u32) {
        // EV_DISPATCH disabled the filters that fired; disable the other one too, so the
        // registration is reported once, as on epoll. ENOENT (closed since) leaves nothing to
        // disarm; any other failure leaves the filter armed, which reports the fd again: an
        // extra report, never a lost one.
        let disarm = Changes::disarm(events, mask);
        if !disarm.as_slice().is_empty() {
            let _ = apply(self.kqueue, fd, &disarm, token);
        }
    }

    fn probe(&mut self, probes: &mut [Probe]) {
        const READABLE: u32 = libc::POLLIN as u32;
        const WRITABLE: u32 = libc::POLLOUT as u32;
        self.missing.clear();
        self.missing.extend(probes.iter().map(|probe| libc::pollfd {
            fd: probe.fd,
            events: to_poll_bits(probe.asked, READABLE, WRITABLE) as libc::c_short,
            revents: 0,
        }));
        // SAFETY: the pointer and length describe the live pollfd array; a zero timeout.
        let answered = syscall!(libc::poll(
            self.missing.as_mut_ptr(),
            self.missing.len() as libc::nfds_t,
            0
        ));
        // A failed poll leaves the probes unanswered: the entries stay true, if not complete.
        if answered.is_ok_and(|answered| answered > 0) {
            for (probe, asked) in probes.iter_mut().zip(&self.missing) {
                probe.ready = from_poll_bits(asked.revents as u32, READABLE, WRITABLE);
            }
        }
    }
}
