//! One result entry per fd, in a fair order, from a kernel's reports (kqueue and /dev/poll).
//!
//! kqueue reports each direction as its own filter, so one fd can come back twice (CPython
//! gh-110038): the reports are sorted by fd in place, which puts both filters of an fd side by
//! side, and each run of one fd becomes one entry. Sorting in place needs no allocation, and it
//! also gives the reports a stable order to rotate over: the backends ask the kernel for every
//! ready report at once (a buffer sized for all registrations), and when the caller's buffer is
//! smaller than the ready set, each wait starts after the fd the previous one reported last, so
//! every ready fd is reported within `ceil(ready / buffer)` waits. No kernel type appears here,
//! so this logic is unit-tested on Linux.

use std::mem::MaybeUninit;
use std::os::fd::RawFd;

use super::{push, ready_entry};
use crate::key::SelEvent;
use crate::registry::Registry;

/// What one kernel report says, in the terms merging needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Report {
    /// The fd it is about.
    pub fd: RawFd,
    /// The registration it belongs to (the cookie the backend gave the kernel), or `None` where
    /// the kernel keeps no cookie and the fd number alone identifies the registration.
    pub generation: Option<u32>,
    /// `SEL_EVENT_READ` and/or `SEL_EVENT_WRITE`, already mapped the way CPython maps them.
    pub events: u32,
}

/// Where the next wait starts reporting: after the fd the previous wait reported last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FairStart {
    after: RawFd,
}

impl Default for FairStart {
    fn default() -> FairStart {
        FairStart { after: -1 }
    }
}

/// Writes at most `out.len()` entries for the reports in `kernel`, one per registered fd, each
/// merged over all its reports and masked by its interest; returns how many it wrote.
///
/// `view` reads a kernel entry (`None` for entries that are no registration's: the wakeup fd,
/// filters the library never adds). Reports of a registration that is no longer current are
/// dropped. `kernel` is reordered (sorted by fd).
pub(super) fn report_fairly<T>(
    kernel: &mut [T],
    view: impl Fn(&T) -> Option<Report>,
    registry: &Registry,
    out: &mut [MaybeUninit<SelEvent>],
    start: &mut FairStart,
) -> usize {
    let fd_of = |entry: &T| view(entry).map_or(-1, |report| report.fd);
    kernel.sort_unstable_by_key(fd_of);
    let resume = kernel.partition_point(|entry| fd_of(entry) <= start.after);
    let (wrapped, first) = kernel.split_at(resume);
    let mut written = 0;
    for run in first
        .chunk_by(|a, b| fd_of(a) == fd_of(b))
        .chain(wrapped.chunk_by(|a, b| fd_of(a) == fd_of(b)))
    {
        if written == out.len() {
            break;
        }
        if let Some(entry) = merged_entry(run.iter().filter_map(&view), registry) {
            push(out, &mut written, entry);
            start.after = entry.key.fd;
        }
    }
    written
}

