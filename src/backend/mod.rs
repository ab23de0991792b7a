//! The kernel interfaces, one file each, behind one small trait and one enum of kinds.
//!
//! The shape follows CPython's `_PollLikeSelector`: the core keeps the registrations (the
//! [`crate::registry::Registry`]) and the backend only asks the kernel; what a wait said goes
//! back to the core through [`Reports`] (see [`crate::report`]). Every `unsafe` system call of the crate
//! lives in this module.

use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::time::Duration;

use crate::errno::{Errno, Result};
use crate::key::SelEvent;
use crate::kind::Kind;
use crate::registry::Registry;
use crate::report::{Delivered, Reporter, Reports};

/// Implements [`Reports`] for `$kernel` by handing every question to its waiting half
/// `$field` (epoll, kqueue: the half that a selector whose waits hold no lock uses on its own).
#[cfg(any(target_os = "linux", target_os = "android", kqueue))]
macro_rules! reports_of_waiting_half {
    ($kernel:ty, $field:ident: $waiting:ty) => {
        impl $crate::report::Reports for $kernel {
            const REQUEUES: bool = <$waiting as $crate::report::Reports>::REQUEUES;
            const REPORTS_PER_FD: usize = <$waiting as $crate::report::Reports>::REPORTS_PER_FD;

            fn positions(&self) -> usize {
                self.$field.positions()
            }

            fn first_position(&self, turns: &$crate::report::Turns) -> usize {
                self.$field.first_position(turns)
            }

            fn answer(&self, position: usize) -> $crate::report::Answer {
                self.$field.answer(position)
            }

            fn disarm(&mut self, fd: RawFd, token: u32, events: u32, mask: u32) {
                self.$field.disarm(fd, token, events, mask);
            }

            fn probe(&mut self, probes: &mut [$crate::report::Probe]) {
                self.$field.probe(probes);
            }
        }
    };
}

#[cfg(devpoll)]
mod devpoll;
#[cfg(any(test, devpoll))]
mod devpoll_changes;
#[cfg(any(test, devpoll))]
mod devpoll_sys;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
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
pub mod waker;

/// A registration whose token changed because the backend moved it (poll's swap-remove).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// The fd that moved.
    pub fd: RawFd,
    /// Its new token.
    pub token: u32,
}

/// One kernel interface. The core validates arguments and keeps the registry; a kernel makes
/// the kernel calls, reports errors as the kernel gives them, and answers what its last wait
/// said ([`Reports`]) for the core to turn into entries.
pub trait Kernel: Reports + Sized {
    /// Which kind this is.
    const KIND: Kind;

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

    /// Waits once, at most `wait` (`None`: for ever), taking at most `capacity` reports where
    /// the kernel can be told (see [`crate::report::kernel_capacity`]); returns how many
    /// positions of its answer say something (an upper bound will do). Needs no registration:
    /// the core reads the answer afterwards. `EINTR` is returned as an error for the core.
    fn wait(&mut self, wait: Option<Duration>, capacity: usize) -> Result<usize>;

    /// Bytes of heap the kernel side holds beyond the registry, for the memory benchmarks.
    fn heap_bytes(&self) -> usize;

    /// Lets go of the parent's kernel object in a child after `fork()`, once the child has its
    /// own. By default the child's copy of the fd is closed (epoll, /dev/poll: inherited).
    fn release_after_fork(self) {}
}

/// The kernel interface of one selector: a closed set of kinds, chosen at `sel_new` and fixed
/// by the platform, so an enum (static calls the compiler can inline) rather than a trait
/// object. `repr(u8)` gives it a tag byte: each call's dispatch compares one byte, where the
/// default layout hid the tag in a niche of a `Vec` field that took ten instructions to decode.
#[repr(u8)]
pub enum Backend {
    /// `select(2)`.
    Select(select::SelectBackend),
    /// `poll(2)`.
    Poll(poll::PollBackend),
    /// `epoll(7)`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Epoll(epoll::EpollBackend),
    /// `kqueue(2)`.
    #[cfg(kqueue)]
    Kqueue(kqueue::KqueueBackend),
    /// `/dev/poll`.
    #[cfg(devpoll)]
    Devpoll(devpoll::DevpollBackend),
}

