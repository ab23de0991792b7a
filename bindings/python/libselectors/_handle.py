"""The kernel-side half of a selector: one ``sel_selector *`` and the calls on it.

This plays the part that ``select.epoll`` / ``select.poll`` play for CPython's
selectors: the Python-level selector classes keep the fd -> SelectorKey table
and call this object for everything the kernel must know.  It never sees a
Python file object or user data: the library is given fds and events only,
and ``NULL`` as its opaque ``data`` (the Python table holds the data, so no
pointer to a Python object can outlive it).
"""

import array
import ctypes
import errno
import os
import threading
import weakref
from time import monotonic

from . import _library

_lib = _library.lib
# The calls made once per registration or per select() skip ctypes' argument
# conversion (see _library.unchecked), so every call below passes exact C types.
_sel_register = _library.unchecked("sel_register")
_sel_modify = _library.unchecked("sel_modify")
_sel_unregister = _library.unchecked("sel_unregister")
_sel_select = _library.unchecked("sel_select")
_NO_WAIT = ctypes.c_double(0.0)
_FOREVER = ctypes.c_double(-1.0)
# Runs the Python-level signal handlers that are pending; an exception raised by
# one of them comes back out of this call (ctypes checks the error indicator
# after every pythonapi function).
_run_signal_handlers = ctypes.pythonapi.PyErr_CheckSignals
_run_signal_handlers.restype = ctypes.c_int
_run_signal_handlers.argtypes = []

_C_INT_MIN = -(2 ** 31)
_C_INT_MAX = 2 ** 31 - 1
_NEG_EINTR = -errno.EINTR
_ALL_EVENTS = _library.SEL_EVENT_READ | _library.SEL_EVENT_WRITE

# The result buffer is an array of C ints shared with a ctypes ``sel_event``
# array, so that a whole result is decoded with two strided memoryview slices
# (C loops) instead of one ctypes struct access per field.
_INT_SIZE = array.array("i").itemsize
assert ctypes.sizeof(_library.SelEvent) % _INT_SIZE == 0
_EVENT_STRIDE = ctypes.sizeof(_library.SelEvent) // _INT_SIZE
_FD_INDEX = (_library.SelEvent.key.offset + _library.SelKey.fd.offset) // _INT_SIZE
_MASK_INDEX = _library.SelEvent.mask.offset // _INT_SIZE


def error_from_code(code, fd=None):
    """Turn a negative errno returned by a ``sel_*`` call into CPython's exception.

    docs/CONTRACT.md's table: -EINVAL is ValueError (bad events, fd beyond FD_SETSIZE
    on SELECT, NaN timeout), -EEXIST and -ENOENT are KeyError (already / not
    registered), anything else is the kernel's answer, an OSError subclass
    chosen by errno (``OSError(e, msg)`` picks PermissionError for EPERM...).
    """
    number = -code
    message = os.strerror(number)
    if number == errno.EINVAL:
        return ValueError(message if fd is None else f"fd {fd}: {message}")
    if number in (errno.EEXIST, errno.ENOENT):
        return KeyError(f"fd {fd} is already registered" if number == errno.EEXIST
                        else f"fd {fd} is not registered")
    return OSError(number, message)


# Every open handle, so that a child process can renew them all after fork().
_live_handles = weakref.WeakSet()


def _renew_after_fork():
    """In a child after ``os.fork()``: give every open selector kernel state of its own.

    Without this the child would share the parent's epoll set and wakeup channel, and its
    unregister() would remove the parent's registrations (``sel_after_fork``).
    """
    for handle in list(_live_handles):
        handle.after_fork()


os.register_at_fork(after_in_child=_renew_after_fork)


