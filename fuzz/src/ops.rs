//! What a fuzz input decodes to: a sequence of C API calls and of things done to the fds behind
//! the selectors' backs.
//!
//! The format is our own so that seeds can be written from readable scenarios
//! ([`encode`], used by `write_seeds`): every operation is [`OP_BYTES`] bytes, an opcode and its
//! arguments; any bytes decode, so libFuzzer's mutations always make a valid input.

/// Bytes per operation.
pub const OP_BYTES: usize = 6;

/// Every input runs at most this many operations, so one input stays fast.
pub const MOST_OPS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fd {
    /// A number the input opened (index modulo how many it opened), open or closed by now.
    Opened(u8),
    /// `/dev/null`: select and poll accept it, epoll refuses it.
    DevNull,
    /// A negative value: `-1 - n`, or `i32::MIN` for 255.
    Negative(u8),
    /// A number at or above FD_SETSIZE (`1024 + 37 n`), never open here.
    AboveSetSize(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    Read,
    Write,
    Both,
    /// Invalid bits (n < 64): 0 for 0, all bits for 63, else bits beyond READ|WRITE, some
    /// mixed with valid ones.
    Invalid(u8),
}

impl Events {
    pub fn bits(self) -> u32 {
        match self {
            Events::Read => selectors::SEL_EVENT_READ,
            Events::Write => selectors::SEL_EVENT_WRITE,
            Events::Both => selectors::SEL_EVENT_READ | selectors::SEL_EVENT_WRITE,
            Events::Invalid(0) => 0,
            Events::Invalid(63) => u32::MAX,
            Events::Invalid(n) => u32::from(n) << 2 | u32::from(n & 3),
        }
    }
}

/// Where a key is written: nowhere, an aligned key, or a key at an odd address (the contract
/// does not require alignment of `key_out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOut {
    Null,
    Aligned,
    Misaligned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    Zero,
    NegativeZero,
    /// Half a millisecond: a real, short wait.
    Tiny,
    /// -1: for ever. Used only when the model says something is ready (else it would hang).
    Forever,
    /// +inf: for ever, with the same proviso.
    Infinity,
    Nan,
}

/// A call with a NULL selector; each has a fixed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullCall {
    Register,
    Modify,
    Unregister,
    Select,
    GetKey,
    GetMap,
    KindOf,
    Fileno,
    Wakeup,
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    OpenPair,
    Register {
        fd: Fd,
        events: Events,
        /// The data pointer: 0 is NULL, 255 `usize::MAX`, else `n * 0x1001` (odd addresses).
        data: u8,
        key_out: KeyOut,
    },
    Modify {
        fd: Fd,
        events: Events,
        data: u8,
        key_out: KeyOut,
    },
    Unregister {
        fd: Fd,
        key_out: KeyOut,
    },
    GetKey {
        fd: Fd,
        key_out: KeyOut,
    },
    GetMap {
        cap: u8,
        null_keys: bool,
    },
    Select {
        timeout: Timeout,
        max_events: u8,
        null_events: bool,
    },
    /// Writes `257 n` bytes (as many as fit) to an opened fd, making its peer readable.
    Write {
        fd: u8,
        len: u8,
    },
    /// Writes until the socket buffer is full, making the fd unwritable.
    Fill {
        fd: u8,
    },
    /// Reads up to `257 n` bytes (at least one).
    Read {
        fd: u8,
        len: u8,
    },
    /// `shutdown(fd, how % 3)`: half and full hang-ups.
    Shutdown {
        fd: u8,
        how: u8,
    },
    /// `close(fd)` without unregistering it.
    CloseBehindBack {
        fd: u8,
    },
    /// `dup2(from, onto)` over an open (maybe registered) number.
    Dup2 {
        from: u8,
        onto: u8,
    },
    Wakeup,
    Null(NullCall),
    /// `sel_new` with any kind and flags (made and closed again when it succeeds).
    New {
        kind: i8,
        flags: u8,
    },
}

/// The data pointer value an input's byte stands for.
pub fn data_value(data: u8) -> usize {
    match data {
        0 => 0,
        255 => usize::MAX,
        n => usize::from(n) * 0x1001,
    }
}

/// The fd value an input's [`Fd`] stands for, except `Opened` and `DevNull`, which depend on
/// what the input opened.
pub fn fixed_fd(fd: Fd) -> Option<i32> {
    match fd {
        Fd::Negative(255) => Some(i32::MIN),
        Fd::Negative(n) => Some(-1 - i32::from(n)),
        Fd::AboveSetSize(n) => Some(1024 + 37 * i32::from(n)),
        Fd::Opened(_) | Fd::DevNull => None,
    }
}

const TIMEOUTS: [Timeout; 8] = [
    Timeout::Zero,
    Timeout::Zero,
    Timeout::Zero,
    Timeout::NegativeZero,
    Timeout::Tiny,
    Timeout::Forever,
    Timeout::Infinity,
    Timeout::Nan,
];

const NULL_CALLS: [NullCall; 10] = [
    NullCall::Register,
    NullCall::Modify,
    NullCall::Unregister,
    NullCall::Select,
    NullCall::GetKey,
    NullCall::GetMap,
    NullCall::KindOf,
    NullCall::Fileno,
    NullCall::Wakeup,
    NullCall::Close,
];

const KEY_OUTS: [KeyOut; 3] = [KeyOut::Null, KeyOut::Aligned, KeyOut::Misaligned];

fn index_of<T: PartialEq>(table: &[T], value: &T) -> u8 {
    table
        .iter()
        .position(|entry| entry == value)
        .expect("in the table") as u8
}

