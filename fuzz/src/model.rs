//! docs/CONTRACT.md as an in-memory model: what each call must return on one kind of selector.
//!
//! The registrations are Python's `_fd_to_key`. The kinds agree on everything except what the
//! contract says they do differently, all of it about fds changed behind the selector's back:
//!
//! - SELECT refuses fds >= FD_SETSIZE at register, and `sel_select` fails with `-EBADF` while a
//!   registered number is closed (as `select(2)` and CPython do).
//! - POLL reports a closed registered number ready (POLLNVAL maps to READ|WRITE & interest).
//! - SELECT and POLL watch fd *numbers*: after `dup2` over a registered number they report the
//!   file that holds the number now.
//! - EPOLL watches *files* (man 7 epoll, Q6): it refuses `/dev/null` (`-EPERM`), reports the
//!   registered file for as long as any fd still holds it (even when its own number was closed
//!   or now holds another file) and nothing once it is gone, and a change of events on such a
//!   number reaches the kernel, whose refusal (`EBADF`, `ENOENT`) unregisters the fd. The
//!   kernel entries this model keeps are the `(file, number)` pairs epoll itself keys on.
//! - KQUEUE (with the `libkqueue` feature: libkqueue's user-space kqueue, the only one on
//!   Linux) reports each filter as its event, `EV_EOF` included, as CPython's `KqueueSelector`
//!   does: a hang-up fires the filters it concerns, which `poll(2)`'s view (CPython's poll
//!   mapping) gives here. Each fd is two filters, and a buffer smaller than the registrations
//!   takes exactly its size from the kernel, so two filters of one fd (or the wakeup fd) may
//!   take two of its places. What it does once a registered number is closed or replaced behind
//!   its back is not modelled: a BSD kernel removes the number's filters on close, libkqueue
//!   keeps its state (its BUGS.md: "If a file descriptor outside of kqueue is closed, the
//!   internal kqueue state is not cleaned up"), so the runner stops driving the KQUEUE selector
//!   of an input at that point ([`Model::loses_track_at_close`]).
//!
//! - Hang-ups map per kind, as CPython's class of that kind maps them: SELECT sees what
//!   `select(2)` sees, which counts a hang-up as readable only, where POLL and EPOLL report it
//!   writable too. It shows on a socket whose peer shut down both ways while its own outgoing
//!   data still fills the peer's buffer (`c_tests/fuzz_found.c`,
//!   `hang_up_without_room_to_write_maps_like_cpython`).

use std::collections::BTreeMap;
use std::os::fd::RawFd;

use crate::world::{readiness_of_number, select_view_of_number, FileId, World};

/// `FD_SETSIZE` with glibc.
pub const FD_SETSIZE: RawFd = 1024;

const READ: u32 = selectors::SEL_EVENT_READ;
const WRITE: u32 = selectors::SEL_EVENT_WRITE;

/// The kinds this build has, all driven by every fuzz input: the three of Linux, and KQUEUE
/// with the `libkqueue` feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Select,
    Poll,
    Epoll,
    #[cfg(feature = "libkqueue")]
    Kqueue,
}

impl Kind {
    #[cfg(not(feature = "libkqueue"))]
    pub const ALL: &'static [Kind] = &[Kind::Select, Kind::Poll, Kind::Epoll];
    #[cfg(feature = "libkqueue")]
    pub const ALL: &'static [Kind] = &[Kind::Select, Kind::Poll, Kind::Epoll, Kind::Kqueue];

    pub fn raw(self) -> i32 {
        match self {
            Kind::Select => selectors::SEL_KIND_SELECT,
            Kind::Poll => selectors::SEL_KIND_POLL,
            Kind::Epoll => selectors::SEL_KIND_EPOLL,
            #[cfg(feature = "libkqueue")]
            Kind::Kqueue => selectors::SEL_KIND_KQUEUE,
        }
    }

    /// Whether `sel_new` makes this raw kind in this build (DEFAULT is EPOLL).
    pub fn exists(raw: i32) -> bool {
        raw == selectors::SEL_KIND_DEFAULT || Kind::ALL.iter().any(|kind| kind.raw() == raw)
    }

    /// Whether closing a selector of this raw kind frees its fds only later: libkqueue closes
    /// its own from a thread of its own, shortly after `sel_close` returns.
    pub fn frees_fds_later(raw: i32) -> bool {
        cfg!(feature = "libkqueue") && raw == selectors::SEL_KIND_KQUEUE
    }

