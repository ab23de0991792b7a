"""Python's ``selectors`` module on libselectors.so, the Rust rebuild of it.

A drop-in replacement: ``import libselectors as selectors``.  The public API,
exceptions and behaviour are CPython 3.11's.  The selectors are a compiled
extension (``_selectors.c``) that calls the library's ``sel_*`` functions
directly; each registration's SelectorKey rides in the library's ``data``
pointer, so ``select()`` builds its (key, mask) list without a table lookup.

Classes exist only where the library provides them: SelectSelector,
PollSelector, EpollSelector, KqueueSelector, DevpollSelector; DefaultSelector
is the one the library picks for this platform.  Besides the standard API,
each selector has ``wakeup()``, which any thread may call to end a blocking
``select()`` early.
"""

import os
import weakref

from . import _library, _selectors
from ._base import EVENT_READ, EVENT_WRITE, BaseSelector, SelectorKey

# Every open selector, so that a child process can renew them all after fork().
_live_selectors = weakref.WeakSet()


def _renew_after_fork():
    """In a child after ``os.fork()``: give every selector kernel state of its own.

    Without this the child would share the parent's epoll set and wakeup channel, and its
    unregister() would remove the parent's registrations (``sel_after_fork``).
    """
    for selector in list(_live_selectors):
        selector._after_fork()


os.register_at_fork(after_in_child=_renew_after_fork)


class _LibSelector(_selectors.Selector, BaseSelector):
    """A selector of one SEL_KIND_*: register, modify, unregister, select... are compiled.

    ``_selector_cls`` is None: the library does all kernel work.  CPython's
    tests replace it (with a mock) to make the kernel refuse a change; the
    selector then also calls that object's ``register``, ``modify``,
    ``unregister`` and ``close`` as the standard module calls its kernel object,
    and treats a refusal the same way.  The check is made once, here.
    """

    _kind = _library.SEL_KIND_DEFAULT
    _selector_cls = None

    def __init__(self):
        factory = self._selector_cls
        super().__init__(self._kind, None if factory is None else factory())
        _live_selectors.add(self)


class _FilenoSelectorMixin:
    """For kinds backed by a kernel object of their own (epoll, kqueue, /dev/poll)."""

    def fileno(self):
        """Return the fd of the underlying kernel object."""
        return self._kernel_fileno()


__all__ = ["EVENT_READ", "EVENT_WRITE", "SelectorKey", "BaseSelector", "DefaultSelector"]

_packed_version = _library.version()
#: The loaded libselectors.so's version, as (major, minor, patch) (``sel_version``).
version_info = (_packed_version >> 16, (_packed_version >> 8) & 0xFF, _packed_version & 0xFF)
#: The same, as a string.
__version__ = "%d.%d.%d" % version_info

if _library.provides(_library.SEL_KIND_SELECT):

    class SelectSelector(_LibSelector):
        """Select-based selector; fds must be below FD_SETSIZE (ValueError at register)."""

        _kind = _library.SEL_KIND_SELECT

    __all__.append("SelectSelector")

if _library.provides(_library.SEL_KIND_POLL):

    class PollSelector(_LibSelector):
        """Poll-based selector."""

        _kind = _library.SEL_KIND_POLL

    __all__.append("PollSelector")

if _library.provides(_library.SEL_KIND_EPOLL):

    class EpollSelector(_FilenoSelectorMixin, _LibSelector):
        """Epoll-based selector."""

        _kind = _library.SEL_KIND_EPOLL

    __all__.append("EpollSelector")

if _library.provides(_library.SEL_KIND_DEVPOLL):

    class DevpollSelector(_FilenoSelectorMixin, _LibSelector):
        """Solaris /dev/poll selector."""

        _kind = _library.SEL_KIND_DEVPOLL

    __all__.append("DevpollSelector")

if _library.provides(_library.SEL_KIND_KQUEUE):

    class KqueueSelector(_FilenoSelectorMixin, _LibSelector):
        """Kqueue-based selector."""

        _kind = _library.SEL_KIND_KQUEUE

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
