//! The kernel interfaces, one file each, behind one small trait.
//!
//! The shape follows CPython's `_PollLikeSelector`: the core keeps the registrations (the
//! [`Registry`]) and the backend only asks the kernel. Every `unsafe` system call of the crate
//! lives in this module.

use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::errno::{Errno, Result};
use crate::key::SelEvent;
use crate::kind::Kind;
use crate::registry::Registry;

#[cfg(devpoll)]
mod devpoll;
#[cfg(any(test, devpoll))]
mod devpoll_changes;
#[cfg(any(test, devpoll))]
mod devpoll_sys;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(test, kqueue, devpoll))]
mod fair_merge;
mod fd;
#[cfg(any(test, target_os = "linux", target_os = "android", kqueue))]
mod generation;
#[cfg(kqueue)]
mod kqueue;
#[cfg(any(test, kqueue))]
mod kqueue_changes;
#[cfg(kqueue)]
mod kqueue_sys;
mod poll;
mod select;
pub mod strerror;
pub mod thread_errno;
pub mod waker;

/// What one kernel wait produced.
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

/// A registration whose token changed because the backend moved it (poll's swap-remove).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// The fd that moved.
    pub fd: RawFd,
    /// Its new token.
    pub token: u32,
}

/// One kernel interface. The core validates arguments and keeps the registry; a backend makes
/// the kernel calls and maps their results, and reports errors as the kernel gives them.
pub trait Backend: Send {
    /// Which kind this is.
    fn kind(&self) -> Kind;

    /// The kernel object's fd (epoll, kqueue, /dev/poll), `None` for select and poll.
    fn fileno(&self) -> Option<RawFd>;

    /// Checks an fd about to be registered beyond what the kernel call itself checks (select:
    /// `FD_SETSIZE` and open; poll and /dev/poll, which accept a closed fd: open). epoll and
    /// kqueue refuse a closed fd themselves (`EBADF`), so by default nothing is checked.
    fn admit(&self, _fd: RawFd) -> Result<()> {
        Ok(())
    }

    /// Starts watching `fd` (registered nowhere yet) for `events`; returns the token the core
    /// stores with the key.
    fn add(&mut self, fd: RawFd, events: u32) -> Result<u32>;

    /// Changes the events of a watched fd; returns the token the core stores from now on.
    fn modify(&mut self, fd: RawFd, token: u32, events: u32) -> Result<u32>;

    /// Stops watching `fd`. Never fails: a kernel that no longer knows the fd (closed, or its
    /// number reused) has nothing left to remove.
    fn remove(&mut self, fd: RawFd, token: u32) -> Option<Relocation>;

    /// Waits once, at most `wait` (`None`: for ever), and writes at most `out.len()` entries, one
    /// per ready registered fd, each masked by its interest. The wakeup fd is drained, never
    /// reported. `EINTR` is returned as an error for the core to handle.
    fn wait(
        &mut self,
        registry: &Registry,
        wait: Option<Duration>,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Result<Waited>;

    /// Bytes of heap the backend holds beyond the registry, for the memory benchmarks.
    fn heap_bytes(&self) -> usize;

    /// Lets go of the parent's kernel object in a child after `fork()`, once the child has its
    /// own. By default the child's copy of the fd is closed (epoll, /dev/poll: inherited).
    fn release_after_fork(self: Box<Self>) {}
}

/// Opens a backend of `kind` that also watches `waker_fd`; `ENOSYS` for a kind this platform
/// does not have.
pub fn open(kind: Kind, waker_fd: RawFd) -> Result<Box<dyn Backend + Send>> {
    match kind {
        Kind::Select => Ok(Box::new(select::SelectBackend::new(waker_fd)?)),
        Kind::Poll => Ok(Box::new(poll::PollBackend::new(waker_fd))),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Kind::Epoll => Ok(Box::new(epoll::EpollBackend::new(waker_fd)?)),
        #[cfg(kqueue)]
        Kind::Kqueue => Ok(Box::new(kqueue::KqueueBackend::new(waker_fd)?)),
        #[cfg(devpoll)]
        Kind::Devpoll => Ok(Box::new(devpoll::DevpollBackend::new(waker_fd)?)),
        _ => Err(Errno(libc::ENOSYS)),
    }
}

/// Opens the platform's preferred backend, falling back to poll and then select when the kernel
/// refuses the preferred one (`ENOSYS` on odd kernels, `EPERM` from seccomp filters; CPython
/// bpo-41182).
pub fn open_default(waker_fd: RawFd) -> Result<Box<dyn Backend + Send>> {
    let mut last = Errno(libc::ENOSYS);
    for kind in [Kind::platform_default(), Kind::Poll, Kind::Select] {
        match open(kind, waker_fd) {
            Err(err @ (Errno(libc::ENOSYS) | Errno(libc::EPERM))) => last = err,
            other => return other,
        }
    }
    Err(last)
}

/// How many kernel reports one wait takes, for a caller's buffer of `room` entries (never more
/// than the registrations) over `registered` registrations that each report up to
/// `reports_per_fd` times (kqueue's two filters), plus one for the wakeup fd.
///
/// Every report at once when the buffer holds every registration: the reports of an fd become
/// one entry, so all of them fit. A smaller buffer takes exactly its size, because a report
/// taken from the kernel and dropped for lack of room would be requeued behind the others
/// (level-triggered, and it would starve) or lost for good (edge-triggered, oneshot); the
/// kernel's own requeueing then gives every ready fd its turn.
#[cfg(any(test, target_os = "linux", target_os = "android", kqueue))]
fn kernel_capacity(room: usize, registered: usize, reports_per_fd: usize) -> usize {
    if room == registered {
        reports_per_fd * registered + 1
    } else {
        room
    }
}

/// Writes `event` into the next free entry of `out` (the caller checked there is one).
fn push(out: &mut [MaybeUninit<SelEvent>], written: &mut usize, event: SelEvent) {
    out[*written].write(event);
    *written += 1;
}

/// The entry for a ready fd: its key and the ready events masked by its interest, or `None`
/// when nothing it asked for is ready.
fn ready_entry(key: crate::key::SelKey, ready: u32) -> Option<SelEvent> {
    let mask = ready & key.events;
    (mask != 0).then_some(SelEvent { key, mask })
}

#[cfg(test)]
mod tests {
    use super::kernel_capacity;

    #[test]
    fn a_buffer_for_every_registration_takes_every_report() {
        assert_eq!(kernel_capacity(0, 0, 1), 1);
        assert_eq!(kernel_capacity(5, 5, 1), 6);
        assert_eq!(kernel_capacity(5, 5, 2), 11);
    }

    #[test]
    fn a_smaller_buffer_takes_only_what_it_can_report() {
        assert_eq!(kernel_capacity(3, 5, 1), 3);
        assert_eq!(kernel_capacity(3, 5, 2), 3);
        assert_eq!(kernel_capacity(1, 20_000, 2), 1);
    }
}
