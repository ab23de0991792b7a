//! The `kevent` structure, the constants and the two calls the kqueue backend uses, from one
//! place.
//!
//! On macOS and the BSDs they are the libc crate's, which follows each system's headers. On
//! Linux the kqueue build (`--features libkqueue`) links libkqueue, a user-space kqueue, which
//! the libc crate does not describe: its `<sys/event.h>` is FreeBSD's older layout (no `ext`
//! field) with FreeBSD's values, written out below (crate-private, so cbindgen leaves them out
//! of `selectors.h`) and checked against that header by
//! `the_layout_is_libkqueues` (a C program compiled against the installed header prints what
//! it sees).

#[cfg(all(not(libkqueue), not(target_os = "netbsd")))]
pub use libc::kqueue;
/// NetBSD makes a close-on-exec kqueue with `kqueue1`, the others with `kqueue`.
#[cfg(target_os = "netbsd")]
pub use libc::kqueue1;
#[cfg(not(libkqueue))]
pub use libc::{
    kevent, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE, EV_DISABLE, EV_DISPATCH,
    EV_ERROR, EV_RECEIPT,
};

#[cfg(libkqueue)]
pub(crate) use libkqueue::*;

/// libkqueue's `<sys/event.h>`.
#[cfg(libkqueue)]
mod libkqueue {
    use libc::{c_int, c_uint, c_ushort, c_void, intptr_t, timespec, uintptr_t};

    /// One change or one report: libkqueue's `struct kevent`.
    #[allow(non_camel_case_types)] // the C name, as the libc crate spells it on the BSDs
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct kevent {
        /// The fd.
        pub ident: uintptr_t,
        /// `EVFILT_*`.
        pub filter: i16,
        /// `EV_*`.
        pub flags: c_ushort,
        /// Filter-specific flags.
        pub fflags: c_uint,
        /// Filter-specific data; the errno of an `EV_ERROR` receipt.
        pub data: intptr_t,
        /// Returned as given.
        pub udata: *mut c_void,
    }

    /// The readable filter.
    pub(crate) const EVFILT_READ: i16 = -1;
    /// The writable filter.
    pub(crate) const EVFILT_WRITE: i16 = -2;
    /// Add the filter (and enable it).
    pub(crate) const EV_ADD: c_ushort = 0x0001;
    /// Delete the filter.
    pub(crate) const EV_DELETE: c_ushort = 0x0002;
    /// Disable the filter: it stays, and reports nothing.
    pub(crate) const EV_DISABLE: c_ushort = 0x0008;
    /// Edge-triggered: the state is reset after it is reported.
    pub(crate) const EV_CLEAR: c_ushort = 0x0020;
    /// Answer every change in the event list, `EV_ERROR` with `data` 0 for success.
    pub(crate) const EV_RECEIPT: c_ushort = 0x0040;
    /// Disable the filter once it is reported.
    pub(crate) const EV_DISPATCH: c_ushort = 0x0080;
    /// The entry is a receipt or an error; `data` holds the errno.
    pub(crate) const EV_ERROR: c_ushort = 0x4000;

    extern "C" {
        /// A new kqueue's fd, or -1 and `errno`.
        pub(crate) fn kqueue() -> c_int;
        /// Applies `nchanges` changes, then waits up to `timeout` (NULL: for ever) for at most
        /// `nevents` reports; their number, or -1 and `errno`.
        pub(crate) fn kevent(
            kq: c_int,
            changelist: *const kevent,
            nchanges: c_int,
            eventlist: *mut kevent,
            nevents: c_int,
            timeout: *const timespec,
        ) -> c_int;
    }
}

#[cfg(all(test, libkqueue))]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};
    use std::process::Command;

    /// What the C compiler sees in libkqueue's header, one `name value` line each.
    const LAYOUT_PROGRAM: &str = r#"
#include <stddef.h>
#include <stdio.h>
#include <sys/event.h>
#define SHOW(x) printf("%s %ld\n", #x, (long)(x))
int main(void) {
    SHOW(sizeof(struct kevent));
    SHOW(offsetof(struct kevent, ident));
    SHOW(offsetof(struct kevent, filter));
    SHOW(offsetof(struct kevent, flags));
    SHOW(offsetof(struct kevent, fflags));
    SHOW(offsetof(struct kevent, data));
    SHOW(offsetof(struct kevent, udata));
    SHOW(sizeof(((struct kevent *)0)->filter));
    SHOW(sizeof(((struct kevent *)0)->flags));
    SHOW(EVFILT_READ); SHOW(EVFILT_WRITE);
    SHOW(EV_ADD); SHOW(EV_DELETE); SHOW(EV_DISABLE); SHOW(EV_CLEAR);
    SHOW(EV_RECEIPT); SHOW(EV_DISPATCH); SHOW(EV_ERROR);
    return 0;
}
"#;

    #[test]
    fn the_layout_is_libkqueues() {
        let dir = std::env::temp_dir().join(format!("selectors-kevent-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("layout.c");
        let program = dir.join("layout");
        std::fs::write(&source, LAYOUT_PROGRAM).unwrap();
        let compiled = Command::new(env!("SELECTORS_CC"))
            .args(env!("SELECTORS_LIBKQUEUE_CFLAGS").split_whitespace())
            .arg(&source)
            .arg("-o")
            .arg(&program)
            .status()
            .expect("the C compiler runs");
        assert!(
            compiled.success(),
            "layout.c does not compile against libkqueue's header"
        );
        let output = Command::new(&program).output().expect("layout runs");
        std::fs::remove_dir_all(&dir).unwrap();
        let seen = String::from_utf8(output.stdout).unwrap();
        let zero = kevent {
            ident: 0,
            filter: 0,
            flags: 0,
            fflags: 0,
            data: 0,
            udata: std::ptr::null_mut(),
        };
        // Each line as the C program prints it: the expression, then its value.
        macro_rules! offset {
            ($field:ident) => {
                (
                    concat!("offsetof(struct kevent, ", stringify!($field), ")"),
                    offset_of!(kevent, $field) as i64,
                )
            };
        }
        macro_rules! field_size {
            ($field:ident) => {
                (
                    concat!("sizeof(((struct kevent *)0)->", stringify!($field), ")"),
                    size_of_val(&zero.$field) as i64,
                )
            };
        }
        let ours = [
            ("sizeof(struct kevent)", size_of::<kevent>() as i64),
            offset!(ident),
            offset!(filter),
            offset!(flags),
            offset!(fflags),
            offset!(data),
            offset!(udata),
            field_size!(filter),
            field_size!(flags),
            ("EVFILT_READ", i64::from(EVFILT_READ)),
            ("EVFILT_WRITE", i64::from(EVFILT_WRITE)),
            ("EV_ADD", i64::from(EV_ADD)),
            ("EV_DELETE", i64::from(EV_DELETE)),
            ("EV_DISABLE", i64::from(EV_DISABLE)),
            ("EV_CLEAR", i64::from(EV_CLEAR)),
            ("EV_RECEIPT", i64::from(EV_RECEIPT)),
            ("EV_DISPATCH", i64::from(EV_DISPATCH)),
            ("EV_ERROR", i64::from(EV_ERROR)),
        ]
        .map(|(name, value)| format!("{name} {value}"))
        .join("\n");
        assert_eq!(seen.trim_end(), ours);
    }
}