/// The entry for the reports of one fd: the current registration's key and the union of what
/// its reports say, masked by its interest; `None` if none of them is current or the mask is 0.
fn merged_entry(run: impl Iterator<Item = Report>, registry: &Registry) -> Option<SelEvent> {
    let mut found = None;
    let mut ready = 0;
    for report in run {
        let key = match report.generation {
            Some(generation) => registry.get_if_token(report.fd, generation),
            None => registry.get(report.fd),
        };
        if let Some(key) = key {
            found = Some(key);
            ready |= report.events;
        }
    }
    ready_entry(found?, ready)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{SEL_EVENT_READ as READ, SEL_EVENT_WRITE as WRITE};
    use std::ptr;

    const BOTH: u32 = READ | WRITE;

    fn report(fd: RawFd, generation: u32, events: u32) -> Option<Report> {
        Some(Report {
            fd,
            generation: Some(generation),
            events,
        })
    }

    /// Registers each `(fd, interest)` with generation `fd + 100`.
    fn registry(registrations: &[(RawFd, u32)]) -> Registry {
        let mut registry = Registry::default();
        for &(fd, events) in registrations {
            registry.insert(fd, events, ptr::null_mut(), fd as u32 + 100);
        }
        registry
    }

    /// Runs one merge with a result buffer of `room` entries; returns `(fd, mask)` pairs.
    fn merge(
        kernel: &mut [Option<Report>],
        registry: &Registry,
        room: usize,
        start: &mut FairStart,
    ) -> Vec<(RawFd, u32)> {
        let mut out = vec![MaybeUninit::uninit(); room];
        let written = report_fairly(kernel, |entry| *entry, registry, &mut out, start);
        out[..written]
            .iter()
            // SAFETY: report_fairly initialised the first `written` entries.
            .map(|entry| unsafe { entry.assume_init() })
            .map(|event| (event.key.fd, event.mask))
            .collect()
    }

    #[test]
    fn read_and_write_of_one_fd_become_one_entry() {
        let registry = registry(&[(5, BOTH), (7, BOTH)]);
        let mut kernel = [
            report(5, 105, READ),
            report(7, 107, WRITE),
            report(5, 105, WRITE),
        ];
        let got = merge(&mut kernel, &registry, 8, &mut FairStart::default());
        assert_eq!(got, [(5, BOTH), (7, WRITE)]);
    }

    #[test]
    fn the_mask_is_the_registered_interest() {
        // A filter the interest no longer asks for (a report racing a modify) is masked out, and
        // an fd left with nothing is not reported at all.
        let registry = registry(&[(3, READ), (4, WRITE)]);
        let mut kernel = [
            report(3, 103, READ),
            report(3, 103, WRITE),
            report(4, 104, READ),
        ];
        let got = merge(&mut kernel, &registry, 8, &mut FairStart::default());
        assert_eq!(got, [(3, READ)]);
    }

    #[test]
    fn stale_and_foreign_reports_are_dropped() {
        let registry = registry(&[(3, BOTH), (9, READ)]);
        let mut kernel = [
            None,                // the wakeup fd
            report(3, 42, READ), // an earlier registration of fd 3
            report(3, 103, WRITE),
            report(8, 108, READ), // not registered
            report(9, 7, READ),   // stale only
        ];
        let got = merge(&mut kernel, &registry, 8, &mut FairStart::default());
        assert_eq!(got, [(3, WRITE)]);
    }

    #[test]
    fn reports_without_a_generation_match_by_fd() {
        let registry = registry(&[(6, BOTH)]);
        let mut kernel = [Some(Report {
            fd: 6,
            generation: None,
            events: BOTH,
        })];
        let got = merge(&mut kernel, &registry, 1, &mut FairStart::default());
        assert_eq!(got, [(6, BOTH)]);
    }

    #[test]
    fn a_small_buffer_rotates_over_every_ready_fd() {
        let fds: Vec<RawFd> = (10..17).collect();
        let registry = registry(&fds.iter().map(|&fd| (fd, BOTH)).collect::<Vec<_>>());
        let mut start = FairStart::default();
        let mut seen = Vec::new();
        for _ in 0..3 {
            // Both filters of every fd, in the kernel's arbitrary order.
            let mut kernel: Vec<Option<Report>> = fds
                .iter()
                .rev()
                .flat_map(|&fd| {
                    [
                        report(fd, fd as u32 + 100, WRITE),
                        report(fd, fd as u32 + 100, READ),
                    ]
                })
                .collect();
            let got = merge(&mut kernel, &registry, 3, &mut start);
            assert_eq!(got.len(), 3);
            assert!(got.iter().all(|&(_, mask)| mask == BOTH));
            seen.extend(got.into_iter().map(|(fd, _)| fd));
        }
        // Seven ready fds, three per wait: every fd within three waits, then round again.
        assert_eq!(seen, [10, 11, 12, 13, 14, 15, 16, 10, 11]);
    }

    #[test]
    fn rotation_skips_fds_no_longer_ready() {
        let registry = registry(&[(1, READ), (2, READ), (3, READ)]);
        let mut start = FairStart::default();
        let mut kernel = [
            report(1, 101, READ),
            report(2, 102, READ),
            report(3, 103, READ),
        ];
        assert_eq!(
            merge(&mut kernel, &registry, 2, &mut start),
            [(1, READ), (2, READ)]
        );
        let mut kernel = [report(1, 101, READ), report(2, 102, READ)];
        assert_eq!(merge(&mut kernel, &registry, 1, &mut start), [(1, READ)]);
        let mut kernel = [report(1, 101, READ), report(2, 102, READ)];
        assert_eq!(merge(&mut kernel, &registry, 1, &mut start), [(2, READ)]);
    }

    #[test]
    fn nothing_ready_writes_nothing() {
        let registry = registry(&[(1, READ)]);
        let mut start = FairStart::default();
        assert!(merge(&mut [], &registry, 4, &mut start).is_empty());
        assert!(merge(&mut [None], &registry, 4, &mut start).is_empty());
        assert_eq!(start, FairStart::default());
    }
}
