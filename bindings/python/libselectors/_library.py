"""Find and load libselectors.so, and declare its C API (docs/CONTRACT.md) for ctypes.

Lookup order: the ``LIBSELECTORS_PATH`` environment variable, then a copy
shipped inside this package, then the system loader
(``ctypes.util.find_library('selectors')``).  The first candidate that loads
and exports ``sel_new`` wins; if none does, importing the package raises
ImportError naming every candidate and why it was refused.
"""

import ctypes
import errno
import os
import sys

# Values fixed by docs/CONTRACT.md.
SEL_EVENT_READ = 1
SEL_EVENT_WRITE = 2

SEL_KIND_DEFAULT = 0
SEL_KIND_SELECT = 1
SEL_KIND_POLL = 2
SEL_KIND_EPOLL = 3
SEL_KIND_KQUEUE = 4
SEL_KIND_DEVPOLL = 5

SEL_FLAG_EINTR = 1

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_SHARED_LIBRARY_NAME = "libselectors.dylib" if sys.platform == "darwin" else "libselectors.so"


class SelSelector(ctypes.Structure):
    """The opaque ``sel_selector``; only pointers to it are ever used."""


class SelKey(ctypes.Structure):
    """``sel_key``: the C side of a SelectorKey (fd, events, opaque data)."""

    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_uint32), ("data", ctypes.c_void_p)]


class SelEvent(ctypes.Structure):
    """``sel_event``: one entry of a ``sel_select`` result, a key and its ready mask."""

    _fields_ = [("key", SelKey), ("mask", ctypes.c_uint32)]


_SELECTOR_P = ctypes.POINTER(SelSelector)
_KEY_P = ctypes.POINTER(SelKey)
_EVENT_P = ctypes.POINTER(SelEvent)
_FD = ctypes.c_int
_EVENTS = ctypes.c_uint32

# name: (restype, argtypes)
_PROTOTYPES = {
    "sel_new": (_SELECTOR_P, [ctypes.c_int, ctypes.c_uint]),
    "sel_register": (ctypes.c_int, [_SELECTOR_P, _FD, _EVENTS, ctypes.c_void_p, _KEY_P]),
    "sel_modify": (ctypes.c_int, [_SELECTOR_P, _FD, _EVENTS, ctypes.c_void_p, _KEY_P]),
    "sel_unregister": (ctypes.c_int, [_SELECTOR_P, ctypes.c_int, _KEY_P]),
    "sel_select": (ctypes.c_int, [_SELECTOR_P, ctypes.c_double, _EVENT_P, ctypes.c_size_t]),
    "sel_close": (ctypes.c_int, [_SELECTOR_P]),
    "sel_get_key": (ctypes.c_int, [_SELECTOR_P, ctypes.c_int, _KEY_P]),
    "sel_get_map": (ctypes.c_size_t, [_SELECTOR_P, _KEY_P, ctypes.c_size_t]),
    "sel_kind_of": (ctypes.c_int, [_SELECTOR_P]),
    "sel_kind_name": (ctypes.c_char_p, [ctypes.c_int]),
    "sel_fileno": (ctypes.c_int, [_SELECTOR_P]),
    "sel_wakeup": (ctypes.c_int, [_SELECTOR_P]),
    "sel_after_fork": (ctypes.c_int, [_SELECTOR_P]),
    "sel_version": (ctypes.c_uint32, []),
}


def _candidates():
    """Yield (description, loadable name or None) in lookup order."""
    env_path = os.environ.get("LIBSELECTORS_PATH")
    if env_path:
        yield f"LIBSELECTORS_PATH={env_path}", env_path
    else:
        yield "LIBSELECTORS_PATH (not set)", None
    package_copy = os.path.join(_PACKAGE_DIR, _SHARED_LIBRARY_NAME)
    yield f"package copy {package_copy}", package_copy
    # Imported only when needed: ctypes.util imports subprocess, which imports the
    # standard selectors and select modules.
    import ctypes.util

    found = ctypes.util.find_library("selectors")
    yield f"system loader find_library('selectors') -> {found!r}", found


def _open(name):
    """Load one candidate and declare the prototypes.

    Raises OSError if the loader refuses it and AttributeError if it lacks a
    ``sel_*`` function (some other library that happens to be called "selectors").
    """
    lib = ctypes.CDLL(name)
    for function_name, (restype, argtypes) in _PROTOTYPES.items():
        function = getattr(lib, function_name)
        function.restype = restype
        function.argtypes = argtypes
    # Only sel_new reports through errno.  ctypes' use_errno saves and restores
    # errno around every call of a function that has it, so it is given to
    # sel_new alone rather than to the whole library.
    restype, argtypes = _PROTOTYPES["sel_new"]
    lib.sel_new = ctypes.CFUNCTYPE(restype, *argtypes, use_errno=True)(("sel_new", lib))
    return lib


def _load():
    """Return (CDLL, what was loaded) for the first usable candidate, else raise ImportError."""
    refused = []
    for description, name in _candidates():
        if name is None:
            refused.append(description)
            continue
        if os.path.sep in name and not os.path.exists(name):
            refused.append(f"{description}: no such file")
            continue
        try:
            return _open(name), name
        except (OSError, AttributeError) as exc:
            refused.append(f"{description}: {exc}")
    raise ImportError(
        "libselectors: cannot load the libselectors shared library; tried, in order:\n  "
        + "\n  ".join(refused)
        + "\nBuild it with `cargo build --release` and set LIBSELECTORS_PATH to"
        " target/release/" + _SHARED_LIBRARY_NAME + ", or copy it into " + _PACKAGE_DIR
    )


lib, path = _load()


def unchecked(function_name):
    """Another handle on a library function, with its restype but no argtypes, for hot paths.

    With argtypes, ctypes converts every argument through its type's
    ``from_param`` on each call: about 40% of a ``sel_select(0)`` call
    (timeit on the project's machine: 1.5 us with argtypes, 0.87 us without,
    given the same ctypes objects).  Callers of an unchecked function must
    pass exactly the C types: ctypes objects (c_double, c_size_t, pointers,
    arrays), None for NULL, and Python ints only for ``int`` / ``uint32_t``
    values known to fit in 32 bits (ctypes passes ints as C ints, truncating).
    """
    function = lib[function_name]  # item access makes a new function object
    function.restype = _PROTOTYPES[function_name][0]
    return function


def kind_name(kind):
    """CPython's class name for a SEL_KIND_* value (DEFAULT: what it resolves to), or None."""
    name = lib.sel_kind_name(kind)
    return None if name is None else name.decode("ascii")


def provides(kind):
    """Whether the library implements this kind here: ``sel_new`` fails with ENOSYS when not.

    Any other failure (say EMFILE) does not prove the kind missing, so the class is
    still offered and will report that error when instantiated.
    """
    probe = lib.sel_new(kind, 0)
    if not probe:
        return ctypes.get_errno() != errno.ENOSYS
    lib.sel_close(probe)
    return True
