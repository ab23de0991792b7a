//! Hand-written inputs: the seed corpus (`write_seeds` encodes them into `corpus/`) and
//! regression tests (`tests/scenarios.rs`). They reach the states a random walk finds slowly:
//! ready sets of every shape, hang-ups, closes and `dup2` behind the selectors' backs.

use crate::ops::{Events, Fd, KeyOut, NullCall, Op, Timeout};

fn register(fd: u8, events: Events) -> Op {
    Op::Register {
        fd: Fd::Opened(fd),
        events,
        data: 16 + fd,
        key_out: KeyOut::Misaligned,
    }
}

fn modify(fd: u8, events: Events) -> Op {
    Op::Modify {
        fd: Fd::Opened(fd),
        events,
        data: 32 + fd,
        key_out: KeyOut::Aligned,
    }
}

fn unregister(fd: u8) -> Op {
    Op::Unregister {
        fd: Fd::Opened(fd),
        key_out: KeyOut::Aligned,
    }
}

fn select(max_events: u8) -> Op {
    Op::Select {
        timeout: Timeout::Zero,
        max_events,
        null_events: false,
    }
}

/// Scenarios the library passes: the seed corpus.
pub fn seeds() -> Vec<(&'static str, Vec<Op>)> {
    vec![
        (
            "ready_sets",
            vec![
                Op::OpenPair,
                Op::OpenPair,
                register(0, Events::Read),
                register(2, Events::Both),
                Op::Write { fd: 1, len: 1 },
                select(8),
                select(1),
                Op::Fill { fd: 2 },
                select(8),
                Op::Shutdown { fd: 3, how: 1 },
                select(8),
                Op::Read { fd: 0, len: 4 },
                select(8),
                Op::Shutdown { fd: 3, how: 2 },
                select(8),
                Op::GetMap {
                    cap: 1,
                    null_keys: false,
                },
            ],
        ),
        (
            "bad_arguments",
            vec![
                Op::OpenPair,
                Op::Register {
                    fd: Fd::Negative(0),
                    events: Events::Invalid(0),
                    data: 0,
                    key_out: KeyOut::Null,
                },
                Op::Register {
                    fd: Fd::Negative(255),
                    events: Events::Read,
                    data: 255,
                    key_out: KeyOut::Null,
                },
                Op::Register {
                    fd: Fd::AboveSetSize(0),
                    events: Events::Write,
                    data: 1,
                    key_out: KeyOut::Aligned,
                },
                Op::Register {
                    fd: Fd::DevNull,
                    events: Events::Both,
                    data: 2,
                    key_out: KeyOut::Misaligned,
                },
                register(0, Events::Invalid(63)),
                register(0, Events::Invalid(5)),
                register(0, Events::Read),
                register(0, Events::Write),
                Op::Modify {
                    fd: Fd::Opened(1),
                    events: Events::Invalid(0),
                    data: 3,
                    key_out: KeyOut::Null,
                },
                Op::Modify {
                    fd: Fd::Opened(0),
                    events: Events::Invalid(0),
                    data: 3,
                    key_out: KeyOut::Null,
                },
                Op::GetKey {
                    fd: Fd::Negative(3),
                    key_out: KeyOut::Aligned,
                },
                Op::Select {
                    timeout: Timeout::Nan,
                    max_events: 4,
                    null_events: false,
                },
                Op::Select {
                    timeout: Timeout::Zero,
                    max_events: 0,
                    null_events: false,
                },
                Op::Select {
                    timeout: Timeout::Zero,
                    max_events: 4,
                    null_events: true,
                },
                Op::GetMap {
                    cap: 0,
                    null_keys: true,
                },
                Op::Null(NullCall::Register),
                Op::Null(NullCall::Select),
                Op::Null(NullCall::GetMap),
                Op::Null(NullCall::Close),
                Op::New { kind: -1, flags: 0 },
                Op::New { kind: 4, flags: 0 },
                Op::New { kind: 0, flags: 2 },
                Op::New { kind: 3, flags: 1 },
                select(4),
            ],
        ),
        (
            "closed_behind_the_back_then_reused",
            vec![
                Op::OpenPair,
                register(0, Events::Read),
                Op::Write { fd: 1, len: 1 },
                Op::CloseBehindBack { fd: 0 },
                select(4),
                Op::OpenPair,
                select(4),
                modify(0, Events::Write),
                select(4),
                unregister(0),
                register(0, Events::Both),
                select(4),
            ],
        ),
        (
            "dup2_over_a_registered_number",
            vec![
                Op::OpenPair,
                Op::OpenPair,
                register(0, Events::Read),
                Op::Dup2 { from: 2, onto: 0 },
                Op::Write { fd: 3, len: 1 },
                select(4),
                Op::Write { fd: 1, len: 1 },
                select(4),
                modify(0, Events::Both),
                select(4),
            ],
        ),
        (
            "a_closed_file_kept_alive_by_a_dup",
            vec![
                Op::OpenPair,
                Op::OpenPair,
                register(0, Events::Read),
                Op::Dup2 { from: 0, onto: 2 },
                Op::CloseBehindBack { fd: 0 },
                Op::Write { fd: 1, len: 1 },
                select(4),
                unregister(0),
                Op::OpenPair,
                register(0, Events::Read),
                select(4),
                Op::Dup2 { from: 2, onto: 0 },
                select(4),
            ],
        ),
        (
            "pending_wakeup_and_small_buffers",
            vec![
                Op::OpenPair,
                Op::OpenPair,
                Op::OpenPair,
                register(0, Events::Write),
                register(2, Events::Write),
                register(4, Events::Write),
                Op::Wakeup,
                select(1),
                select(1),
                select(8),
                Op::Select {
                    timeout: Timeout::Forever,
                    max_events: 2,
                    null_events: false,
                },
                Op::Select {
                    timeout: Timeout::Tiny,
                    max_events: 2,
                    null_events: false,
                },
            ],
        ),
        (
            // epoll keys its entries on (file, number). A file closed at its registered number
            // while a dup keeps it alive leaves a stale entry; once that file is back at the
            // number, a change of events (EPOLL_CTL_MOD) lands on the stale entry, while the
            // entry of the file registered there meanwhile is still in the set: the fd must
            // still be reported once per call. (Found by this fuzzer; the library reported it
            // twice, and another ready fd not at all, until epoll took a new generation on
            // every change of events.)
            "stale_entry_revived_by_modify",
            vec![
                Op::OpenPair, // indices 0, 1: file F at number N (index 0)
                Op::OpenPair, // indices 2, 3
                register(0, Events::Read),
                Op::Dup2 { from: 0, onto: 2 }, // F also at index 2
                Op::CloseBehindBack { fd: 0 },
                unregister(0), // EPOLL_CTL_DEL fails (EBADF): (F, N) stays
                Op::OpenPair,  // file G at N (index 0 again), its peer at index 4
                register(0, Events::Read),
                Op::Dup2 { from: 0, onto: 3 }, // G also at index 3
                Op::Dup2 { from: 2, onto: 0 }, // F back at N; (G, N) still in the set
                modify(0, Events::Write),      // retags (F, N), not (G, N)
                Op::CloseBehindBack { fd: 4 }, // G's peer hangs up: G is ready
                Op::OpenPair,
                register(5, Events::Write), // another ready fd, so there is room for more than one
                select(8),
            ],
        ),
        (
            // KQUEUE watches an fd as two filters, and a buffer smaller than the registrations
            // takes that many reports from the kernel: one filter of the fd ready both ways came
            // back alone, call after call, so its entry said READ while it was writable too.
            // (Found by this fuzzer on libkqueue; now the other direction is asked of poll(2).)
            "small_buffer_and_an_fd_ready_both_ways",
            vec![
                Op::OpenPair,
                Op::OpenPair,
                Op::OpenPair,
                register(0, Events::Both),
                register(2, Events::Both),
                register(4, Events::Both),
                Op::Write { fd: 1, len: 1 },
                select(1),
                select(1),
                select(1),
                select(2),
                select(2),
                Op::CloseBehindBack { fd: 3 }, // a hang-up: READ and WRITE for index 2
                select(1),
                select(1),
                select(1),
            ],
        ),
    ]
}