class SelHandle:
    """One libselectors selector of a given SEL_KIND_*, made with SEL_FLAG_EINTR.

    ``wakeup`` may be called from any thread; every other method belongs to the
    thread that uses the selector (docs/CONTRACT.md, Threads).
    """

    def __init__(self, kind):
        """Create the selector; OSError (ENOSYS when the kind is not provided) on failure."""
        pointer = _lib.sel_new(kind, _library.SEL_FLAG_EINTR)
        if not pointer:
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))
        self._pointer = pointer
        # Keeps close() from freeing the selector under a concurrent wakeup().
        self._close_lock = threading.Lock()
        self._capacity = 0
        self._grow(1)
        _live_handles.add(self)

    def after_fork(self):
        """Renew the kernel state in a child process (called by the fork hook).

        A key whose fd the kernel refuses in the child is dropped by the library; the Python
        table still lists it, as CPython's does after fork, and unregister() succeeds for it.
        """
        # Another thread of the parent may have held the lock when fork() copied it.
        self._close_lock = threading.Lock()
        if self._pointer:
            code = _lib.sel_after_fork(self._pointer)
            if code < 0:
                raise error_from_code(code)

    def _grow(self, wanted):
        """Reallocate the result buffer for at least ``wanted`` events (grows geometrically)."""
        capacity = max(wanted, 2 * self._capacity)
        ints = array.array("i", bytes(capacity * _EVENT_STRIDE * _INT_SIZE))
        self._events = (_library.SelEvent * capacity).from_buffer(ints)
        self._event_ints = memoryview(ints)
        self._capacity = capacity
        self._c_capacity = ctypes.c_size_t(capacity)

    def _error(self, code, fd=None):
        """The exception for a failed call, naming a closed selector as CPython's epoll does."""
        if self._pointer is None:
            return ValueError("I/O operation on closed selector")
        return error_from_code(code, fd)

    def register(self, fd, events):
        """Start watching ``fd`` for ``events`` (a mask of SEL_EVENT_READ|SEL_EVENT_WRITE)."""
        if not _C_INT_MIN <= fd <= _C_INT_MAX or events & ~_ALL_EVENTS:
            raise self._out_of_range(fd, events)
        code = _sel_register(self._pointer, fd, events, None, None)
        if code < 0:
            raise self._error(code, fd)

    def modify(self, fd, events):
        """Change the events watched on ``fd``; if the kernel refuses, the library drops ``fd``."""
        if not _C_INT_MIN <= fd <= _C_INT_MAX or events & ~_ALL_EVENTS:
            raise self._out_of_range(fd, events)
        code = _sel_modify(self._pointer, fd, events, None, None)
        if code < 0:
            raise self._error(code, fd)

    def unregister(self, fd):
        """Stop watching ``fd``; succeeds even if ``fd`` was closed (or reused) meanwhile."""
        if not _C_INT_MIN <= fd <= _C_INT_MAX:
            raise self._out_of_range(fd, 0)
        code = _sel_unregister(self._pointer, fd, None)
        # -ENOENT: the library already dropped it (a modify the kernel refused, a renewal after
        # fork that the kernel refused); the Python table is what decides it was registered.
        if code < 0 and code != -errno.ENOENT:
            raise self._error(code, fd)

    @staticmethod
    def _out_of_range(fd, events):
        """The exception for arguments that ctypes would silently truncate to other C ints."""
        if not _C_INT_MIN <= fd <= _C_INT_MAX:
            return OverflowError(f"fd {fd} does not fit in a C int")
        return ValueError(f"Invalid events: {events!r}")

    def poll(self, timeout, max_events):
        """Wait up to ``timeout`` seconds (< 0: forever, 0: don't block) for registered fds.

        Returns an iterator of (fd, ready mask) pairs, one per ready fd; all of
        them when ``max_events`` is at least the number registered.  Signals
        interrupt the wait (SEL_FLAG_EINTR) so that Python runs its handlers
        here; an exception from a handler propagates, otherwise the wait
        resumes with the time left, and once that is gone nothing is ready
        (PEP 475, as CPython's select module does).
        """
        if max_events > self._capacity:
            self._grow(max_events)
        if timeout == 0:
            c_timeout, deadline = _NO_WAIT, None
        elif timeout < 0:
            c_timeout, deadline = _FOREVER, None
        else:
            c_timeout, deadline = ctypes.c_double(timeout), monotonic() + timeout
        while True:
            count = _sel_select(self._pointer, c_timeout, self._events, self._c_capacity)
            if count == 1:  # the common case of a busy loop, worth skipping the slicing
                ints = self._event_ints
                return ((ints[_FD_INDEX], ints[_MASK_INDEX]),)
            if count >= 0:
                end = count * _EVENT_STRIDE
                ints = self._event_ints
                return zip(ints[_FD_INDEX:end:_EVENT_STRIDE], ints[_MASK_INDEX:end:_EVENT_STRIDE])
            if count != _NEG_EINTR:
                raise self._error(count)
            _run_signal_handlers()
            if c_timeout is _NO_WAIT:
                return iter(())
            if deadline is not None:
                remaining = deadline - monotonic()
                if remaining < 0:
                    return iter(())
                c_timeout = ctypes.c_double(remaining)

    def registered(self):
        """The library's own view of its registrations: a list of (fd, events), ascending fd."""
        total = _lib.sel_get_map(self._pointer, None, 0)
        keys = (_library.SelKey * total)()
        copied = _lib.sel_get_map(self._pointer, keys, total)
        return [(key.fd, key.events) for key in keys[:copied]]

    def fileno(self):
        """The epoll / kqueue / devpoll fd (OSError EOPNOTSUPP for SELECT and POLL)."""
        code = _lib.sel_fileno(self._pointer)
        if code < 0:
            raise self._error(code)
        return code

    def wakeup(self):
        """End a blocking ``poll`` in another thread (or the next one) early; thread-safe."""
        with self._close_lock:
            code = _lib.sel_wakeup(self._pointer)
        if code < 0:
            raise self._error(code)

    def close(self):
        """Free the selector and its own fds (never the registered ones); idempotent."""
        with self._close_lock:
            pointer, self._pointer = self._pointer, None
        if pointer:
            code = _lib.sel_close(pointer)
            if code < 0:
                raise error_from_code(code)

    def __del__(self):
        """Release the library's selector if its owner forgot to close it, like a file does."""
        if getattr(self, "_pointer", None):
            self.close()