/// Runs `$body` with `$kernel` bound to the kernel inside `$backend`, whichever kind it is.
#[macro_export]
#[doc(hidden)]
macro_rules! each_kind {
    ($backend:expr, $kernel:ident => $body:expr) => {
        match $backend {
            $crate::backend::Backend::Select($kernel) => $body,
            $crate::backend::Backend::Poll($kernel) => $body,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            $crate::backend::Backend::Epoll($kernel) => $body,
            #[cfg(kqueue)]
            $crate::backend::Backend::Kqueue($kernel) => $body,
            #[cfg(devpoll)]
            $crate::backend::Backend::Devpoll($kernel) => $body,
        }
    };
}
pub use each_kind;

/// The kind of a kernel, for [`each_kind`] bodies.
fn kind_of<K: Kernel>(_: &K) -> Kind {
    K::KIND
}

impl Backend {
    /// Opens a backend of `kind` that also watches `waker_fd`; `ENOSYS` for a kind this
    /// platform does not have.
    pub fn open(kind: Kind, waker_fd: RawFd) -> Result<Backend> {
        match kind {
            Kind::Select => Ok(Backend::Select(select::SelectBackend::new(waker_fd)?)),
            Kind::Poll => Ok(Backend::Poll(poll::PollBackend::new(waker_fd))),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Kind::Epoll => Ok(Backend::Epoll(epoll::EpollBackend::new(waker_fd)?)),
            #[cfg(kqueue)]
            Kind::Kqueue => Ok(Backend::Kqueue(kqueue::KqueueBackend::new(waker_fd)?)),
            #[cfg(devpoll)]
            Kind::Devpoll => Ok(Backend::Devpoll(devpoll::DevpollBackend::new(waker_fd)?)),
            #[allow(unreachable_patterns)]
            _ => Err(Errno(libc::ENOSYS)),
        }
    }

    /// Opens the platform's preferred backend, falling back to poll and then select when the
    /// kernel refuses the preferred one (`ENOSYS` on odd kernels, `EPERM` from seccomp filters;
    /// CPython bpo-41182).
    pub fn open_default(waker_fd: RawFd) -> Result<Backend> {
        let mut last = Errno(libc::ENOSYS);
        for kind in [Kind::platform_default(), Kind::Poll, Kind::Select] {
            match Backend::open(kind, waker_fd) {
                Err(err @ (Errno(libc::ENOSYS) | Errno(libc::EPERM))) => last = err,
                other => return other,
            }
        }
        Err(last)
    }

    /// Which kind this is.
    #[inline]
    pub fn kind(&self) -> Kind {
        each_kind!(self, kernel => kind_of(kernel))
    }

    /// See [`Kernel::fileno`].
    #[inline]
    pub fn fileno(&self) -> Option<RawFd> {
        each_kind!(self, kernel => kernel.fileno())
    }

    /// See [`Kernel::admit`].
    #[inline(always)]
    pub fn admit(&self, fd: RawFd) -> Result<()> {
        each_kind!(self, kernel => kernel.admit(fd))
    }

    /// See [`Kernel::add`].
    #[inline(always)]
    pub fn add(&mut self, fd: RawFd, events: u32) -> Result<u32> {
        each_kind!(self, kernel => kernel.add(fd, events))
    }

    /// See [`Kernel::modify`].
    #[inline(always)]
    pub fn modify(&mut self, fd: RawFd, token: u32, events: u32) -> Result<u32> {
        each_kind!(self, kernel => kernel.modify(fd, token, events))
    }

