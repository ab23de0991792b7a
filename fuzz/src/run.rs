//! Runs a decoded input through the C API on a selector of every kind of this build at once
//! (SELECT, POLL, EPOLL, and KQUEUE with the `libkqueue` feature) and checks every result
//! against each kind's model; any difference panics, which libFuzzer
//! reports as a crash with the input that caused it.

use std::ffi::c_void;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::RawFd;
use std::ptr;

use selectors::ffi::*;
use selectors::shared::SharedSelector;
use selectors::{SelEvent, SelKey};

use crate::model::{Expected, Key, Kind, Model, Outcome};
use crate::ops::{data_value, fixed_fd, Fd, KeyOut, NullCall, Op, Timeout};
use crate::world::World;

/// Room for a key at an odd address, and for one at an aligned one.
#[repr(C, align(8))]
struct KeyBuffer([u8; size_of::<SelKey>() + 1]);

/// A place the C API writes a key to, and what it holds afterwards.
struct KeySlot {
    choice: KeyOut,
    buffer: KeyBuffer,
}

impl KeySlot {
    fn new(choice: KeyOut) -> KeySlot {
        KeySlot {
            choice,
            buffer: KeyBuffer([0xA5; size_of::<SelKey>() + 1]),
        }
    }

    fn pointer(&mut self) -> *mut SelKey {
        let base = self.buffer.0.as_mut_ptr();
        match self.choice {
            KeyOut::Null => ptr::null_mut(),
            KeyOut::Aligned => base.cast(),
            // SAFETY: one byte into a buffer one byte longer than a key.
            KeyOut::Misaligned => unsafe { base.add(1) }.cast(),
        }
    }

    /// The key written, if the call was given a place for one.
    fn written(&mut self) -> Option<SelKey> {
        let pointer = self.pointer();
        // SAFETY: the buffer holds a key's bytes at `pointer`; they are plain data.
        (!pointer.is_null()).then(|| unsafe { pointer.read_unaligned() })
    }
}

struct Selectors {
    /// Opaque handles (the C API's `sel_selector *`), cast back at each call.
    handles: Vec<*mut c_void>,
    models: Vec<Model>,
    /// Selectors no longer driven or checked, closed with the others at the end of the input:
    /// closing a KQUEUE selector mid-input would free libkqueue's fds only later, from its own
    /// thread, so a number the input closed could look open for a while to the other kinds.
    retired: Vec<*mut c_void>,
}

impl Selectors {
    /// Stops driving and checking the selectors whose model cannot follow `fd` being closed or
    /// replaced behind their backs (see [`Model::loses_track_at_close`]).
    fn retire_those_losing_track_of(&mut self, fd: RawFd) {
        while let Some(index) = self
            .models
            .iter()
            .position(|model| model.loses_track_at_close(fd))
        {
            self.models.remove(index);
            self.retired.push(self.handles.remove(index));
        }
    }
}

impl Drop for Selectors {
    fn drop(&mut self) {
        for handle in self.handles.drain(..).chain(self.retired.drain(..)) {
            // SAFETY: made by sel_new, closed once.
            assert_eq!(unsafe { sel_close(handle.cast()) }, 0);
        }
    }
}

/// Runs one input. The selectors are made before any fd of the input, so a number the input
/// opens never belongs to a selector.
pub fn run(ops: &[Op]) {
    let mut selectors = Selectors {
        handles: Vec::new(),
        models: Vec::new(),
        retired: Vec::new(),
    };
    for &kind in Kind::ALL {
        let handle = sel_new(kind.raw(), 0);
        assert!(
            !handle.is_null(),
            "sel_new({kind:?}): {}",
            std::io::Error::last_os_error()
        );
        selectors.handles.push(handle.cast());
        selectors.models.push(Model::new(kind));
    }
    let mut world = World::default();
    for (step, op) in ops.iter().enumerate() {
        apply(&mut selectors, &mut world, *op, step);
        for (handle, model) in selectors.handles.iter().zip(&selectors.models) {
            check_map(*handle, model, step, op);
        }
    }
}

fn resolve(world: &mut World, fd: Fd) -> RawFd {
    match fd {
        Fd::Opened(choice) => world.pick(choice),
        Fd::DevNull => world.dev_null(),
        fixed => fixed_fd(fixed).expect("a fixed fd value"),
    }
}

fn data_pointer(data: usize) -> *mut c_void {
    data as *mut c_void
}

/// Checks a call that yields a key against the model's outcome.
fn check_key_call(
    what: &str,
    kind: Kind,
    fd: RawFd,
    rc: i32,
    slot: &mut KeySlot,
    expected: Outcome<Key>,
) {
    let expected_rc = expected.err().unwrap_or(0);
    assert_eq!(rc, expected_rc, "{what}({fd}) on {kind:?}: return code");
    if let (Ok(key), Some(written)) = (expected, slot.written()) {
        assert_eq!(
            written,
            SelKey {
                fd,
                events: key.events,
                data: data_pointer(key.data)
            },
            "{what}({fd}) on {kind:?}: key written"
        );
    }
}

