//! One reporting path for every kind: from what a kernel said to `sel_select`'s entries.
//!
//! A backend's wait only fills its kernel buffer; it never sees the registrations. It then
//! answers, position by position, what the kernel said there ([`Answer`]): nothing, the wakeup
//! fd, or an fd with its ready events and the token it was tagged with. [`deliver`] turns those
//! answers into entries: it looks each fd up in the [`Registry`], drops a report whose token is
//! no longer the fd's (an earlier registration of the same number), masks the ready events with
//! the interest, keeps one entry per fd, has oneshot registrations disarmed where the kernel
//! does not do it itself, and keeps the turns fair.
//!
//! The fairness policy, one for every kind: **never take from the kernel a report that cannot
//! be delivered where the kernel would forget it, and resume after the last fd delivered.**
//! - A kernel that keeps a queue of ready reports (epoll, kqueue: [`Reports::REQUEUES`]) is asked
//!   for at most as many reports as the caller's buffer holds ([`kernel_capacity`]): a report
//!   taken and dropped for lack of room would be requeued behind the others (level-triggered)
//!   or lost for good (edge-triggered, oneshot). Its own requeueing gives every ready fd its turn,
//!   and every report taken fits. A wait that holds no lock cannot know what fds other threads
//!   register meanwhile, so it takes no more reports than the buffer holds
//!   ([`unlocked_capacity`]); when the wakeup fd, a stale report or an fd's second filter took
//!   a place a ready fd needed, it tops the buffer up from the queue at once
//!   ([`Reporter::deliver_topped_up`]).
//! - A kernel that answers from its whole set in a fixed order (select, poll, /dev/poll) may say
//!   more than fits; its registrations are level-triggered there (oneshot is emulated by
//!   disarming after delivery), so what is left is said again by the next wait, which starts
//!   after the position of the last entry delivered ([`Turns`]): every ready fd is reported
//!   within `ceil(ready / buffer)` waits.
//!
//! Each answer is read once, straight from the kernel's buffer, and each entry written once
//! (zero-copy): no second pass, no allocation. No system call is made here, so this logic runs
//! under Miri with a fake kernel.

use std::mem::MaybeUninit;
use std::os::fd::RawFd;

use crate::errno::Result;
use crate::events::{ALL_EVENTS, SEL_EVENT_EDGE, SEL_EVENT_ONESHOT};
use crate::key::{SelEvent, SelKey};
use crate::registry::Registry;

/// What a kernel reported about one registered fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// The fd it is about.
    pub fd: RawFd,
    /// The token the fd was tagged with in the kernel (epoll's and kqueue's generation), or
    /// `None` where the kernel keeps no tag and the fd number alone names the registration.
    pub token: Option<u32>,
    /// `SEL_EVENT_READ` and/or `SEL_EVENT_WRITE`, mapped the way CPython maps the kernel's bits.
    pub ready: u32,
}

/// What a kernel said at one position of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Nothing: an fd that is not ready, or a filter the library never adds.
    Nothing,
    /// The wakeup fd is readable.
    Waker,
    /// A registered fd (or an earlier registration of its number) is ready.
    Ready(Report),
}

/// Where the previous wait stopped delivering, for the next one to resume after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Turns {
    next_position: usize,
    last_fd: RawFd,
}

impl Default for Turns {
    fn default() -> Turns {
        Turns {
            next_position: 0,
            last_fd: -1,
        }
    }
}

impl Turns {
    /// The position after the last entry delivered: where a kernel whose positions are stable
    /// between waits (poll's array index, select's fd) resumes.
    pub fn next_position(&self) -> usize {
        self.next_position
    }

    /// The fd of the last entry delivered: a kernel answering in fd order resumes after it.
    pub fn last_fd(&self) -> RawFd {
        self.last_fd
    }
}

/// A kernel's answer to its last wait, read by [`deliver`]. The kernel files implement it on
/// their buffers, so they never see a registration or an entry.
pub trait Reports {
    /// Whether the kernel keeps what a wait did not take for the next wait (epoll, kqueue), so
    /// a wait takes no more than it can deliver; else a wait takes every report. Such a kernel's
    /// answer is the list of reports it took: each of its [`Reports::positions`] says something.
    const REQUEUES: bool;
    /// How many reports one fd may produce in one wait (kqueue: one per filter). When more than
    /// one, the reports of an fd are adjacent in the answer.
    const REPORTS_PER_FD: usize;

    /// How many positions the answer has.
    fn positions(&self) -> usize;

    /// Where delivery starts, for fairness (see the module documentation).
    fn first_position(&self, turns: &Turns) -> usize;

    /// What the kernel said at `position` (below [`Reports::positions`]).
    fn answer(&self, position: usize) -> Answer;

    /// Stops watching a oneshot registration just reported (`mask` of its `events`), where the
    /// kernel does not disarm it by itself; `token` is the registration's.
    fn disarm(&mut self, fd: RawFd, token: u32, events: u32, mask: u32);