    /// Whether the kind has a kernel object, which `sel_fileno` returns.
    pub fn has_fileno(raw: i32) -> bool {
        raw != selectors::SEL_KIND_SELECT && raw != selectors::SEL_KIND_POLL
    }
}

/// Identifies one successful registration, as epoll's generation tag does in the library.
type RegistrationId = u64;

/// A key as the model keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub events: u32,
    pub data: usize,
    id: RegistrationId,
}

/// A negative-errno outcome, as the C API returns it.
pub type Outcome<T> = Result<T, i32>;

/// What one `sel_select` (with room for at least one entry) must produce.
#[derive(Debug, PartialEq, Eq)]
pub enum Expected {
    /// This error.
    Error(i32),
    /// One entry per ready fd, with this mask. `may_fall_short`: the kernel may hand back
    /// events the library drops in place of ready fds, so fewer entries than fit are allowed:
    /// stale epoll entries (as many as there are, while the library's top-ups are bounded by
    /// the registrations), or, when the buffer is smaller than the registrations, the wakeup fd
    /// or a second filter of libkqueue, which may hand back the same filter first every time.
    /// The wakeup fd alone never takes a ready fd's place on EPOLL: the library tops the
    /// buffer up.
    Ready {
        masks: BTreeMap<RawFd, u32>,
        may_fall_short: bool,
    },
}

/// The model of one selector of one kind.
pub struct Model {
    pub kind: Kind,
    keys: BTreeMap<RawFd, Key>,
    /// EPOLL only: the kernel's interest list, `(file, number)` to the registration whose tag
    /// the entry carries.
    epoll_entries: BTreeMap<(FileId, RawFd), RegistrationId>,
    next_id: RegistrationId,
    /// A `sel_wakeup` may still be pending (epoll drains it only when the kernel hands it back).
    pub wakeup_maybe_pending: bool,
}

fn valid_interest(events: u32) -> bool {
    events != 0 && events & !(READ | WRITE) == 0
}

impl Model {
    pub fn new(kind: Kind) -> Model {
        Model {
            kind,
            keys: BTreeMap::new(),
            epoll_entries: BTreeMap::new(),
            next_id: 0,
            wakeup_maybe_pending: false,
        }
    }

    /// Every key, ascending by fd.
    pub fn keys(&self) -> &BTreeMap<RawFd, Key> {
        &self.keys
    }

    pub fn register(&mut self, world: &World, fd: RawFd, events: u32, data: usize) -> Outcome<Key> {
        if !valid_interest(events) {
            return Err(-libc::EINVAL);
        }
        if fd < 0 {
            return Err(-libc::EBADF);
        }
        if self.keys.contains_key(&fd) {
            return Err(-libc::EEXIST);
        }
        if self.kind == Kind::Select && fd >= FD_SETSIZE {
            return Err(-libc::EINVAL);
        }
        let file = world.file_at(fd).ok_or(-libc::EBADF)?;
        if self.refuses_dev_null() && world.is_dev_null(file) {
            return Err(-libc::EPERM);
        }
        let id = self.next_id;
        self.next_id += 1;
        if self.kind == Kind::Epoll {
            // A new entry, or (EEXIST) the library takes over the stale one of this very file
            // at this very number.
            self.epoll_entries.insert((file, fd), id);
        }
        let key = Key { events, data, id };
        self.keys.insert(fd, key);
        Ok(key)
    }

    pub fn modify(&mut self, world: &World, fd: RawFd, events: u32, data: usize) -> Outcome<Key> {
        let current = self.get_key(fd)?;
        if !valid_interest(events) {
            return Err(-libc::EINVAL);
        }
        let mut id = current.id;
        if self.kind == Kind::Epoll && events != current.events {
            // EPOLL_CTL_MOD on the number: the kernel finds the entry of the file there now,
            // which becomes the registration's one live entry (one entry per fd per call: any
            // other entry of the number, a stale one, must stay silent).
            id = self.next_id;
            self.next_id += 1;
            let entry = match world.file_at(fd) {
                None => Err(-libc::EBADF),
                // The kernel checks that the file can be polled before it looks for the entry.
                Some(file) if world.is_dev_null(file) => Err(-libc::EPERM),
                Some(file) => match self.epoll_entries.get_mut(&(file, fd)) {
                    Some(tag) => {
                        *tag = id;
                        Ok(())
                    }
                    None => Err(-libc::ENOENT),
                },
            };
            if let Err(err) = entry {
                self.unregister(world, fd)?;
                return Err(err);
            }
        }
        let key = Key { events, data, id };
        self.keys.insert(fd, key);
        Ok(key)
    }