/// The C signature `sel_register` and `sel_modify` share.
type KeyChange =
    unsafe extern "C" fn(*mut SharedSelector, RawFd, u32, *mut c_void, *mut SelKey) -> i32;

/// One `sel_register` or `sel_modify` (`call`) on every selector, checked against the same
/// change on its model (`model_call`).
fn change_key<'a>(
    name: &str,
    pairs: impl Iterator<Item = (&'a *mut c_void, &'a mut Model)>,
    world: &World,
    (fd, events, data, key_out): (RawFd, u32, usize, KeyOut),
    call: KeyChange,
    model_call: fn(&mut Model, &World, RawFd, u32, usize) -> Outcome<Key>,
) {
    for (handle, model) in pairs {
        let mut slot = KeySlot::new(key_out);
        // SAFETY: a live selector; the slot has room for a key.
        let rc = unsafe {
            call(
                (*handle).cast(),
                fd,
                events,
                data_pointer(data),
                slot.pointer(),
            )
        };
        let expected = model_call(model, world, fd, events, data);
        check_key_call(name, model.kind, fd, rc, &mut slot, expected);
    }
}

fn apply(selectors: &mut Selectors, world: &mut World, op: Op, step: usize) {
    let handles = selectors.handles.clone();
    let pairs = handles.iter().zip(selectors.models.iter_mut());
    match op {
        Op::OpenPair => world.open_pair(),
        Op::Register {
            fd,
            events,
            data,
            key_out,
        } => {
            let args = (resolve(world, fd), events.bits(), data_value(data), key_out);
            change_key(
                "register",
                pairs,
                world,
                args,
                sel_register,
                Model::register,
            );
        }
        Op::Modify {
            fd,
            events,
            data,
            key_out,
        } => {
            let args = (resolve(world, fd), events.bits(), data_value(data), key_out);
            change_key("modify", pairs, world, args, sel_modify, Model::modify);
        }
        Op::Unregister { fd, key_out } => {
            let fd = resolve(world, fd);
            for (handle, model) in pairs {
                let mut slot = KeySlot::new(key_out);
                // SAFETY: a live selector; the slot has room for a key.
                let rc = unsafe { sel_unregister((*handle).cast(), fd, slot.pointer()) };
                let expected = model.unregister(world, fd);
                check_key_call("unregister", model.kind, fd, rc, &mut slot, expected);
            }
        }
        Op::GetKey { fd, key_out } => {
            let fd = resolve(world, fd);
            for (handle, model) in pairs {
                let mut slot = KeySlot::new(key_out);
                // SAFETY: as above.
                let rc = unsafe { sel_get_key((*handle).cast(), fd, slot.pointer()) };
                check_key_call("get_key", model.kind, fd, rc, &mut slot, model.get_key(fd));
            }
        }
        Op::GetMap { cap, null_keys } => {
            for (handle, model) in pairs {
                let mut keys = vec![SelKey::without_data(-7, 0); usize::from(cap)];
                let pointer = if null_keys {
                    ptr::null_mut()
                } else {
                    keys.as_mut_ptr()
                };
                // SAFETY: `pointer` is NULL or has room for `cap` keys.
                let total = unsafe { sel_get_map((*handle).cast(), pointer, usize::from(cap)) };
                assert_eq!(
                    total,
                    model.keys().len(),
                    "get_map on {:?}: total",
                    model.kind
                );
                if !null_keys {
                    check_keys(&keys[..total.min(keys.len())], model);
                }
            }
        }
        Op::Select {
            timeout,
            max_events,
            null_events,
        } => {
            for (handle, model) in pairs {
                select_and_check(
                    *handle,
                    model,
                    world,
                    timeout,
                    max_events,
                    null_events,
                    step,
                );
            }
        }
        Op::Write { fd, len } => {
            write_some(world.pick(fd), usize::from(len) * 257);
        }
        Op::Fill { fd } => while write_some(world.pick(fd), 65_536) {},
        Op::Read { fd, len } => {
            let mut buffer = vec![0u8; (usize::from(len) * 257).max(1)];
            if world.file_at(world.pick(fd)).is_some() {
                // SAFETY: reads into a live buffer of its length.
                unsafe { libc::read(world.pick(fd), buffer.as_mut_ptr().cast(), buffer.len()) };
            }
        }
        Op::Shutdown { fd, how } => {
            if world.file_at(world.pick(fd)).is_some() {
                // SAFETY: an fd of this input; errors (ENOTSOCK on /dev/null) are fine.
                unsafe { libc::shutdown(world.pick(fd), i32::from(how % 3)) };
            }
        }
        Op::CloseBehindBack { fd } => {
            if world.file_at(world.pick(fd)).is_some() {
                selectors.retire_those_losing_track_of(world.pick(fd));
            }
            if let Some(died) = world.close(world.pick(fd)) {
                selectors
                    .models
                    .iter_mut()
                    .for_each(|model| model.file_died(died));
            }
        }
        Op::Dup2 { from, onto } => {
            let (from, onto) = (world.pick(from), world.pick(onto));
            if from != onto && world.file_at(from).is_some() && world.file_at(onto).is_some() {
                selectors.retire_those_losing_track_of(onto);
            }
            if let Some(died) = world.dup2(from, onto) {
                selectors
                    .models
                    .iter_mut()
                    .for_each(|model| model.file_died(died));
            }
        }
        Op::Wakeup => {
            for (handle, model) in pairs {
                // SAFETY: a live selector.
                assert_eq!(unsafe { sel_wakeup((*handle).cast()) }, 0);
                model.wakeup_maybe_pending = true;
            }
        }
        Op::Null(call) => null_call(call),
        Op::New { kind, flags } => new_selector(i32::from(kind), u32::from(flags)),
    }
}