    /// Answers, for each probe, which of its `asked` directions are ready now. Asked only of a
    /// kernel with several reports per fd after a wait that took fewer reports than the
    /// registrations have: it may have answered one direction of an fd ready both ways and not
    /// the other, the same one first every time (kqueue). Leaving a probe unanswered is
    /// allowed: the entry then says what the wait said, true if not all of it.
    fn probe(&mut self, _probes: &mut [Probe]) {}
}

/// A direction of its interest an entry lacks, for [`Reports::probe`] to look at again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The fd.
    pub fd: RawFd,
    /// The directions to look at (`SEL_EVENT_READ` and/or `SEL_EVENT_WRITE`).
    pub asked: u32,
    /// The kernel's answer: which of them are ready.
    pub ready: u32,
    /// The entry's mask as written, and where.
    mask: u32,
    index: usize,
}

/// The directions of its interest `entry` lacks that a probe may add: none for an
/// edge-triggered registration, whose filter that did not come back keeps its report queued
/// for a later wait (and oneshot ones were disarmed by their reported mask, so a direction
/// added here is disarmed already).
fn unreported(entry: &SelEvent) -> u32 {
    if entry.key.events & SEL_EVENT_EDGE != 0 {
        return 0;
    }
    entry.key.events & ALL_EVENTS & !entry.mask
}

/// How many reports a wait takes from the kernel, for a caller's buffer of `room` entries
/// (never more than `registered`, the number of registrations), the wakeup fd included.
///
/// Every report at once when the buffer holds every registration (the reports of an fd become
/// one entry, so all of them fit), or when the kernel keeps no queue; else exactly the buffer's
/// size, leaving the rest in the kernel's queue.
pub fn kernel_capacity<K: Reports>(room: usize, registered: usize) -> usize {
    if room == registered || !K::REQUEUES {
        K::REPORTS_PER_FD * registered + 1
    } else {
        room
    }
}

/// How many reports a wait that holds no lock takes, for a caller's buffer of `room` entries
/// while `registered` fds are registered as it starts: [`kernel_capacity`], and never more than
/// the buffer holds, since fds registered during the wait may report too, and a report taken
/// must be delivered (the kernel says an edge-triggered or oneshot one only once).
pub fn unlocked_capacity<K: Reports>(room: usize, registered: usize) -> usize {
    kernel_capacity::<K>(room.min(registered), registered).min(room)
}

/// A kernel that keeps a queue of ready reports (epoll, kqueue) and can be asked for more at
/// once, to top a buffer up ([`Reporter::deliver_topped_up`]).
pub trait Queue: Reports {
    /// Takes at most `capacity` more reports without blocking, in place of the last answer;
    /// returns how many positions of the answer say something.
    fn take_now(&mut self, capacity: usize) -> Result<usize>;
}

/// What [`deliver`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Entries written to the caller's buffer.
    pub entries: usize,
    /// Whether the wakeup fd was among the answers (the caller drains it).
    pub waker_fired: bool,
}

/// What a selector keeps from one delivery to the next: the turns, and room for probes.
#[derive(Debug, Default)]
pub struct Reporter {
    turns: Turns,
    probes: Vec<Probe>,
    /// The fd and mask of each entry of the select in progress as the kernel reported them
    /// (before probes), while a top-up may follow: its reports of the same fds merge into them.
    entries: Vec<(RawFd, u32)>,
}

/// Where one delivery of a select writes: after the `start` entries of the deliveries before it
/// (top-ups), whether those saw the wakeup fd, and whether it keeps a copy of its entries for a
/// top-up to follow.
#[derive(Clone, Copy, Default)]
struct Round {
    start: usize,
    waker_fired: bool,
    record: bool,
}

impl Reporter {
    /// Where the next delivery resumes.
    pub fn turns(&self) -> Turns {
        self.turns
    }

