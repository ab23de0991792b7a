"""Python's ``selectors`` module on libselectors.so, the Rust rebuild of it.

A drop-in replacement: ``import libselectors as selectors``.  The public API,
exceptions and behaviour are CPython 3.11's; all kernel work is done by the
library's ``sel_*`` functions (through ctypes), while this package keeps the
Python objects (file objects and attached data) in an fd -> SelectorKey table.

Classes exist only where the library provides them: SelectSelector,
PollSelector, EpollSelector, KqueueSelector, DevpollSelector; DefaultSelector
is the one the library picks for this platform.  Besides the standard API,
each selector has ``wakeup()``, which any thread may call to end a blocking
``select()`` early.
"""

import functools

from . import _handle, _library
from ._base import (EVENT_READ, EVENT_WRITE, BaseSelector, SelectorKey, _BaseSelectorImpl,
                    _check_events)


class _LibSelector(_BaseSelectorImpl):
    """A selector whose kernel side is a libselectors ``sel_selector``: CPython's _PollLikeSelector.

    ``_selector_cls`` makes the kernel-side object; CPython's tests replace it
    with a mock, so every kernel call goes through ``self._selector``.
    """

    _selector_cls = None

    def __init__(self):
        super().__init__()
        self._selector = self._selector_cls()

    def register(self, fileobj, events, data=None):
        """Register a file object (see BaseSelector.register); nothing is recorded on failure."""
        key = self._new_key(fileobj, events, data)
        self._selector.register(key.fd, events)
        self._fd_to_key[key.fd] = key
        return key

    def unregister(self, fileobj):
        """Unregister a file object and return its key, even if it was closed meanwhile."""
        key = self._key_of(fileobj)
        self._selector.unregister(key.fd)
        del self._fd_to_key[key.fd]
        return key

    def modify(self, fileobj, events, data=None):
        """Change the events or data of a registered file object and return the new key.

        Invalid events raise ValueError and change nothing.  If the kernel
        refuses the new events the file object ends up unregistered
        (CPython bpo-30014).  A change of data alone makes no library call.
        """
        key = self._key_of(fileobj)
        _check_events(events)
        changed = False
        if events != key.events:
            try:
                self._selector.modify(key.fd, events)
            except BaseException:
                del self._fd_to_key[key.fd]
                raise
            changed = True
        if data != key.data:
            changed = True
        if changed:
            key = key._replace(events=events, data=data)
            self._fd_to_key[key.fd] = key
        return key

    def select(self, timeout=None):
        """Wait for registered file objects to be ready; see BaseSelector.select.

        Returns one (key, events) pair per ready file object.  Python signal
        handlers run during the wait; an exception from one propagates.
        """
        if timeout is None:
            timeout = -1.0
        elif timeout <= 0:
            timeout = 0.0
        fd_to_key = self._fd_to_key
        lookup = fd_to_key.get
        # A plain loop: in 3.11 a comprehension is a function call of its own,
        # which costs more than it saves when one or two fds are ready.
        ready = []
        for fd, mask in self._selector.poll(timeout, len(fd_to_key)):
            key = lookup(fd)
            if key is not None:
                ready.append((key, mask))
        return ready

    def wakeup(self):
        """Make a blocking select() in another thread (or the next select()) return early.

        Safe from any thread; several wakeups before a select() count as one.
        The select() that it ends returns whatever is ready, possibly nothing.
        """
        self._selector.wakeup()

    def close(self):
        """Close the selector: free the library's selector and forget every key."""
        self._selector.close()
        super().close()


class _FilenoSelectorMixin:
    """For kinds backed by a kernel object of their own (epoll, kqueue, /dev/poll)."""

    def fileno(self):
        """Return the fd of the underlying kernel object."""
        return self._selector.fileno()


def _kernel_side(kind):
    """The ``_selector_cls`` of a kind: a factory of SelHandle for that kind."""
    return functools.partial(_handle.SelHandle, kind)


__all__ = ["EVENT_READ", "EVENT_WRITE", "SelectorKey", "BaseSelector", "DefaultSelector"]

_packed_version = _library.lib.sel_version()
#: The loaded libselectors.so's version, as (major, minor, patch) (``sel_version``).
version_info = (_packed_version >> 16, (_packed_version >> 8) & 0xFF, _packed_version & 0xFF)
#: The same, as a string.
__version__ = "%d.%d.%d" % version_info

if _library.provides(_library.SEL_KIND_SELECT):

    class SelectSelector(_LibSelector):
        """Select-based selector; fds must be below FD_SETSIZE (ValueError at register)."""

        _selector_cls = _kernel_side(_library.SEL_KIND_SELECT)

    __all__.append("SelectSelector")

if _library.provides(_library.SEL_KIND_POLL):

    class PollSelector(_LibSelector):
        """Poll-based selector."""

        _selector_cls = _kernel_side(_library.SEL_KIND_POLL)

    __all__.append("PollSelector")

if _library.provides(_library.SEL_KIND_EPOLL):

    class EpollSelector(_FilenoSelectorMixin, _LibSelector):
        """Epoll-based selector."""

        _selector_cls = _kernel_side(_library.SEL_KIND_EPOLL)

    __all__.append("EpollSelector")

if _library.provides(_library.SEL_KIND_DEVPOLL):

    class DevpollSelector(_FilenoSelectorMixin, _LibSelector):
        """Solaris /dev/poll selector."""

        _selector_cls = _kernel_side(_library.SEL_KIND_DEVPOLL)

    __all__.append("DevpollSelector")

if _library.provides(_library.SEL_KIND_KQUEUE):

    class KqueueSelector(_FilenoSelectorMixin, _LibSelector):
        """Kqueue-based selector."""

        _selector_cls = _kernel_side(_library.SEL_KIND_KQUEUE)

    __all__.append("KqueueSelector")


def _default_selector():
    """The class of the kind that SEL_KIND_DEFAULT resolves to here."""
    name = _library.kind_name(_library.SEL_KIND_DEFAULT)
    cls = globals().get(name)
    if cls is None:
        raise ImportError(f"libselectors: the library's default kind is {name!r},"
                          f" which it does not provide here")
    return cls


DefaultSelector = _default_selector()