/// Writes up to `len` bytes to `fd` if the input holds it open; whether all of it was taken.
fn write_some(fd: RawFd, len: usize) -> bool {
    static ZEROS: [u8; 65_536] = [0; 65_536];
    let len = len.min(ZEROS.len());
    if fd < 0 || len == 0 {
        return false;
    }
    // SAFETY: MSG_DONTWAIT|MSG_NOSIGNAL send from a static buffer; errors (ENOTSOCK, EPIPE,
    // EAGAIN, EBADF for a closed number) only mean nothing was written.
    let sent = unsafe {
        libc::send(
            fd,
            ZEROS.as_ptr().cast(),
            len,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    sent == len as isize
}

fn check_keys(keys: &[SelKey], model: &Model) {
    let expected: Vec<SelKey> = model
        .keys()
        .iter()
        .take(keys.len())
        .map(|(fd, key)| SelKey {
            fd: *fd,
            events: key.events,
            data: data_pointer(key.data),
        })
        .collect();
    assert_eq!(keys, expected, "get_map on {:?}: keys", model.kind);
}

/// After every operation the map is exactly the model's registrations, ascending.
fn check_map(handle: *mut c_void, model: &Model, step: usize, op: &Op) {
    // SAFETY: a live selector; NULL with 0 sizes.
    let total = unsafe { sel_get_map(handle.cast(), ptr::null_mut(), 0) };
    assert_eq!(
        total,
        model.keys().len(),
        "map size on {:?} after step {step} {op:?}",
        model.kind
    );
    let mut keys = vec![SelKey::without_data(-7, 0); total];
    // SAFETY: room for `total` keys.
    assert_eq!(
        unsafe { sel_get_map(handle.cast(), keys.as_mut_ptr(), total) },
        total
    );
    check_keys(&keys, model);
}

fn select_and_check(
    handle: *mut c_void,
    model: &mut Model,
    world: &World,
    timeout: Timeout,
    max_events: u8,
    null_events: bool,
    step: usize,
) {
    let kind = model.kind;
    let expected = model.expected_select(world, usize::from(max_events));
    let something_ready = match &expected {
        Expected::Error(_) => true,
        Expected::Ready { masks, .. } => !masks.is_empty(),
    };
    let seconds = match timeout {
        Timeout::Zero => 0.0,
        Timeout::NegativeZero => -0.0,
        Timeout::Tiny => 0.0005,
        Timeout::Forever if something_ready => -1.0,
        Timeout::Infinity if something_ready => f64::INFINITY,
        Timeout::Forever | Timeout::Infinity => 0.0,
        Timeout::Nan => f64::NAN,
    };
    let max = usize::from(max_events);
    let mut events = vec![MaybeUninit::<SelEvent>::uninit(); max.max(1)];
    let pointer = if null_events {
        ptr::null_mut()
    } else {
        events.as_mut_ptr().cast()
    };
    // SAFETY: a live selector; `pointer` is NULL or has room for `max` entries.
    let rc = unsafe { sel_select(handle.cast(), seconds, pointer, max) };
    if null_events || max == 0 || seconds.is_nan() {
        assert_eq!(rc, -libc::EINVAL, "select on {kind:?} with bad arguments");
        return;
    }
    let room = max.min(model.keys().len());
    model.selected(rc, room);
    match expected {
        Expected::Error(err) => assert_eq!(rc, err, "select on {kind:?} at step {step}"),
        Expected::Ready {
            masks,
            may_fall_short,
        } => {
            assert!(
                rc >= 0,
                "select on {kind:?} at step {step}: {rc}, expected {masks:?}"
            );
            let count = rc as usize;
            let fits = masks.len().min(max);
            if may_fall_short {
                assert!(
                    count <= fits,
                    "select on {kind:?}: {count} entries, at most {fits}"
                );
            } else {
                assert_eq!(
                    count, fits,
                    "select on {kind:?} at step {step}: entries for {masks:?}"
                );
            }
            let mut seen = Vec::new();
            for entry in &events[..count] {
                // SAFETY: sel_select initialised the first `count` entries.
                let event = unsafe { entry.assume_init() };
                let fd = event.key.fd;
                assert!(
                    !seen.contains(&fd),
                    "select on {kind:?}: fd {fd} reported twice"
                );
                seen.push(fd);
                let key = model.keys().get(&fd).copied();
                let key = key.unwrap_or_else(|| panic!("select on {kind:?}: unregistered fd {fd}"));
                assert_eq!(
                    (event.key.events, event.key.data),
                    (key.events, data_pointer(key.data)),
                    "select on {kind:?}: key of fd {fd}"
                );
                assert_eq!(
                    Some(&event.mask),
                    masks.get(&fd),
                    "select on {kind:?} at step {step}: mask of fd {fd}, expected {masks:?}"
                );
            }
        }
    }
}

/// Every call with a NULL selector has a fixed answer, and touches nothing.
fn null_call(call: NullCall) {
    let null = ptr::null_mut();
    let mut key = SelKey::without_data(0, 0);
    let mut events = [MaybeUninit::<SelEvent>::uninit(); 2];
    let einval = -libc::EINVAL;
    // SAFETY: NULL selectors are allowed by the contract; the buffers are live.
    unsafe {
        match call {
            NullCall::Register => {
                assert_eq!(sel_register(null, 0, 1, null.cast(), &mut key), einval)
            }
            NullCall::Modify => assert_eq!(sel_modify(null, 0, 1, null.cast(), &mut key), einval),
            NullCall::Unregister => assert_eq!(sel_unregister(null, 0, &mut key), einval),
            NullCall::Select => {
                assert_eq!(sel_select(null, 0.0, events.as_mut_ptr().cast(), 2), einval)
            }
            NullCall::GetKey => assert_eq!(sel_get_key(null, 0, &mut key), einval),
            NullCall::GetMap => assert_eq!(sel_get_map(null, &mut key, 1), 0),
            NullCall::KindOf => assert_eq!(sel_kind_of(null), einval),
            NullCall::Fileno => assert_eq!(sel_fileno(null), einval),
            NullCall::Wakeup => assert_eq!(sel_wakeup(null), einval),
            NullCall::Close => assert_eq!(sel_close(null), 0),
        }
    }
}

/// `sel_new(kind, flags)`: unknown kinds and flag bits (beyond `SEL_FLAG_EINTR` and the
/// addition `SEL_FLAG_MODES`) are EINVAL, the kinds this build lacks ENOSYS (DEVPOLL, and
/// KQUEUE without libkqueue); a made selector reports its kind and fileno and is closed again.
/// A KQUEUE selector of libkqueue is not made here: its new fds would take the lowest free
/// numbers, which may be numbers the input closed, and stay open for a while after `sel_close`
/// (every input makes one at its start anyway).
fn new_selector(kind: i32, flags: u32) {
    let name = sel_kind_name(kind);
    assert_eq!(
        name.is_null(),
        !(0..=5).contains(&kind),
        "sel_kind_name({kind})"
    );
    let known_flags = selectors::SEL_FLAG_EINTR | selectors::SEL_FLAG_MODES;
    let expected_errno = if !(0..=5).contains(&kind) || flags & !known_flags != 0 {
        Some(libc::EINVAL)
    } else if !Kind::exists(kind) {
        Some(libc::ENOSYS)
    } else {
        None
    };
    if expected_errno.is_none() && Kind::frees_fds_later(kind) {
        return;
    }
    let handle = sel_new(kind, flags);
    match expected_errno {
        Some(errno) => {
            assert!(handle.is_null(), "sel_new({kind}, {flags}) succeeded");
            assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(errno));
        }
        None => {
            assert!(!handle.is_null(), "sel_new({kind}, {flags}) failed");
            // SAFETY: a live selector, closed once.
            unsafe {
                let concrete = sel_kind_of(handle);
                let expected_kind = if kind == 0 {
                    selectors::SEL_KIND_EPOLL
                } else {
                    kind
                };
                assert_eq!(concrete, expected_kind);
                let fileno = sel_fileno(handle);
                if Kind::has_fileno(concrete) {
                    assert!(fileno >= 0);
                } else {
                    assert_eq!(fileno, -libc::EOPNOTSUPP);
                }
                assert_eq!(sel_close(handle), 0);
            }
        }
    }
}