    /// Writes at most `out.len()` entries for the kernel's answer, one per ready registered fd,
    /// each masked by its interest, resuming after the previous delivery. `reported` is how
    /// many positions said something (an upper bound is enough: reading stops once that many
    /// are seen), `capacity` how many reports the wait was allowed to take.
    pub fn deliver<K: Reports>(
        &mut self,
        kernel: &mut K,
        said: (usize, usize),
        registry: &Registry,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Delivered {
        self.deliver_round(kernel, said, registry, out, Round::default())
            .0
    }

    /// [`Reporter::deliver`] for a wait that took at most [`unlocked_capacity`] reports, then,
    /// while the kernel's answer filled that capacity and yet left room in the buffer (the
    /// wakeup fd, a stale report or an fd's second filter took a place a ready fd needed), more
    /// reports taken at once, delivered after the entries. The caller holds the lock from this
    /// delivery to the last top-up. A report of an fd already delivered merges into its entry:
    /// one entry per fd. The top-ups end when the queue runs dry, the buffer is full, a report
    /// says again what an entry holds (the queue came round to the reports already taken), or
    /// after one per registration and one more.
    pub fn deliver_topped_up<K: Queue>(
        &mut self,
        kernel: &mut K,
        mut said: (usize, usize),
        registry: &Registry,
        out: &mut [MaybeUninit<SelEvent>],
    ) -> Delivered {
        let room = out.len().min(registry.len());
        let mut round = Round {
            record: said.0 >= said.1,
            ..Round::default()
        };
        self.entries.clear();
        let mut total = Delivered::default();
        let mut top_ups = registry.len() + 1;
        loop {
            let (delivered, came_round) = self.deliver_round(kernel, said, registry, out, round);
            total.entries = delivered.entries;
            total.waker_fired |= delivered.waker_fired;
            let full = said.1 > 0 && said.0 >= said.1;
            if !full || came_round || delivered.entries >= room || top_ups == 0 {
                break;
            }
            top_ups -= 1;
            // Under the lock the registrations are known: a buffer that holds every one of
            // them takes every report, since each merges into its fd's entry (kqueue may hand
            // back the same filter first every time, so a top-up of the room left could see
            // nothing else); a smaller buffer, no more than the room left.
            let capacity = if room == registry.len() {
                kernel_capacity::<K>(room, room)
            } else {
                room - delivered.entries
            };
            // A failed top-up leaves its reports queued for the next select.
            let Ok(taken) = kernel.take_now(capacity) else {
                break;
            };
            said = (taken, capacity);
            round = Round {
                start: delivered.entries,
                waker_fired: total.waker_fired,
                record: true,
            };
        }
        total
    }

    /// One delivery of a select, after `round.start` entries; also whether a report said again
    /// what one of those entries holds.
    fn deliver_round<K: Reports>(
        &mut self,
        kernel: &mut K,
        (reported, capacity): (usize, usize),
        registry: &Registry,
        out: &mut [MaybeUninit<SelEvent>],
        round: Round,
    ) -> (Delivered, bool) {
        let positions = kernel.positions();
        let first = kernel.first_position(&self.turns).min(positions);
        self.probes.clear();
        let mut delivery = Delivery {
            registry,
            out,
            written: round.start,
            last: None,
            left: reported,
            waker_fired: round.waker_fired,
            turns: &mut self.turns,
            probes: &mut self.probes,
            // A wait that could not take every report (each registration's filters and the
            // wakeup fd's, which a wait without the lock may have had to leave room for).
            probing: K::REPORTS_PER_FD > 1 && capacity <= K::REPORTS_PER_FD * registry.len(),
            earlier: round.start,
            entries: round.record.then_some(&mut self.entries),
            came_round: false,
        };
        // The common delivery neither follows an earlier one nor records its entries.
        if delivery.earlier == 0 && delivery.entries.is_none() {
            if delivery.read::<K, false>(kernel, first..positions) {
                delivery.read::<K, false>(kernel, 0..first);
            }
        } else if delivery.read::<K, true>(kernel, first..positions) {
            delivery.read::<K, true>(kernel, 0..first);
        }
        delivery.finish(kernel);
        delivery.complete(kernel);
        let delivered = Delivered {
            entries: delivery.written,
            waker_fired: delivery.waker_fired,
        };
        (delivered, delivery.came_round)
    }
}

/// One delivery in progress.
struct Delivery<'a> {
    registry: &'a Registry,
    out: &'a mut [MaybeUninit<SelEvent>],
    written: usize,
    /// The entry last written and its token, while more reports of its fd may follow (kernels
    /// with several reports per fd only).
    last: Option<(SelEvent, u32)>,
    /// How many more positions say something.
    left: usize,
    waker_fired: bool,
    turns: &'a mut Turns,
    /// The entries that may lack a direction, when `probing`.
    probes: &'a mut Vec<Probe>,
    probing: bool,
    /// How many entries deliveries before this one (of the same select) wrote.
    earlier: usize,
    /// The fd and mask of every entry written, when a top-up may follow.
    entries: Option<&'a mut Vec<(RawFd, u32)>>,
    /// Whether a report said nothing new about an earlier delivery's entry.
    came_round: bool,
}

