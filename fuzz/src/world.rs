//! The fds one fuzz input plays with, and what the kernel says about them.
//!
//! Which file each fd number holds is tracked here (socketpairs, `/dev/null`, `dup2`, closes
//! behind the selectors' backs), because epoll watches files while select and poll watch
//! numbers. Readiness is never guessed: it is asked of the kernel with a plain `poll(2)` and
//! mapped the way CPython maps poll results, which is what the contract promises of every kind.

use std::collections::BTreeMap;
use std::os::fd::RawFd;

const READ: u32 = selectors::SEL_EVENT_READ;
const WRITE: u32 = selectors::SEL_EVENT_WRITE;

/// At most this many socketpairs per input, so fds stay few and every input is cheap.
pub const MOST_PAIRS: usize = 16;

/// A file (open file description) made during the input; never reused within it.
pub type FileId = u32;

/// Every file of one input and the fd numbers that hold them. Closes everything it opened
/// when dropped.
#[derive(Default)]
pub struct World {
    /// Each fd number this input opened, by the file it holds now.
    holders: BTreeMap<RawFd, FileId>,
    /// Every number this input ever opened, in order: what the fuzz input picks fds from.
    numbers: Vec<RawFd>,
    /// The `/dev/null` file, once opened: select and poll accept it, epoll refuses it.
    dev_null: Option<FileId>,
    pairs: usize,
    next_file: FileId,
}

impl World {
    fn new_file(&mut self, fd: RawFd) -> FileId {
        let file = self.next_file;
        self.next_file += 1;
        self.holders.insert(fd, file);
        if !self.numbers.contains(&fd) {
            self.numbers.push(fd);
        }
        file
    }

    /// Opens a non-blocking AF_UNIX stream socketpair, unless the input has its share of them.
    pub fn open_pair(&mut self) {
        if self.pairs == MOST_PAIRS {
            return;
        }
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for the two fds socketpair writes.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0, "socketpair: {}", std::io::Error::last_os_error());
        self.pairs += 1;
        self.new_file(fds[0]);
        self.new_file(fds[1]);
    }

    /// The fd of `/dev/null`, opened on first use (and again after it was closed).
    pub fn dev_null(&mut self) -> RawFd {
        if let Some(fd) = self.dev_null.and_then(|file| self.holder(file)) {
            return fd;
        }
        // SAFETY: a NUL-terminated path.
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        assert!(
            fd >= 0,
            "open /dev/null: {}",
            std::io::Error::last_os_error()
        );
        let file = self.new_file(fd);
        self.dev_null = Some(file);
        fd
    }

    /// The number the input's `choice` picks among those it ever opened (-1 if none yet).
    pub fn pick(&self, choice: u8) -> RawFd {
        if self.numbers.is_empty() {
            return -1;
        }
        self.numbers[usize::from(choice) % self.numbers.len()]
    }

    /// The file number `fd` holds now, if this input opened it and it is open.
    pub fn file_at(&self, fd: RawFd) -> Option<FileId> {
        self.holders.get(&fd).copied()
    }

    /// A number that holds `file` now, if any still does (the file is alive).
    pub fn holder(&self, file: FileId) -> Option<RawFd> {
        self.holders
            .iter()
            .find(|(_, held)| **held == file)
            .map(|(fd, _)| *fd)
    }

    /// Whether `file` is `/dev/null` (a character device: epoll refuses it with EPERM).
    pub fn is_dev_null(&self, file: FileId) -> bool {
        self.dev_null == Some(file)
    }

    /// Closes `fd` behind the selectors' backs; returns the file that died with it, if that was
    /// its last holder. Numbers this input did not open are left alone.
    pub fn close(&mut self, fd: RawFd) -> Option<FileId> {
        let file = self.holders.remove(&fd)?;
        // SAFETY: this input opened `fd` and nothing else owns it.
        assert_eq!(unsafe { libc::close(fd) }, 0);
        self.holder(file).is_none().then_some(file)
    }

    /// `dup2(from, onto)` between two open numbers of this input; returns the file that died
    /// because `onto` was replaced, if any.
    pub fn dup2(&mut self, from: RawFd, onto: RawFd) -> Option<FileId> {
        let file = self.file_at(from)?;
        let replaced = self.file_at(onto)?;
        // SAFETY: both numbers were opened by this input.
        assert_eq!(unsafe { libc::dup2(from, onto) }, onto);
        self.holders.insert(onto, file);
        (replaced != file && self.holder(replaced).is_none()).then_some(replaced)
    }

    /// What `file` is ready for among `interest` (SEL_EVENT_* bits), asked of `poll(2)` and
    /// mapped as CPython maps it: anything but "readable" (hang-up, error) counts as writable,
    /// anything but "writable" as readable.
    pub fn readiness(&self, file: FileId, interest: u32) -> u32 {
        let fd = self.holder(file).expect("readiness is asked of live files");
        readiness_of_number(fd, interest)
    }
}

/// The `revents` of `poll(2)` on the number `fd` for `interest` (SEL_EVENT_* bits).
fn poll_number(fd: RawFd, interest: u32) -> libc::c_short {
    let mut entry = libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    };
    if interest & READ != 0 {
        entry.events |= libc::POLLIN;
    }
    if interest & WRITE != 0 {
        entry.events |= libc::POLLOUT;
    }
    loop {
        // SAFETY: one live pollfd.
        let rc = unsafe { libc::poll(&mut entry, 1, 0) };
        if rc >= 0 {
            return entry.revents;
        }
        // libFuzzer's -timeout watchdog is a SIGALRM timer: an interrupted poll is asked again.
        let error = std::io::Error::last_os_error();
        assert_eq!(error.raw_os_error(), Some(libc::EINTR), "poll: {error}");
    }
}

/// What the number `fd` is ready for among `interest`, by `poll(2)`, mapped as CPython maps it
/// (a closed number is POLLNVAL: readable and writable).
pub fn readiness_of_number(fd: RawFd, interest: u32) -> u32 {
    let revents = poll_number(fd, interest);
    let mut mask = 0;
    if revents & !libc::POLLIN != 0 {
        mask |= WRITE;
    }
    if revents & !libc::POLLOUT != 0 {
        mask |= READ;
    }
    mask & interest
}

/// What `select(2)` sees of the number `fd` (open) among `interest`: the kernel counts a
/// hang-up as readable only, and an error as both (its POLLIN_SET and POLLOUT_SET). This
/// differs from [`readiness_of_number`] for a hang-up without room to write.
pub fn select_view_of_number(fd: RawFd, interest: u32) -> u32 {
    let revents = poll_number(fd, interest);
    let mut mask = 0;
    if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
        mask |= READ;
    }
    if revents & (libc::POLLOUT | libc::POLLERR) != 0 {
        mask |= WRITE;
    }
    mask & interest
}

impl Drop for World {
    fn drop(&mut self) {
        for fd in std::mem::take(&mut self.holders).into_keys() {
            // SAFETY: this input opened `fd`.
            unsafe { libc::close(fd) };
        }
    }
}
