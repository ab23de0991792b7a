//! # libselectors
//!
//! Python's [`selectors`](https://docs.python.org/3/library/selectors.html) module rebuilt in
//! Rust and exported as a C ABI: `libselectors.so` and the generated `include/selectors.h`.
//!
//! The core is safe Rust: a [`registry`] of keys (Python's `_fd_to_key`), a [`selector`] that
//! validates calls in Python's order, the wait loop of [`shared`], and the one reporting path of
//! [`report`], which turns what any kernel said into entries. One [`backend`] per kernel
//! interface makes the system calls and never sees a registration. The [`ffi`] module is the C API; it only converts, checks
//! pointers and maps errors to negative errno values.

pub mod backend;
pub mod deadline;
pub mod errno;
pub mod error_text;
pub mod events;
pub mod fault;
pub mod ffi;
pub mod growth;
pub mod key;
pub mod kind;
pub mod registry;
pub mod report;
pub mod selector;
pub mod shared;
pub mod version;

pub use events::{
    SEL_EVENT_EDGE, SEL_EVENT_ONESHOT, SEL_EVENT_READ, SEL_EVENT_WRITE, SEL_FLAG_EINTR,
    SEL_FLAG_MODES,
};
pub use key::{SelEvent, SelKey};
pub use kind::{
    Kind, SEL_KIND_DEFAULT, SEL_KIND_DEVPOLL, SEL_KIND_EPOLL, SEL_KIND_KQUEUE, SEL_KIND_POLL,
    SEL_KIND_SELECT,
};
pub use version::{SEL_VERSION_MAJOR, SEL_VERSION_MINOR, SEL_VERSION_PATCH};
