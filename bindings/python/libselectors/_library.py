"""Find and load libselectors.so into the compiled module ``_selectors`` (docs/CONTRACT.md).

Lookup order: the ``LIBSELECTORS_PATH`` environment variable, then the copy
shipped inside this package (what ``pip install`` puts there), then the
system loader (``ctypes.util.find_library('selectors')``).  The first
candidate that loads, exports every ``sel_*`` function the module calls and
has the major version the module was built for wins; if none does, importing
the package raises ImportError naming every candidate and why it was refused.
"""

import os
import sys

from . import _selectors

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_SHARED_LIBRARY_NAME = "libselectors.dylib" if sys.platform == "darwin" else "libselectors.so"

# Values fixed by docs/CONTRACT.md, as the header defines them (the module is compiled against it).
SEL_EVENT_READ = _selectors.SEL_EVENT_READ
SEL_EVENT_WRITE = _selectors.SEL_EVENT_WRITE
SEL_KIND_DEFAULT = _selectors.SEL_KIND_DEFAULT
SEL_KIND_SELECT = _selectors.SEL_KIND_SELECT
SEL_KIND_POLL = _selectors.SEL_KIND_POLL
SEL_KIND_EPOLL = _selectors.SEL_KIND_EPOLL
SEL_KIND_KQUEUE = _selectors.SEL_KIND_KQUEUE
SEL_KIND_DEVPOLL = _selectors.SEL_KIND_DEVPOLL


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


def _load():
    """Load the first usable candidate into _selectors and return its name, else ImportError."""
    refused = []
    for description, name in _candidates():
        if name is None:
            refused.append(description)
            continue
        if os.path.sep in name and not os.path.exists(name):
            refused.append(f"{description}: no such file")
            continue
        try:
            _selectors.load(name)
            return name
        except (OSError, AttributeError, ImportError) as exc:
            refused.append(f"{description}: {exc}")
    raise ImportError(
        "libselectors: cannot load the libselectors shared library; tried, in order:\n  "
        + "\n  ".join(refused)
        + "\nReinstall the package (pip install ./bindings/python builds the library into it),"
        " or set LIBSELECTORS_PATH to a built " + _SHARED_LIBRARY_NAME
    )


#: The library that was loaded: a path, or a name the system loader resolved.
path = _load()


def kind_name(kind):
    """CPython's class name for a SEL_KIND_* value (DEFAULT: what it resolves to), or None."""
    return _selectors.kind_name(kind)


def provides(kind):
    """Whether the library implements this kind here (``sel_new`` does not fail with ENOSYS)."""
    return _selectors.provides(kind)


def version():
    """The loaded library's version, packed as ``major << 16 | minor << 8 | patch``."""
    return _selectors.version()