fn decode_fd(tag: u8, value: u8) -> Fd {
    match tag % 8 {
        0..=4 => Fd::Opened(value),
        5 => Fd::DevNull,
        6 => Fd::Negative(value),
        _ => Fd::AboveSetSize(value),
    }
}

fn encode_fd(fd: Fd) -> [u8; 2] {
    match fd {
        Fd::Opened(value) => [0, value],
        Fd::DevNull => [5, 0],
        Fd::Negative(value) => [6, value],
        Fd::AboveSetSize(value) => [7, value],
    }
}

fn decode_events(byte: u8) -> Events {
    match byte % 4 {
        0 => Events::Read,
        1 => Events::Write,
        2 => Events::Both,
        _ => Events::Invalid(byte >> 2),
    }
}

fn encode_events(events: Events) -> u8 {
    match events {
        Events::Read => 0,
        Events::Write => 1,
        Events::Both => 2,
        Events::Invalid(n) => 3 | n << 2,
    }
}

/// The operations an input stands for: one per [`OP_BYTES`] bytes, at most [`MOST_OPS`].
pub fn decode(bytes: &[u8]) -> Vec<Op> {
    bytes
        .chunks_exact(OP_BYTES)
        .take(MOST_OPS)
        .map(|op| decode_op([op[0], op[1], op[2], op[3], op[4], op[5]]))
        .collect()
}

fn decode_op([code, a, b, c, d, e]: [u8; OP_BYTES]) -> Op {
    let key_out = |byte: u8| KEY_OUTS[usize::from(byte) % KEY_OUTS.len()];
    match code % 17 {
        0 => Op::OpenPair,
        1 => Op::Register {
            fd: decode_fd(a, b),
            events: decode_events(c),
            data: d,
            key_out: key_out(e),
        },
        2 => Op::Modify {
            fd: decode_fd(a, b),
            events: decode_events(c),
            data: d,
            key_out: key_out(e),
        },
        3 => Op::Unregister {
            fd: decode_fd(a, b),
            key_out: key_out(c),
        },
        4 => Op::GetKey {
            fd: decode_fd(a, b),
            key_out: key_out(c),
        },
        5 => Op::GetMap {
            cap: a,
            null_keys: b & 1 == 1,
        },
        6 => Op::Select {
            timeout: TIMEOUTS[usize::from(a) % TIMEOUTS.len()],
            max_events: b,
            null_events: c & 0x80 != 0 && c & 0x40 != 0,
        },
        7 => Op::Write { fd: a, len: b },
        8 => Op::Fill { fd: a },
        9 => Op::Read { fd: a, len: b },
        10 => Op::Shutdown { fd: a, how: b % 3 },
        11 => Op::CloseBehindBack { fd: a },
        12 => Op::Dup2 { from: a, onto: b },
        13 => Op::Wakeup,
        14 => Op::Null(NULL_CALLS[usize::from(a) % NULL_CALLS.len()]),
        15 => Op::New {
            kind: a as i8,
            flags: b,
        },
        // A second opcode for select, the call whose results say the most.
        _ => Op::Select {
            timeout: Timeout::Zero,
            max_events: a,
            null_events: false,
        },
    }
}

/// The bytes that [`decode`] turns back into `ops`: how seeds are written.
pub fn encode(ops: &[Op]) -> Vec<u8> {
    ops.iter().flat_map(|op| encode_op(*op)).collect()
}

fn encode_op(op: Op) -> [u8; OP_BYTES] {
    let key = |key_out: KeyOut| index_of(&KEY_OUTS, &key_out);
    match op {
        Op::OpenPair => [0; OP_BYTES],
        Op::Register {
            fd,
            events,
            data,
            key_out,
        } => {
            let [tag, value] = encode_fd(fd);
            [1, tag, value, encode_events(events), data, key(key_out)]
        }
        Op::Modify {
            fd,
            events,
            data,
            key_out,
        } => {
            let [tag, value] = encode_fd(fd);
            [2, tag, value, encode_events(events), data, key(key_out)]
        }
        Op::Unregister { fd, key_out } => {
            let [tag, value] = encode_fd(fd);
            [3, tag, value, key(key_out), 0, 0]
        }
        Op::GetKey { fd, key_out } => {
            let [tag, value] = encode_fd(fd);
            [4, tag, value, key(key_out), 0, 0]
        }
        Op::GetMap { cap, null_keys } => [5, cap, u8::from(null_keys), 0, 0, 0],
        Op::Select {
            timeout,
            max_events,
            null_events,
        } => [
            6,
            index_of(&TIMEOUTS, &timeout),
            max_events,
            if null_events { 0xC0 } else { 0 },
            0,
            0,
        ],
        Op::Write { fd, len } => [7, fd, len, 0, 0, 0],
        Op::Fill { fd } => [8, fd, 0, 0, 0, 0],
        Op::Read { fd, len } => [9, fd, len, 0, 0, 0],
        Op::Shutdown { fd, how } => [10, fd, how % 3, 0, 0, 0],
        Op::CloseBehindBack { fd } => [11, fd, 0, 0, 0, 0],
        Op::Dup2 { from, onto } => [12, from, onto, 0, 0, 0],
        Op::Wakeup => [13, 0, 0, 0, 0, 0],
        Op::Null(call) => [14, index_of(&NULL_CALLS, &call), 0, 0, 0, 0],
        Op::New { kind, flags } => [15, kind as u8, flags, 0, 0, 0],
    }
}
