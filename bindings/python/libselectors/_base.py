"""The Python-level types of the selectors API: the events, ``SelectorKey``, ``BaseSelector``.

Same names, behaviour and exceptions as CPython 3.11's ``Lib/selectors.py``.
The selectors themselves are the compiled ``_selectors.Selector``, which keeps
each registration's SelectorKey in the library's ``data`` pointer; this module
gives it the key type and the read-only mapping class of ``get_map()``.
"""

from abc import ABCMeta, abstractmethod
from collections import namedtuple
from collections.abc import Mapping

from . import _library, _selectors

EVENT_READ = _library.SEL_EVENT_READ
EVENT_WRITE = _library.SEL_EVENT_WRITE

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


class _SelectorMapping(_selectors.Mapping, Mapping):
    """Read-only live mapping of file objects (or fds) to selector keys.

    ``__getitem__``, ``__len__``, ``__iter__``, ``__contains__`` and ``get`` are
    the compiled base's; ``keys``, ``values``, ``items`` and ``==`` come from
    collections.abc.Mapping.
    """

    __slots__ = ()


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


_selectors.use_types(SelectorKey, _SelectorMapping)
