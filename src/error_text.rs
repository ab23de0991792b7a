//! What `sel_strerror` says about a return code: the library's own short text for the errors
//! whose cause it knows, else the system's description of the errno value.
//!
//! Every text is static and the same pointer on every call: the system's are read once, on the
//! first call that needs one, into a table that lives as long as the process.

use std::ffi::{CStr, CString};
use std::sync::OnceLock;

use crate::backend::strerror::system_text;

/// The errno values probed for system texts: Linux keeps errno values below 4096 (MAX_ERRNO),
/// and the BSDs, macOS and illumos far below that.
const PROBED_ERRNOS: i32 = 4096;

/// The text for a value that is no errno value this system knows.
const NOT_AN_ERRNO: &CStr = c"not an error code of this system";

/// The description of `errno`, a positive errno value as the library returns it negated.
pub fn describe(errno: i32) -> &'static CStr {
    own_text(errno)
        .or_else(|| system_texts().get(usize::try_from(errno).ok()?)?.as_deref())
        .unwrap_or(NOT_AN_ERRNO)
}

/// The library's own text for the errors whose cause it can name; short, as a log line's end.
fn own_text(errno: i32) -> Option<&'static CStr> {
    Some(match errno {
        libc::EINVAL => c"invalid argument: events, timeout, buffer, kind, flag or NULL selector",
        libc::EBADF => c"bad file descriptor: negative, or not open",
        libc::EEXIST => c"file descriptor already registered",
        libc::ENOENT => c"file descriptor not registered",
        libc::EPERM => c"operation not permitted (epoll refuses regular files)",
        libc::ENOSYS => c"selector kind not available on this platform",
        libc::EINTR => c"interrupted by a signal",
        libc::EOPNOTSUPP => c"not supported by this selector kind",
        libc::ENOSPC => c"kernel limit on watched file descriptors reached",
        libc::ELOOP => c"epoll selectors nested in a loop, or too deep",
        libc::EBUSY => c"another thread is already waiting on this selector",
        libc::ENOTRECOVERABLE => c"internal error in libselectors (a bug: please report it)",
        _ => return None,
    })
}

/// The system's texts, indexed by errno value, up to the highest value it knows.
fn system_texts() -> &'static [Option<CString>] {
    static TEXTS: OnceLock<Vec<Option<CString>>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut texts: Vec<Option<CString>> = (0..PROBED_ERRNOS)
            .map(|errno| system_text(errno).filter(|_| errno > 0))
            .collect();
        while texts.last().is_some_and(Option::is_none) {
            texts.pop();
        }
        texts
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_texts_where_the_library_knows_the_cause() {
        assert_eq!(
            describe(libc::EEXIST),
            c"file descriptor already registered"
        );
        for errno in [libc::EINVAL, libc::EPERM, libc::ELOOP, libc::ENOSPC] {
            let text = describe(errno).to_bytes();
            assert!(text.len() <= 72, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn the_system_text_for_every_other_errno() {
        for errno in [
            libc::EIO,
            libc::ESRCH,
            libc::EACCES,
            libc::EFAULT,
            libc::EXDEV,
        ] {
            assert_eq!(Some(describe(errno).to_owned()), system_text(errno));
        }
    }

    #[test]
    fn a_generic_text_for_values_that_are_no_errno() {
        for value in [0, -5, PROBED_ERRNOS, i32::MAX] {
            assert_eq!(describe(value), NOT_AN_ERRNO);
        }
    }

    #[test]
    fn the_same_static_text_on_every_call() {
        assert_eq!(describe(libc::EIO).as_ptr(), describe(libc::EIO).as_ptr());
    }
}
