//! The C library's description of an errno value, for the values the library has no text of
//! its own for (`sel_strerror`).

use std::ffi::{c_char, CStr, CString};

/// The C library's text for `errno` (`"Input/output error"`, …), or `None` for a value it does
/// not know. Uses the XSI `strerror_r`, which writes into the caller's buffer: `strerror`'s
/// buffer may be shared between threads and overwritten by the next call.
pub fn system_text(errno: i32) -> Option<CString> {
    let mut buffer = [0 as c_char; 256];
    // SAFETY: the buffer is writable for its whole length, which is what we pass; the XSI
    // function (glibc's __xpg_strerror_r, the BSDs' and illumos' strerror_r) writes a
    // NUL-terminated text within it and returns non-zero for an unknown value or a text too long.
    let unknown = unsafe { libc::strerror_r(errno, buffer.as_mut_ptr(), buffer.len()) } != 0;
    if unknown {
        return None;
    }
    // SAFETY: strerror_r succeeded, so the buffer holds a NUL-terminated string.
    Some(unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_have_the_system_text_and_unknown_ones_none() {
        let text = system_text(libc::ENOENT).expect("ENOENT is known");
        assert!(!text.is_empty());
        assert_ne!(system_text(libc::EIO), Some(text));
        assert_eq!(system_text(-1), None);
        assert_eq!(system_text(100_000), None);
    }
}
