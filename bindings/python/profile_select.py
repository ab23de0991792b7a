"""Where the time of a libselectors call goes, layer by layer, next to CPython's selectors.

Steady-state microbenchmarks on EpollSelector (level-triggered, so the same
fds stay ready call after call): select(0) with K ready fds, and a register +
unregister pair.  Each row peels off one layer: the whole selector method;
the kernel-side object (SelHandle for ours, select.epoll for CPython's); the
bare ctypes call; a ctypes call that does no I/O at all (sel_kind_of).  The
difference between consecutive rows is that layer's cost.  Times are the
minimum over several repeats (robust to a busy machine), in ns per call.

Usage: python3 profile_select.py [--ready 1 100] [--number 100000]
"""

import argparse
import selectors
import socket
import timeit

import libselectors
from libselectors import _handle, _library


def per_call_ns(statement, namespace, number, repeats=7):
    """Best-of-``repeats`` time of one execution of ``statement``, in ns."""
    timer = timeit.Timer(statement, globals=namespace)
    return min(timer.repeat(repeat=repeats, number=number)) / number * 1e9


def select_rows(ready, number):
    """(label, ns) rows for select(0) with ``ready`` ready fds."""
    pairs = [socket.socketpair() for _ in range(ready)]
    ours, theirs = libselectors.EpollSelector(), selectors.EpollSelector()
    for reader, writer in pairs:
        writer.send(b"x")
        ours.register(reader, selectors.EVENT_READ)
        theirs.register(reader, selectors.EVENT_READ)
    ours.select(0)  # sizes the result buffer, which the bare ctypes row reuses
    handle = ours._selector
    namespace = {
        "ours": ours, "theirs": theirs, "handle": handle, "epoll": theirs._selector,
        "sel_select": _handle._sel_select, "pointer": handle._pointer, "events": handle._events,
        "capacity": handle._c_capacity, "no_wait": _handle._NO_WAIT, "n": ready,
        "kind_of": _library.unchecked("sel_kind_of"),
    }
    rows = [
        ("stdlib  EpollSelector.select(0)", "theirs.select(0)"),
        ("stdlib  select.epoll.poll(0, n)", "epoll.poll(0, n)"),
        ("ours    EpollSelector.select(0)", "ours.select(0)"),
        ("ours    SelHandle.poll(0, n), consumed", "list(handle.poll(0, n))"),
        ("ours    sel_select via ctypes", "sel_select(pointer, no_wait, events, capacity)"),
        ("ours    sel_kind_of via ctypes (no I/O)", "kind_of(pointer)"),
    ]
    try:
        return [(label, per_call_ns(statement, namespace, number)) for label, statement in rows]
    finally:
        ours.close()
        theirs.close()
        for reader, writer in pairs:
            reader.close()
            writer.close()


def register_rows(number):
    """(label, ns) rows for one register + unregister pair."""
    reader, writer = socket.socketpair()
    ours, theirs = libselectors.EpollSelector(), selectors.EpollSelector()
    handle = ours._selector
    namespace = {
        "ours": ours, "theirs": theirs, "handle": handle, "epoll": theirs._selector,
        "fd": reader.fileno(), "pointer": handle._pointer,
        "sel_register": _handle._sel_register, "sel_unregister": _handle._sel_unregister,
    }
    rows = [
        ("stdlib  register + unregister", "theirs.register(fd, 1); theirs.unregister(fd)"),
        ("stdlib  select.epoll register + unregister",
         "epoll.register(fd, 1); epoll.unregister(fd)"),
        ("ours    register + unregister", "ours.register(fd, 1); ours.unregister(fd)"),
        ("ours    SelHandle register + unregister",
         "handle.register(fd, 1); handle.unregister(fd)"),
        ("ours    sel_register + sel_unregister via ctypes",
         "sel_register(pointer, fd, 1, None, None); sel_unregister(pointer, fd, None)"),
    ]
    try:
        return [(label, per_call_ns(statement, namespace, number)) for label, statement in rows]
    finally:
        ours.close()
        theirs.close()
        reader.close()
        writer.close()


def print_rows(title, rows):
    """A titled table of (label, ns)."""
    print(title)
    for label, ns in rows:
        print(f"  {label:50} {ns:8.0f} ns")


def main():
    """Parse arguments and print every table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ready", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--number", type=int, default=100000)
    args = parser.parse_args()
    for ready in args.ready:
        print_rows(f"select(0) with {ready} ready fd(s)", select_rows(ready, args.number // ready))
    print_rows("register + unregister of one fd", register_rows(args.number))


if __name__ == "__main__":
    main()
