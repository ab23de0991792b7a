//! The selector: Python's `_BaseSelectorImpl` and `_PollLikeSelector` in one safe type.
//!
//! It validates every argument in Python's order before any kernel call, keeps the registry in
//! step with the kernel (a refused register records nothing, a refused modify unregisters, as
//! CPython does since bpo-30014), and runs the wait loop: retry after signals with the time
//! left (PEP 475) unless asked to report them, never return before the deadline.

use std::ffi::{c_int, c_void};
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

use crate::backend::{self, Backend};
use crate::deadline::Deadline;
use crate::errno::{Errno, Result};
use crate::events::{valid_interest, ALL_FLAGS, SEL_FLAG_EINTR};
use crate::key::{SelEvent, SelKey};
use crate::kind::Kind;
use crate::registry::Registry;

/// A registry of keys and the backend that watches them.
pub struct Selector {
    registry: Registry,
    backend: Box<dyn Backend>,
    report_interrupts: bool,
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
            Some(kind) => backend::open(kind, waker_fd)?,
            None => backend::open_default(waker_fd)?,
        };
        Ok(Selector {
            registry: Registry::default(),
            backend,
            report_interrupts: flags & SEL_FLAG_EINTR != 0,
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
    pub fn register(&mut self, fd: c_int, events: u32, data: *mut c_void) -> Result<SelKey> {
        if !valid_interest(events) {
            return Err(Errno(libc::EINVAL));
        }
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        if self.registry.contains(fd) {
            return Err(Errno(libc::EEXIST));
        }
        self.backend.admit(fd)?;
        let token = self.backend.add(fd, events)?;
        Ok(self.registry.insert(fd, events, data, token))
    }

    /// Python's `modify`: a change of data alone makes no system call; a change of events the
    /// kernel refuses unregisters the fd.
    pub fn modify(&mut self, fd: c_int, events: u32, data: *mut c_void) -> Result<SelKey> {
        let current = self.get_key(fd)?;
        if !valid_interest(events) {
            return Err(Errno(libc::EINVAL));
        }
        if events != current.events {
            let token = self.registry.token(fd).unwrap_or_default();
            if let Err(err) = self.backend.modify(fd, token, events) {
                self.unregister(fd)?;
                return Err(err);
            }
        }
        self.registry
            .update(fd, events, data)
            .ok_or(Errno(libc::ENOENT))
    }

    /// Python's `unregister`; succeeds even when the fd was closed, or its number reused.
    pub fn unregister(&mut self, fd: c_int) -> Result<SelKey> {
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        let (key, token) = self.registry.remove(fd).ok_or(Errno(libc::ENOENT))?;
        if let Some(moved) = self.backend.remove(fd, token) {
            self.registry.set_token(moved.fd, moved.token);
        }
        Ok(key)
    }

    /// Python's `get_key`.
    pub fn get_key(&self, fd: c_int) -> Result<SelKey> {
        if fd < 0 {
            return Err(Errno(libc::EBADF));
        }
        self.registry.get(fd).ok_or(Errno(libc::ENOENT))
    }

    /// Python's `select`: waits up to `timeout` seconds (`< 0` or infinite: for ever; NaN:
    /// `EINVAL`) and writes at most `out.len()` entries, one per ready fd; returns how many.
    pub fn select(&mut self, timeout: f64, out: &mut [MaybeUninit<SelEvent>]) -> Result<usize> {
        let deadline = Deadline::after_seconds(timeout)?;
        // Never more entries than registrations: this also bounds the backends' scratch space.
        let room = out.len().min(self.registry.len());
        let out = &mut out[..room];
        loop {
            match self.backend.wait(&self.registry, deadline.next_wait(), out) {
                Ok(waited) if waited.reported > 0 || waited.kernel_woke => {
                    return Ok(waited.reported)
                }
                Err(Errno(libc::EINTR)) if self.report_interrupts => {
                    return Err(Errno(libc::EINTR))
                }
                Ok(_) | Err(Errno(libc::EINTR)) => {
                    if deadline.has_passed() {
                        return Ok(0);
                    }
                }
                Err(err) => return Err(err),
            }
        }
    }
}
