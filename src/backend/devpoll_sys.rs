//! The `/dev/poll` declarations the libc crate lacks, from illumos `<sys/devpoll.h>` (Solaris
//! has the same): the `DP_POLL` ioctl, the `POLLREMOVE` event bit and `struct dvpoll`.

/// `DP_POLL`, `(DPIOC | 1)` with `DPIOC = 0xD0 << 8`: wait for events of the cached set.
pub(super) const DP_POLL: libc::c_int = 0xD001;

/// `POLLREMOVE`: written as a `pollfd`'s events, removes that fd from the set.
pub(super) const POLLREMOVE: libc::c_short = 0x0800;

/// `struct dvpoll`, the argument of `DP_POLL`.
#[repr(C)]
pub(super) struct DvPoll {
    /// `dp_fds`: where the kernel writes the ready fds and their `revents`.
    pub dp_fds: *mut libc::pollfd,
    /// `dp_nfds`: how many entries `dp_fds` holds.
    pub dp_nfds: libc::nfds_t,
    /// `dp_timeout`: milliseconds to wait, `-1` for ever.
    pub dp_timeout: libc::c_int,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_the_header() {
        assert_eq!(DP_POLL, (0xD0 << 8) | 1);
        assert_eq!(POLLREMOVE, 0x0800);
        // Distinct from every bit poll(2) itself uses.
        for bit in [
            libc::POLLIN,
            libc::POLLOUT,
            libc::POLLERR,
            libc::POLLHUP,
            libc::POLLNVAL,
        ] {
            assert_eq!(POLLREMOVE & bit, 0);
        }
    }

    #[test]
    fn dvpoll_has_the_c_layout() {
        use std::mem::{align_of, offset_of, size_of};
        let pointer = size_of::<*mut libc::pollfd>();
        assert_eq!(offset_of!(DvPoll, dp_fds), 0);
        assert_eq!(offset_of!(DvPoll, dp_nfds), pointer);
        assert_eq!(
            offset_of!(DvPoll, dp_timeout),
            pointer + size_of::<libc::nfds_t>()
        );
        assert_eq!(align_of::<DvPoll>(), align_of::<libc::c_ulong>());
    }
}