    /// See [`Kernel::remove`].
    #[inline(always)]
    pub fn remove(&mut self, fd: RawFd, token: u32) -> Option<Relocation> {
        each_kind!(self, kernel => kernel.remove(fd, token))
    }

    /// A waiting half of its own for a selector whose waits hold no lock, where the kernel takes
    /// changes while a wait is blocked in it (epoll, kqueue); `None` where the wait reads the
    /// set the core changes (select, poll, /dev/poll), which then waits holding the lock.
    pub fn unlocked_wait(&self) -> Option<UnlockedWait> {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Backend::Epoll(epoll) => Some(UnlockedWait::Epoll(epoll.unlocked_wait())),
            #[cfg(kqueue)]
            Backend::Kqueue(kqueue) => Some(UnlockedWait::Kqueue(kqueue.unlocked_wait())),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// See [`Kernel::heap_bytes`].
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        each_kind!(self, kernel => kernel.heap_bytes())
    }

    /// See [`Kernel::release_after_fork`].
    #[inline]
    pub fn release_after_fork(self) {
        each_kind!(self, kernel => kernel.release_after_fork())
    }
}

/// The waiting half of a kernel that takes changes while a wait is blocked in it: it waits
/// without the registry, so without the selector's lock, and the core delivers its answer
/// afterwards, under the lock, where a report of a registration changed meanwhile carries an
/// old token and is dropped.
pub enum UnlockedWait {
    /// An epoll set's.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Epoll(epoll::EpollWait),
    /// A kqueue's.
    #[cfg(kqueue)]
    Kqueue(kqueue::KqueueWait),
}

/// Runs `$body` with `$waiting` bound to the waiting half inside `$unlocked`.
macro_rules! each_unlocked {
    ($unlocked:expr, $waiting:ident => $body:expr) => {
        // `*`: a build with neither kind has no variant, and matches nothing.
        match *$unlocked {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            UnlockedWait::Epoll(ref mut $waiting) => $body,
            #[cfg(kqueue)]
            UnlockedWait::Kqueue(ref mut $waiting) => $body,
        }
    };
}

impl UnlockedWait {
    /// Waits once, at most `wait` (`None`: for ever), for a caller's buffer of `room` entries
    /// while `registered` fds are registered; returns how many positions of the answer say
    /// something and how many reports the wait was allowed to take. It takes no more reports
    /// than the buffer holds ([`crate::report::unlocked_capacity`]), since registrations made
    /// during the wait may report too. `EINTR` is returned as an error for the core.
    // A build with neither epoll nor kqueue has no variant, and uses no argument.
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android", kqueue)),
        allow(unused_variables)
    )]
    pub fn wait(
        &mut self,
        wait: Option<Duration>,
        room: usize,
        registered: usize,
    ) -> Result<(usize, usize)> {
        each_unlocked!(self, waiting => {
            let capacity = unlocked_capacity_of(waiting, room, registered);
            Ok((waiting.wait(wait, capacity)?, capacity))
        })
    }

    /// Delivers the answer of the last wait, topped up from the kernel's queue where it left
    /// room (see [`Reporter::deliver_topped_up`]).
    // A build with neither epoll nor kqueue has no variant, and uses no argument.
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android", kqueue)),
        allow(unused_variables)
    )]
    pub fn deliver(
        &mut self,
        waited: (usize, usize),
        registry: &Registry,
        out: &mut [MaybeUninit<SelEvent>],
        reporter: &mut Reporter,
    ) -> Delivered {
        each_unlocked!(self, waiting => reporter.deliver_topped_up(waiting, waited, registry, out))
    }
}

/// [`crate::report::unlocked_capacity`] for the kind of `waiting`.
#[cfg(any(target_os = "linux", target_os = "android", kqueue))]
fn unlocked_capacity_of<K: Reports>(_waiting: &K, room: usize, registered: usize) -> usize {
    crate::report::unlocked_capacity::<K>(room, registered)
}
