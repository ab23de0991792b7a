//! The table of registrations, Python's `_fd_to_key`.
//!
//! A dense table indexed by fd: lookups on the hot path of `sel_select` are one bounds check and
//! one load. Each slot is 16 bytes on 64-bit targets: the caller's data pointer, the interest
//! bits (0 marks a free slot) and a token that belongs to the backend (epoll's generation, poll's
//! index into its `pollfd` array).

use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::ptr;

use crate::growth;
use crate::key::SelKey;

/// The caller's `data` pointer, carried as an opaque value.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: the library never dereferences `data`; it only stores it and hands it back, so moving
// it to another thread moves a number, not access to what it points to.
unsafe impl Send for UserData {}

/// One fd's registration, or a free slot when `events == 0`.
#[derive(Clone, Copy)]
struct Slot {
    data: UserData,
    events: u32,
    token: u32,
}

impl Slot {
    const FREE: Slot = Slot {
        data: UserData(ptr::null_mut()),
        events: 0,
        token: 0,
    };
}

/// The registrations of one selector, keyed by fd.
#[derive(Clone, Default)]
pub struct Registry {
    slots: Vec<Slot>,
    len: usize,
}

impl Registry {
    /// The number of registered fds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn slot(&self, fd: c_int) -> Option<&Slot> {
        let slot = self.slots.get(index_of(fd))?;
        (slot.events != 0).then_some(slot)
    }

    #[inline]
    fn slot_mut(&mut self, fd: c_int) -> Option<&mut Slot> {
        let slot = self.slots.get_mut(index_of(fd))?;
        (slot.events != 0).then_some(slot)
    }

    /// The key registered for `fd`.
    #[inline]
    pub fn get(&self, fd: c_int) -> Option<SelKey> {
        self.slot(fd).map(|slot| key_of(fd, slot))
    }

    /// Whether `fd` is registered.
    #[inline]
    pub fn contains(&self, fd: c_int) -> bool {
        self.slot(fd).is_some()
    }

    /// The key and the backend's token registered for `fd`.
    #[inline]
    pub fn get_with_token(&self, fd: c_int) -> Option<(SelKey, u32)> {
        self.slot(fd).map(|slot| (key_of(fd, slot), slot.token))
    }

    /// The key and token registered for `fd`, only if its token is still `tag` (when the kernel
    /// tagged its report with one): reports a backend tagged for an earlier registration of the
    /// same fd number find nothing.
    #[inline]
    pub fn get_current(&self, fd: c_int, tag: Option<u32>) -> Option<(SelKey, u32)> {
        let slot = self.slot(fd)?;
        match tag {
            Some(tag) if tag != slot.token => None,
            _ => Some((key_of(fd, slot), slot.token)),
        }
    }

    /// Records a registration of a valid fd (`fd >= 0`, not registered, `events != 0`).
    #[inline]
    pub fn insert(&mut self, fd: c_int, events: u32, data: *mut c_void, token: u32) -> SelKey {
        debug_assert!(events != 0 && !self.contains(fd));
        let slot = Slot {
            data: UserData(data),
            events,
            token,
        };
        match self.slots.get_mut(index_of(fd)) {
            Some(free) => *free = slot,
            None => self.grow_to_hold(fd, slot),
        }
        self.len += 1;
        key_of(fd, &slot)
    }

    /// Stores `slot` at `fd`, beyond the table's end: the table grows to reach it.
    #[cold]
    fn grow_to_hold(&mut self, fd: c_int, slot: Slot) {
        let index = usize::try_from(fd).expect("registered fds are not negative");
        growth::reserve_for(&mut self.slots, index + 1);
        self.slots.resize(index, Slot::FREE);
        self.slots.push(slot);
    }

    /// The registration of `fd`, to read and then replace with one lookup.
    #[inline]
    pub fn entry(&mut self, fd: c_int) -> Option<Entry<'_>> {
        self.slot_mut(fd).map(|slot| Entry { fd, slot })
    }

    /// Changes the backend's token of a registered fd.
    #[inline]
    pub fn set_token(&mut self, fd: c_int, token: u32) {
        if let Some(slot) = self.slot_mut(fd) {
            slot.token = token;
        }
    }

    /// Forgets `fd`; returns its key and token.
    #[inline]
    pub fn remove(&mut self, fd: c_int) -> Option<(SelKey, u32)> {
        let slot = self.slot_mut(fd)?;
        let removed = *slot;
        *slot = Slot::FREE;
        self.len -= 1;
        Some((key_of(fd, &removed), removed.token))
    }

    /// Every key, in ascending fd order.
    pub fn keys(&self) -> impl Iterator<Item = SelKey> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.events != 0)
            .map(|(index, slot)| key_of(index as c_int, slot))
    }

    /// Copies keys in ascending fd order into `out` (as many as fit); returns how many are
    /// registered in all.
    pub fn copy_keys(&self, out: &mut [MaybeUninit<SelKey>]) -> usize {
        for (dest, key) in out.iter_mut().zip(self.keys()) {
            dest.write(key);
        }
        self.len
    }

    /// The bytes of heap this table holds, for the memory benchmarks.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

