//! The two plain structs that cross the C boundary: a registration and a ready event.

use std::ffi::{c_int, c_void};
use std::ptr;

/// A registration, Python's `SelectorKey`: the file descriptor, the events it is watched for and
/// the caller's opaque `data` pointer (stored and returned, never dereferenced or freed).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelKey {
    /// The registered file descriptor.
    pub fd: c_int,
    /// The events it is watched for: `SEL_EVENT_READ` and/or `SEL_EVENT_WRITE`, plus the mode
    /// bits it was registered with (`SEL_EVENT_ONESHOT`, `SEL_EVENT_EDGE`), if any.
    pub events: u32,
    /// The pointer given to `sel_register` or `sel_modify`.
    pub data: *mut c_void,
}

/// One entry of `sel_select`'s result, Python's `(key, mask)` pair: the registration and the
/// events it is ready for (`mask` is never 0 and never has a bit that `key.events` lacks).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelEvent {
    /// The registration, as `sel_get_key` would return it.
    pub key: SelKey,
    /// The ready events: `SEL_EVENT_READ`, `SEL_EVENT_WRITE` or both.
    pub mask: u32,
}

impl SelKey {
    /// A key with no data, for tests and for "no key" placeholders.
    pub fn without_data(fd: c_int, events: u32) -> SelKey {
        SelKey {
            fd,
            events,
            data: ptr::null_mut(),
        }
    }
}