    pub fn unregister(&mut self, world: &World, fd: RawFd) -> Outcome<Key> {
        let key = self.get_key(fd)?;
        self.keys.remove(&fd);
        if let Some(file) = world.file_at(fd) {
            // EPOLL_CTL_DEL removes the entry of the file the number holds now, if any.
            self.epoll_entries.remove(&(file, fd));
        }
        Ok(key)
    }

    pub fn get_key(&self, fd: RawFd) -> Outcome<Key> {
        if fd < 0 {
            return Err(-libc::EBADF);
        }
        self.keys.get(&fd).copied().ok_or(-libc::ENOENT)
    }

    /// The last fd holding `file` was closed: epoll drops every entry of it.
    pub fn file_died(&mut self, file: FileId) {
        self.epoll_entries.retain(|(held, _), _| *held != file);
    }

    /// Whether registering `/dev/null` fails with `EPERM`: epoll refuses a file it cannot poll,
    /// and so does libkqueue, whose filters are epoll underneath. (What a BSD kernel answers for
    /// `/dev/null` is not known here.)
    fn refuses_dev_null(&self) -> bool {
        !matches!(self.kind, Kind::Select | Kind::Poll)
    }

    /// Whether this selector's behaviour stops being modelled when `fd` is closed or replaced
    /// behind its back: a registered fd of KQUEUE on libkqueue (see the module's documentation).
    pub fn loses_track_at_close(&self, fd: RawFd) -> bool {
        let closes_modelled = matches!(self.kind, Kind::Select | Kind::Poll | Kind::Epoll);
        !closes_modelled && self.keys.contains_key(&fd)
    }

    /// What a `sel_select` with room for `max_events` entries must report now.
    pub fn expected_select(&self, world: &World, max_events: usize) -> Expected {
        let mut masks = BTreeMap::new();
        let mut may_fall_short = false;
        match self.kind {
            Kind::Select => {
                if self.keys.keys().any(|fd| world.file_at(*fd).is_none()) {
                    return Expected::Error(-libc::EBADF);
                }
                for (fd, key) in &self.keys {
                    masks.insert(*fd, select_view_of_number(*fd, key.events));
                }
            }
            Kind::Poll => {
                for (fd, key) in &self.keys {
                    masks.insert(*fd, readiness_of_number(*fd, key.events));
                }
            }
            Kind::Epoll => {
                for ((file, fd), tag) in &self.epoll_entries {
                    if let Some(key) = self.keys.get(fd).filter(|key| key.id == *tag) {
                        masks.insert(*fd, world.readiness(*file, key.events));
                    }
                }
                may_fall_short |= self.has_stale_epoll_entries();
            }
            #[cfg(feature = "libkqueue")]
            Kind::Kqueue => {
                for (fd, key) in &self.keys {
                    masks.insert(*fd, readiness_of_number(*fd, key.events));
                }
            }
        }
        // Two filters of one fd, or the wakeup fd, may take two places of a small buffer.
        let filter_per_direction = !matches!(self.kind, Kind::Select | Kind::Poll | Kind::Epoll);
        let both_ready = masks.values().any(|mask| *mask == READ | WRITE);
        may_fall_short |= filter_per_direction
            && max_events < self.keys.len()
            && (self.wakeup_maybe_pending || both_ready);
        masks.retain(|_, mask| *mask != 0);
        Expected::Ready {
            masks,
            may_fall_short,
        }
    }

    /// After a `sel_select` that returned `result` with room for `room` entries: whether a
    /// pending wakeup may have survived it.
    pub fn selected(&mut self, result: i32, room: usize) {
        self.wakeup_maybe_pending &= match self.kind {
            // The wait returned an error before the kernel said anything.
            Kind::Select | Kind::Poll => result < 0,
            // The kernel hands back the wakeup only when there was room for it.
            Kind::Epoll => room < self.keys.len() || self.has_stale_epoll_entries(),
            #[cfg(feature = "libkqueue")]
            Kind::Kqueue => room < self.keys.len(),
        };
    }

    /// Whether epoll still holds entries of files closed without `sel_unregister` while another
    /// fd kept them open: the library drops their events, which still take room in a wait.
    fn has_stale_epoll_entries(&self) -> bool {
        self.epoll_entries
            .iter()
            .any(|((_, fd), tag)| self.keys.get(fd).map(|key| key.id) != Some(*tag))
    }
}