/// One registered fd's slot, found once (see [`Registry::entry`]).
pub struct Entry<'a> {
    fd: c_int,
    slot: &'a mut Slot,
}

impl Entry<'_> {
    /// The key and the backend's token.
    #[inline]
    pub fn get(&self) -> (SelKey, u32) {
        (key_of(self.fd, self.slot), self.slot.token)
    }

    /// Replaces the events (`!= 0`), data and token; returns the new key.
    #[inline]
    pub fn set(self, events: u32, data: *mut c_void, token: u32) -> SelKey {
        debug_assert!(events != 0);
        *self.slot = Slot {
            data: UserData(data),
            events,
            token,
        };
        key_of(self.fd, self.slot)
    }
}

/// The slot index of `fd`: a negative fd maps beyond any table (above `i32::MAX`), so the one
/// bounds check of the lookup refuses it too (a branch less on every lookup of `sel_select`).
fn index_of(fd: c_int) -> usize {
    fd as u32 as usize
}

fn key_of(fd: c_int, slot: &Slot) -> SelKey {
    SelKey {
        fd,
        events: slot.events,
        data: slot.data.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> *mut c_void {
        n as *mut c_void
    }

    #[test]
    fn a_slot_is_sixteen_bytes() {
        assert!(std::mem::size_of::<Slot>() <= 16);
    }

    #[test]
    fn insert_get_remove() {
        let mut registry = Registry::default();
        assert!(registry.is_empty());
        let key = registry.insert(7, 3, data(42), 9);
        assert_eq!(key.fd, 7);
        assert_eq!(registry.get(7), Some(key));
        assert_eq!(registry.get_with_token(7), Some((key, 9)));
        assert_eq!(registry.len(), 1);
        assert_eq!(registry.get(6), None);
        assert_eq!(registry.get(1000), None);
        assert_eq!(registry.get(-1), None);
        assert_eq!(registry.remove(7), Some((key, 9)));
        assert_eq!(registry.remove(7), None);
        assert!(registry.is_empty());
    }

    #[test]
    fn an_entry_replaces_events_data_and_token() {
        let mut registry = Registry::default();
        let old = registry.insert(3, 1, data(1), 5);
        let entry = registry.entry(3).unwrap();
        assert_eq!(entry.get(), (old, 5));
        let key = entry.set(2, data(2), 6);
        assert_eq!((key.fd, key.events, key.data), (3, 2, data(2)));
        assert_eq!(registry.get_with_token(3), Some((key, 6)));
        assert!(registry.entry(4).is_none());
        assert!(registry.entry(-1).is_none());
    }

    #[test]
    fn stale_tokens_find_nothing() {
        let mut registry = Registry::default();
        registry.insert(3, 1, data(1), 5);
        assert!(registry.get_current(3, Some(5)).is_some());
        assert!(registry.get_current(3, Some(4)).is_none());
        assert_eq!(
            registry.get_current(3, None).map(|(_, token)| token),
            Some(5)
        );
        registry.set_token(3, 4);
        assert!(registry.get_current(3, Some(4)).is_some());
    }

    #[test]
    fn keys_come_in_fd_order() {
        let mut registry = Registry::default();
        for fd in [9, 2, 5] {
            registry.insert(fd, 1, data(fd as usize), 0);
        }
        let fds: Vec<c_int> = registry.keys().map(|key| key.fd).collect();
        assert_eq!(fds, [2, 5, 9]);
        let mut out = [MaybeUninit::uninit(); 2];
        assert_eq!(registry.copy_keys(&mut out), 3);
        // SAFETY: copy_keys initialised both entries, since three keys are registered.
        let copied = unsafe { [out[0].assume_init().fd, out[1].assume_init().fd] };
        assert_eq!(copied, [2, 5]);
    }
}
