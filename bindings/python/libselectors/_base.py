"""The user-space half of the selectors API, independent of any kernel interface.

Same names, behaviour and exceptions as CPython 3.11's ``Lib/selectors.py``:
the events, ``SelectorKey``, the ``BaseSelector`` ABC (for user subclasses),
the read-only live mapping, and ``_BaseSelectorImpl``, which keeps the
fd -> SelectorKey table.  That table is what keeps every registered file
object and data object alive, and only for as long as it is registered.
"""

from abc import ABCMeta, abstractmethod
from collections import namedtuple
from collections.abc import Mapping

from . import _library

EVENT_READ = _library.SEL_EVENT_READ
EVENT_WRITE = _library.SEL_EVENT_WRITE
_ALL_EVENTS = EVENT_READ | EVENT_WRITE


def _check_events(events):
    """Raise ValueError unless events is a non-empty mask of EVENT_READ|EVENT_WRITE."""
    if (not events) or (events & ~_ALL_EVENTS):
        raise ValueError(f"Invalid events: {events!r}")


def _fileobj_to_fd(fileobj):
    """Return the fd of an int or of an object with ``fileno()``; ValueError if there is none."""
    if isinstance(fileobj, int):
        fd = fileobj
    else:
        try:
            fd = int(fileobj.fileno())
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"Invalid file object: {fileobj!r}") from None
    if fd < 0:
        raise ValueError(f"Invalid file descriptor: {fd}")
    return fd


SelectorKey = namedtuple("SelectorKey", ["fileobj", "fd", "events", "data"])
SelectorKey.__doc__ = """SelectorKey(fileobj, fd, events, data)

    Object used to associate a file object to its backing
    file descriptor, selected event mask, and attached data.
"""
SelectorKey.fileobj.__doc__ = "File object registered."
SelectorKey.fd.__doc__ = "Underlying file descriptor."
SelectorKey.events.__doc__ = "Events that must be waited for on this file object."
SelectorKey.data.__doc__ = ("Optional opaque data associated to this file object.\n"
                            "For example, this could be used to store a per-client session ID.")


class _SelectorMapping(Mapping):
    """Read-only live mapping of file objects (or fds) to selector keys."""

    def __init__(self, selector):
        self._selector = selector

    def __len__(self):
        return len(self._selector._fd_to_key)

    def __getitem__(self, fileobj):
        return self._selector._key_of(fileobj)

    def __iter__(self):
        return iter(self._selector._fd_to_key)


class BaseSelector(metaclass=ABCMeta):
    """Selector abstract base class.

    A selector supports registering file objects to be monitored for specific
    I/O events.  A file object is a file descriptor or any object with a
    ``fileno()`` method; an arbitrary object can be attached to it (a
    callback, context...).  ``DefaultSelector`` is the most efficient
    implementation on the current platform.
    """

    @abstractmethod
    def register(self, fileobj, events, data=None):
        """Register a file object for ``events`` (EVENT_READ|EVENT_WRITE) with ``data``.

        Returns its SelectorKey.  Raises ValueError if events is invalid,
        KeyError if fileobj is already registered, OSError if fileobj is
        closed or unacceptable to the system call.
        """
        raise NotImplementedError

    @abstractmethod
    def unregister(self, fileobj):
        """Unregister a file object and return its SelectorKey.

        Raises KeyError if fileobj is not registered.  A registered file object
        that has since been closed unregisters without error.
        """
        raise NotImplementedError

    def modify(self, fileobj, events, data=None):
        """Change a registered file object's monitored events or attached data.

        Returns the new SelectorKey; raises anything unregister() or register() raises.
        """
        self.unregister(fileobj)
        return self.register(fileobj, events, data)

    @abstractmethod
    def select(self, timeout=None):
        """Wait until some registered file objects are ready or the timeout expires.

        ``timeout`` None blocks; <= 0 does not block; > 0 waits at most that
        many seconds.  Returns a list of (key, events) for the ready file
        objects, events being a mask of EVENT_READ|EVENT_WRITE.
        """
        raise NotImplementedError

    def close(self):
        """Close the selector, freeing any underlying resource."""

    def get_key(self, fileobj):
        """Return the SelectorKey of a registered file object.

        Raises RuntimeError if the selector is closed, KeyError if the file
        object is not registered.
        """
        mapping = self.get_map()
        if mapping is None:
            raise RuntimeError("Selector is closed")
        try:
            return mapping[fileobj]
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None

    @abstractmethod
    def get_map(self):
        """Return a mapping of file objects to selector keys (None once closed)."""
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()


class _BaseSelectorImpl(BaseSelector):
    """A selector's user-space bookkeeping: the fd -> SelectorKey table and its mapping.

    Subclasses add the kernel side: they make keys with ``_new_key``, store
    them in ``_fd_to_key`` once the kernel side accepted them, and find them
    with ``_key_of``.
    """

    def __init__(self):
        self._fd_to_key = {}
        self._map = _SelectorMapping(self)

    def _fileobj_lookup(self, fileobj):
        """Return the fd of a file object, searching the table if the object no longer has one.

        The search lets a file object that was closed after registering still
        be unregistered or looked up.
        """
        try:
            return _fileobj_to_fd(fileobj)
        except ValueError:
            for key in self._fd_to_key.values():
                if key.fileobj is fileobj:
                    return key.fd
            raise

    def _new_key(self, fileobj, events, data):
        """The key of a new registration, after checking events, fd and duplicates (that order)."""
        _check_events(events)
        key = SelectorKey(fileobj, self._fileobj_lookup(fileobj), events, data)
        if key.fd in self._fd_to_key:
            raise KeyError(f"{fileobj!r} (FD {key.fd}) is already registered")
        return key

    def _key_of(self, fileobj):
        """Return the key of a registered file object or fd; KeyError if it is not registered."""
        try:
            return self._fd_to_key[self._fileobj_lookup(fileobj)]
        except KeyError:
            raise KeyError(f"{fileobj!r} is not registered") from None

    def close(self):
        """Drop every key (releasing their file and data objects) and the mapping."""
        self._fd_to_key.clear()
        self._map = None

    def get_map(self):
        """Return the live read-only mapping, or None once closed."""
        return self._map