impl Delivery<'_> {
    /// Reads the answers at `positions`; false once every position that says something is read.
    /// `TRACKED`: whether this delivery follows an earlier one of its select or records its
    /// entries for a top-up; without, the loop (compiled apart) tests for neither per report.
    fn read<K: Reports, const TRACKED: bool>(
        &mut self,
        kernel: &mut K,
        positions: std::ops::Range<usize>,
    ) -> bool {
        for position in positions {
            // Where every position says something (a queue's answer), the count ends with them.
            if !K::REQUEUES && self.left == 0 {
                return false;
            }
            match kernel.answer(position) {
                Answer::Nothing => continue,
                Answer::Waker => {
                    // Again after an earlier delivery of this select: the queue came round.
                    self.came_round |= self.waker_fired;
                    self.waker_fired = true;
                }
                Answer::Ready(report) => {
                    if let Some((key, token)) = self.registry.get_current(report.fd, report.token) {
                        self.add::<K, TRACKED>(kernel, key, token, report.ready, position);
                    }
                }
            }
            self.left -= 1;
        }
        true
    }

    /// Adds what one report says about the registration `key` (token `token`): merged into
    /// the last entry when it is the same fd, else a new entry if there is room.
    fn add<K: Reports, const TRACKED: bool>(
        &mut self,
        kernel: &mut K,
        key: SelKey,
        token: u32,
        ready: u32,
        position: usize,
    ) {
        if K::REPORTS_PER_FD > 1 {
            if self.merged(key.fd, ready) {
                return;
            }
            // A new fd: the last entry is complete.
            self.finish(kernel);
        }
        let mask = ready & key.events;
        if TRACKED && self.earlier > 0 && self.merged_earlier(key, mask) {
            return;
        }
        let Some(slot) = self.out.get_mut(self.written).filter(|_| mask != 0) else {
            return;
        };
        let entry = SelEvent { key, mask };
        slot.write(entry);
        self.written += 1;
        if let Some(entries) = self.entries.as_deref_mut().filter(|_| TRACKED) {
            entries.push((key.fd, mask));
        }
        if !K::REQUEUES {
            *self.turns = Turns {
                next_position: position + 1,
                last_fd: key.fd,
            };
        }
        if K::REPORTS_PER_FD > 1 {
            self.last = Some((entry, token));
        } else if key.events & SEL_EVENT_ONESHOT != 0 {
            kernel.disarm(key.fd, token, key.events, mask);
        }
    }

    /// Merges `ready` into the last entry if it is `fd`'s; whether it was.
    fn merged(&mut self, fd: RawFd, ready: u32) -> bool {
        let Some((last, _)) = &mut self.last else {
            return false;
        };
        if last.key.fd != fd {
            return false;
        }
        last.mask |= ready & last.key.events;
        self.out[self.written - 1].write(*last);
        if let Some(recorded) = self
            .entries
            .as_deref_mut()
            .and_then(|entries| entries.last_mut())
        {
            recorded.1 = last.mask;
        }
        true
    }

    /// Merges `mask` into the entry an earlier delivery of this select wrote for `key`'s fd, if
    /// any; whether there was one. A report that adds nothing to it means that the kernel's
    /// queue came round to the reports already taken (it requeues them behind the others).
    fn merged_earlier(&mut self, key: SelKey, mask: u32) -> bool {
        let Some(entries) = self.entries.as_deref_mut() else {
            return false;
        };
        let Some(index) = entries[..self.earlier]
            .iter()
            .position(|&(fd, _)| fd == key.fd)
        else {
            return false;
        };
        let reported = &mut entries[index].1;
        if mask & !*reported != 0 {
            // An fd's other filter, left in the queue by the wait that took the first one. The
            // lock is held from that delivery on, so the registration is the entry's.
            *reported |= mask;
            self.out[index].write(SelEvent {
                key,
                mask: *reported,
            });
        } else if mask != 0 {
            self.came_round = true;
        }
        true
    }

    /// The last entry is complete: disarm it if it is a oneshot registration, and note what
    /// it may lack when probing.
    fn finish<K: Reports>(&mut self, kernel: &mut K) {
        let Some((entry, token)) = self.last.take() else {
            return;
        };
        let SelEvent { key, mask } = entry;
        if key.events & SEL_EVENT_ONESHOT != 0 {
            kernel.disarm(key.fd, token, key.events, mask);
        }
        let asked = unreported(&entry);
        if self.probing && asked != 0 {
            self.probes.push(Probe {
                fd: key.fd,
                asked,
                ready: 0,
                mask,
                index: self.written - 1,
            });
        }
    }

    /// Asks the kernel about the entries that may lack a direction, and adds what is ready.
    fn complete<K: Reports>(&mut self, kernel: &mut K) {
        if self.probes.is_empty() {
            return;
        }
        kernel.probe(self.probes);
        for probe in self.probes.iter() {
            let found = probe.ready & probe.asked;
            if let Some(key) = self.registry.get(probe.fd).filter(|_| found != 0) {
                self.out[probe.index].write(SelEvent {
                    key,
                    mask: probe.mask | found,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{SEL_EVENT_EDGE, SEL_EVENT_READ as READ, SEL_EVENT_WRITE as WRITE};
    use std::ptr;

    const BOTH: u32 = READ | WRITE;

    /// A kernel answering from a list. `FILTERS`: kqueue-like (a queue, two reports per fd,
    /// side by side); else select/poll-like (its whole set, at stable positions).
    #[derive(Default)]
    struct Fake<const FILTERS: bool> {
        answers: Vec<Answer>,
        disarmed: Vec<(RawFd, u32, u32)>,
        /// What a probe finds ready, and the probes asked.
        ready_now: Vec<(RawFd, u32)>,
        probed: Vec<(RawFd, u32)>,
    }

    impl<const FILTERS: bool> Reports for Fake<FILTERS> {
        const REQUEUES: bool = FILTERS;
        const REPORTS_PER_FD: usize = if FILTERS { 2 } else { 1 };

        fn positions(&self) -> usize {
            self.answers.len()
        }

        fn first_position(&self, turns: &Turns) -> usize {
            match self.answers.len() {
                0 => 0,
                len if !FILTERS => turns.next_position() % len,
                _ => 0,
            }
        }

        fn answer(&self, position: usize) -> Answer {
            self.answers[position]
        }

        fn disarm(&mut self, fd: RawFd, token: u32, _events: u32, mask: u32) {
            self.disarmed.push((fd, token, mask));
        }

        fn probe(&mut self, probes: &mut [Probe]) {
            for probe in probes {
                self.probed.push((probe.fd, probe.asked));
                let now = self.ready_now.iter().find(|(fd, _)| *fd == probe.fd);
                probe.ready = now.map_or(0, |&(_, ready)| ready);
            }
        }
    }

    fn ready(fd: RawFd, token: u32, ready: u32) -> Answer {
        Answer::Ready(Report {
            fd,
            token: Some(token),
            ready,
        })
    }

    /// Registers each `(fd, interest)` with token `fd + 100`.
    fn registry(registrations: &[(RawFd, u32)]) -> Registry {
        let mut registry = Registry::default();
        for &(fd, events) in registrations {
            registry.insert(fd, events, ptr::null_mut(), fd as u32 + 100);
        }
        registry
    }

    /// Delivers the fake's whole answer into a buffer of `room` entries; returns `(fd, mask)`
    /// pairs and whether the waker was seen.
    fn run<const FILTERS: bool>(
        kernel: &mut Fake<FILTERS>,
        registry: &Registry,
        room: usize,
        reporter: &mut Reporter,
    ) -> (Vec<(RawFd, u32)>, bool) {
        let mut out = vec![MaybeUninit::uninit(); room];
        let said = kernel.answers.len();
        let capacity = kernel_capacity::<Fake<FILTERS>>(room, registry.len());
        let delivered = reporter.deliver(kernel, (said, capacity), registry, &mut out);
        written(&out, delivered)
    }

    /// The `(fd, mask)` pairs a delivery wrote into `out`, and whether it saw the waker.
    fn written(out: &[MaybeUninit<SelEvent>], delivered: Delivered) -> (Vec<(RawFd, u32)>, bool) {
        let entries = out[..delivered.entries]
            .iter()
            // SAFETY: a delivery initialises the first `entries` entries of its buffer.
            .map(|entry| unsafe { entry.assume_init() })
            .map(|event| (event.key.fd, event.mask))
            .collect();
        (entries, delivered.waker_fired)
    }

    fn fake<const FILTERS: bool>(answers: &[Answer]) -> Fake<FILTERS> {
        Fake {
            answers: answers.to_vec(),
            ..Fake::default()
        }
    }

    #[test]
    fn read_and_write_of_one_fd_become_one_entry() {
        let registry = registry(&[(5, BOTH), (7, BOTH)]);
        let mut kernel = fake::<true>(&[
            ready(5, 105, READ),
            ready(5, 105, WRITE),
            ready(7, 107, WRITE),
        ]);
        let got = run(&mut kernel, &registry, 2, &mut Reporter::default());
        assert_eq!(got, (vec![(5, BOTH), (7, WRITE)], false));
    }

    #[test]
    fn the_mask_is_the_registered_interest() {
        // A direction the interest no longer asks for (a report racing a modify) is masked out,
        // and an fd left with nothing is not reported at all.
        let registry = registry(&[(3, READ), (4, WRITE)]);
        let mut kernel = fake::<true>(&[
            ready(3, 103, READ),
            ready(3, 103, WRITE),
            ready(4, 104, READ),
        ]);
        let got = run(&mut kernel, &registry, 2, &mut Reporter::default());
        assert_eq!(got.0, [(3, READ)]);
    }

    #[test]
    fn stale_and_foreign_reports_are_dropped_and_the_waker_noted() {
        let registry = registry(&[(3, BOTH), (9, READ)]);
        let mut kernel = fake::<true>(&[
            Answer::Waker,
            Answer::Nothing,
            ready(3, 42, READ), // an earlier registration of fd 3
            ready(3, 103, WRITE),
            ready(8, 108, READ), // not registered
            ready(9, 7, READ),   // stale only
        ]);
        let got = run(&mut kernel, &registry, 2, &mut Reporter::default());
        assert_eq!(got, (vec![(3, WRITE)], true));
    }

    #[test]
    fn reports_without_a_token_match_by_fd() {
        let registry = registry(&[(6, BOTH)]);
        let report = Report {
            fd: 6,
            token: None,
            ready: BOTH,
        };
        let mut kernel = fake::<false>(&[Answer::Ready(report)]);
        let got = run(&mut kernel, &registry, 1, &mut Reporter::default());
        assert_eq!(got.0, [(6, BOTH)]);
    }

    #[test]
    fn a_small_buffer_rotates_over_every_ready_fd() {
        let fds: Vec<RawFd> = (10..17).collect();
        let registry = registry(&fds.iter().map(|&fd| (fd, BOTH)).collect::<Vec<_>>());
        let mut kernel = fake::<false>(&[]);
        kernel.answers = fds
            .iter()
            .map(|&fd| ready(fd, fd as u32 + 100, BOTH))
            .collect();
        kernel.answers.insert(0, Answer::Waker);
        let mut reporter = Reporter::default();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (got, _) = run(&mut kernel, &registry, 3, &mut reporter);
            assert_eq!(got.len(), 3);
            seen.extend(got.into_iter().map(|(fd, _)| fd));
        }
        // Seven ready fds, three per wait: every fd within three waits, then round again.
        assert_eq!(seen, [10, 11, 12, 13, 14, 15, 16, 10, 11]);
    }

    #[test]
    fn rotation_skips_fds_no_longer_ready() {
        let registry = registry(&[(1, READ), (2, READ), (3, READ)]);
        let mut reporter = Reporter::default();
        let mut kernel = fake::<false>(&[
            ready(1, 101, READ),
            ready(2, 102, READ),
            ready(3, 103, READ),
        ]);
        assert_eq!(
            run(&mut kernel, &registry, 2, &mut reporter).0,
            [(1, READ), (2, READ)]
        );
        kernel.answers[2] = Answer::Nothing;
        assert_eq!(run(&mut kernel, &registry, 1, &mut reporter).0, [(1, READ)]);
        assert_eq!(run(&mut kernel, &registry, 1, &mut reporter).0, [(2, READ)]);
    }

    #[test]
    fn a_full_buffer_still_notes_the_waker() {
        let registry = registry(&[(1, READ), (2, READ)]);
        let mut kernel = fake::<false>(&[ready(1, 101, READ), ready(2, 102, READ), Answer::Waker]);
        let got = run(&mut kernel, &registry, 1, &mut Reporter::default());
        assert_eq!(got, (vec![(1, READ)], true));
    }

    #[test]
    fn reading_stops_after_the_reported_count() {
        let registry = registry(&[(1, READ), (2, READ)]);
        let mut kernel =
            fake::<false>(&[ready(1, 101, READ), Answer::Nothing, ready(2, 102, READ)]);
        let mut out = vec![MaybeUninit::uninit(); 2];
        let delivered = Reporter::default().deliver(&mut kernel, (1, 3), &registry, &mut out);
        assert_eq!(delivered.entries, 1);
    }

    #[test]
    fn oneshot_entries_are_disarmed_once_with_their_merged_mask() {
        let oneshot = BOTH | SEL_EVENT_ONESHOT;
        let registry = registry(&[(4, oneshot), (5, READ)]);
        let mut kernel = fake::<true>(&[
            ready(4, 104, READ),
            ready(4, 104, WRITE),
            ready(5, 105, READ),
        ]);
        let got = run(&mut kernel, &registry, 2, &mut Reporter::default());
        assert_eq!(got.0, [(4, BOTH), (5, READ)]);
        assert_eq!(kernel.disarmed, [(4, 104, BOTH)]);
    }

    #[test]
    fn a_partial_wait_probes_the_direction_its_entries_lack() {
        let edge = BOTH | SEL_EVENT_EDGE;
        let registry = registry(&[(5, BOTH), (6, edge), (7, READ), (8, BOTH)]);
        let answers = [
            ready(5, 105, READ),
            ready(6, 106, READ),
            ready(7, 107, READ),
        ];
        let mut kernel = fake::<true>(&answers);
        kernel.ready_now = vec![(5, WRITE), (6, WRITE)];
        // Room for three of four registrations: the wait took three of eight possible reports.
        let got = run(&mut kernel, &registry, 3, &mut Reporter::default());
        assert_eq!(got.0, [(5, BOTH), (6, READ), (7, READ)]);
        // Not the edge-triggered fd (its WRITE stays queued), nor one with all it asked for.
        assert_eq!(kernel.probed, [(5, WRITE)]);
        // With room for every registration every report was taken: nothing to probe.
        let mut kernel = fake::<true>(&answers);
        kernel.ready_now = vec![(5, WRITE)];
        let got = run(&mut kernel, &registry, 4, &mut Reporter::default());
        assert_eq!(got.0, [(5, READ), (6, READ), (7, READ)]);
        assert!(kernel.probed.is_empty());
    }

    #[test]
    fn a_wait_whose_wakeup_took_a_filters_place_probes() {
        // Room for the two filters of the one registration, but the wakeup fd took one place
        // (a wait without the lock is bounded by the buffer, not by every report).
        let registry = registry(&[(5, BOTH)]);
        let mut kernel = fake::<true>(&[Answer::Waker, ready(5, 105, READ)]);
        kernel.ready_now = vec![(5, WRITE)];
        let mut out = vec![MaybeUninit::uninit(); 2];
        let delivered = Reporter::default().deliver(&mut kernel, (2, 2), &registry, &mut out);
        assert_eq!(delivered.entries, 1);
        assert_eq!(kernel.probed, [(5, WRITE)]);
        // SAFETY: deliver initialised the first entry.
        assert_eq!(unsafe { out[0].assume_init() }.mask, BOTH);
    }

    #[test]
    fn nothing_ready_writes_nothing() {
        let registry = registry(&[(1, READ)]);
        let mut reporter = Reporter::default();
        assert_eq!(
            run(&mut fake::<false>(&[]), &registry, 1, &mut reporter).0,
            []
        );
        let nothing = &[Answer::Nothing];
        assert_eq!(
            run(&mut fake::<false>(nothing), &registry, 1, &mut reporter).0,
            []
        );
        assert_eq!(reporter.turns(), Turns::default());
    }

    #[test]
    fn a_buffer_for_every_registration_takes_every_report() {
        assert_eq!(kernel_capacity::<Fake<true>>(0, 0), 1);
        assert_eq!(kernel_capacity::<Fake<true>>(5, 5), 11);
        assert_eq!(kernel_capacity::<Fake<false>>(5, 5), 6);
    }

    #[test]
    fn a_smaller_buffer_takes_only_what_it_can_report_from_a_queue() {
        assert_eq!(kernel_capacity::<Fake<true>>(3, 5), 3);
        assert_eq!(kernel_capacity::<Fake<true>>(1, 20_000), 1);
        // A kernel without a queue answers from its whole set anyway.
        assert_eq!(kernel_capacity::<Fake<false>>(3, 5), 6);
    }

    /// A kernel with a queue of ready reports, as epoll (`PER_FD` 1) and kqueue (2) keep it: a
    /// wait takes the reports at its head, and puts a level-triggered one (`LEVEL`) back at
    /// its tail; what the wait did not take stays at the head.
    #[derive(Default)]
    struct Queued<const PER_FD: usize> {
        queue: std::collections::VecDeque<(Answer, bool)>,
        taken: Vec<Answer>,
        waits: usize,
        disarmed: Vec<RawFd>,
    }

    impl<const PER_FD: usize> Queued<PER_FD> {
        fn new(queue: &[(Answer, bool)]) -> Queued<PER_FD> {
            Queued {
                queue: queue.iter().copied().collect(),
                ..Queued::default()
            }
        }

        fn take(&mut self, capacity: usize) -> usize {
            self.waits += 1;
            self.taken.clear();
            let mut requeued = Vec::new();
            while self.taken.len() < capacity {
                let Some((answer, level)) = self.queue.pop_front() else {
                    break;
                };
                self.taken.push(answer);
                if level {
                    requeued.push((answer, level));
                }
            }
            self.queue.extend(requeued);
            self.taken.len()
        }
    }

    impl<const PER_FD: usize> Reports for Queued<PER_FD> {
        const REQUEUES: bool = true;
        const REPORTS_PER_FD: usize = PER_FD;

        fn positions(&self) -> usize {
            self.taken.len()
        }

        fn first_position(&self, _turns: &Turns) -> usize {
            0
        }

        fn answer(&self, position: usize) -> Answer {
            self.taken[position]
        }

        fn disarm(&mut self, fd: RawFd, _token: u32, _events: u32, _mask: u32) {
            self.disarmed.push(fd);
        }
    }

    impl<const PER_FD: usize> Queue for Queued<PER_FD> {
        fn take_now(&mut self, capacity: usize) -> crate::errno::Result<usize> {
            Ok(self.take(capacity))
        }
    }

    /// A select as a waiter that holds no lock makes it: one wait of [`unlocked_capacity`] for
    /// the `registered_before` fds registered when it starts, then the delivery under the lock,
    /// with its top-ups, for the registrations of `registry`.
    fn select_unlocked<const PER_FD: usize>(
        kernel: &mut Queued<PER_FD>,
        registered_before: usize,
        registry: &Registry,
        room: usize,
    ) -> (Vec<(RawFd, u32)>, bool) {
        let capacity = unlocked_capacity::<Queued<PER_FD>>(room, registered_before);
        let said = (kernel.take(capacity), capacity);
        let mut out = vec![MaybeUninit::uninit(); room];
        let delivered = Reporter::default().deliver_topped_up(kernel, said, registry, &mut out);
        written(&out, delivered)
    }

    const LEVEL: bool = true;
    const ONCE: bool = false;

    #[test]
    fn a_stale_report_never_takes_a_ready_fds_place() {
        // fd 5 closed while a dup kept its file open, its number reused by a new registration
        // (token 105): the old file's report comes first, and the buffer holds one entry.
        let registry = registry(&[(5, READ)]);
        let queue = [(ready(5, 42, READ), LEVEL), (ready(5, 105, READ), LEVEL)];
        let mut kernel = Queued::<1>::new(&queue);
        assert_eq!(select_unlocked(&mut kernel, 1, &registry, 1).0, [(5, READ)]);
    }

    #[test]
    fn the_wakeup_never_takes_a_ready_fds_place() {
        let registry = registry(&[(5, WRITE), (6, WRITE)]);
        let queue = [
            (Answer::Waker, ONCE),
            (ready(5, 105, WRITE), LEVEL),
            (ready(6, 106, WRITE), LEVEL),
        ];
        let mut epoll = Queued::<1>::new(&queue);
        let both = (vec![(5, WRITE), (6, WRITE)], true);
        assert_eq!(select_unlocked(&mut epoll, 2, &registry, 2), both);
        let mut kqueue = Queued::<2>::new(&queue);
        assert_eq!(select_unlocked(&mut kqueue, 2, &registry, 2), both);
    }

    #[test]
    fn a_buffer_smaller_than_the_registrations_is_topped_up_to_its_room() {
        let registry = registry(&[(5, READ), (6, READ), (7, READ)]);
        let mut kernel = Queued::<1>::new(&[
            (Answer::Waker, ONCE),
            (ready(5, 105, READ), LEVEL),
            (ready(6, 106, READ), LEVEL),
            (ready(7, 107, READ), LEVEL),
        ]);
        let got = select_unlocked(&mut kernel, 3, &registry, 2);
        assert_eq!(got, (vec![(5, READ), (6, READ)], true));
        // 7's report was not taken: it leads the queue for the next select.
        assert_eq!(kernel.queue.front(), Some(&(ready(7, 107, READ), LEVEL)));
    }

    #[test]
    fn a_second_filter_never_takes_another_fds_place() {
        let registry = registry(&[(5, BOTH), (6, BOTH), (7, BOTH)]);
        let mut kernel = Queued::<2>::new(&[
            (ready(5, 105, READ), LEVEL),
            (ready(5, 105, WRITE), LEVEL),
            (ready(6, 106, READ), LEVEL),
            (ready(6, 106, WRITE), LEVEL),
            (ready(7, 107, READ), LEVEL),
        ]);
        // The first wait takes three filters of two fds; the top-up, 6's WRITE and then 7.
        let got = select_unlocked(&mut kernel, 3, &registry, 3).0;
        assert_eq!(got, [(5, BOTH), (6, BOTH), (7, READ)]);
    }

    #[test]
    fn top_ups_end_where_the_queue_comes_round() {
        let registry = registry(&[(5, READ), (6, READ), (7, READ)]);
        let mut kernel = Queued::<1>::new(&[
            (Answer::Waker, LEVEL),
            (ready(5, 105, READ), LEVEL),
            (ready(6, 106, READ), LEVEL),
        ]);
        let got = select_unlocked(&mut kernel, 3, &registry, 3);
        assert_eq!(got, (vec![(5, READ), (6, READ)], true));
        // The wait, a top-up that took the wakeup again, and no more.
        assert_eq!(kernel.waits, 2);
    }

    #[test]
    fn top_ups_are_bounded_by_the_registrations() {
        let registry = registry(&[(5, READ)]);
        let stale: Vec<_> = (0..50)
            .map(|token| (ready(5, token, READ), LEVEL))
            .collect();
        let mut kernel = Queued::<1>::new(&stale);
        assert_eq!(select_unlocked(&mut kernel, 1, &registry, 1).0, []);
        assert_eq!(kernel.waits, registry.len() + 2);
    }

    #[test]
    fn a_report_taken_is_always_delivered() {
        // fd 6 (oneshot) registered by another thread during the wait, which counted one fd:
        // its report is taken, so it must be delivered; fd 5's stays queued for the next one.
        let registry = registry(&[(5, READ), (6, READ | SEL_EVENT_ONESHOT)]);
        let mut kernel =
            Queued::<1>::new(&[(ready(6, 106, READ), ONCE), (ready(5, 105, READ), LEVEL)]);
        assert_eq!(select_unlocked(&mut kernel, 1, &registry, 1).0, [(6, READ)]);
        assert_eq!(kernel.disarmed, [6]);
        assert_eq!(kernel.queue.len(), 1);
    }

    #[test]
    fn a_wait_that_is_not_full_is_not_topped_up() {
        let registry = registry(&[(5, READ), (6, READ)]);
        let mut kernel = Queued::<2>::new(&[(ready(5, 105, READ), LEVEL)]);
        assert_eq!(select_unlocked(&mut kernel, 2, &registry, 2).0, [(5, READ)]);
        assert_eq!(kernel.waits, 1);
    }
}
