"""Every Python-level misuse raises what the standard module raises, and nothing crashes.

Each misuse runs on the standard module's EpollSelector and on ours, and the outcomes
(exception type and errno) must be equal. Then the misuses only a compiled module can meet:
a selector object made without __init__, a second __init__, a mapping without a selector,
and Python code run from inside a call (a fileno() or __eq__ that closes or unregisters) must
raise or go on, never touch freed memory. run_tests.py runs this under ``-X dev``, whose debug
allocator fills freed memory, so a use after free shows as a crash or a wrong value.
"""

import errno
import gc
import os
import resource
import selectors
import signal
import socket
import tempfile
import threading
import time
import unittest

import libselectors
from libselectors import _selectors
from selector_classes import SocketPairTest, for_each_selector

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


def outcome_of(action):
    """("ok", result type name) or (exception type name, errno)."""
    try:
        result = action()
    except Exception as exc:  # the comparison is the point: any exception is an outcome
        return (type(exc).__name__, getattr(exc, "errno", None))
    return ("ok", type(result).__name__)


class FilenoRaises:
    """A file object whose fileno() raises ``error``."""

    def __init__(self, error):
        self.error = error

    def fileno(self):
        """Raise."""
        raise self.error


class FilenoReturns:
    """A file object whose fileno() returns ``value``."""

    def __init__(self, value):
        self.value = value

    def fileno(self):
        """Return the value."""
        return self.value


def misuses(reader, writer, closed_fd, regular_file):
    """(name, function of a selector) for each misuse; a fresh selector per misuse."""
    def registered(selector):
        selector.register(reader, READ)
        return selector

    def closed(selector):
        selector.register(reader, READ)
        selector.close()
        return selector

    return [
        ("events 0", lambda s: s.register(reader, 0)),
        ("events 4", lambda s: s.register(reader, 4)),
        ("events -1", lambda s: s.register(reader, -1)),
        ("events 2**70", lambda s: s.register(reader, 2 ** 70)),
        ("events None", lambda s: s.register(reader, None)),
        ("events str", lambda s: s.register(reader, "1")),
        ("events float", lambda s: s.register(reader, 1.0)),
        ("events True", lambda s: s.register(reader, True)),
        ("fileobj str", lambda s: s.register("3", READ)),
        ("fileobj None", lambda s: s.register(None, READ)),
        ("fileobj object", lambda s: s.register(object(), READ)),
        ("fileobj float", lambda s: s.register(3.0, READ)),
        ("fd -1", lambda s: s.register(-1, READ)),
        ("fd -2**70", lambda s: s.register(-2 ** 70, READ)),
        ("fileno() returns str", lambda s: s.register(FilenoReturns("x"), READ)),
        ("fileno() returns None", lambda s: s.register(FilenoReturns(None), READ)),
        ("fileno() returns -5", lambda s: s.register(FilenoReturns(-5), READ)),
        ("fileno() raises OSError", lambda s: s.register(FilenoRaises(OSError(9, "x")), READ)),
        ("fileno() raises ValueError",
         lambda s: s.register(FilenoRaises(ValueError("closed")), READ)),
        ("closed fd", lambda s: s.register(closed_fd, READ)),
        ("regular file", lambda s: s.register(regular_file, READ)),
        ("register twice", lambda s: registered(s).register(reader, WRITE)),
        ("register twice by fd", lambda s: registered(s).register(reader.fileno(), WRITE)),
        ("no arguments", lambda s: s.register()),
        ("one argument", lambda s: s.register(reader)),
        ("four arguments", lambda s: s.register(reader, READ, None, None)),
        ("unknown keyword", lambda s: s.register(reader, READ, date=None)),
        ("keyword twice", lambda s: s.register(reader, READ, events=READ)),
        ("keywords", lambda s: s.register(fileobj=reader, events=READ, data=1)),
        ("unregister unknown", lambda s: s.unregister(writer)),
        ("unregister str", lambda s: s.unregister("x")),
        ("unregister huge", lambda s: s.unregister(2 ** 40)),
        ("unregister keyword", lambda s: registered(s).unregister(fileobj=reader)),
        ("modify unknown", lambda s: s.modify(writer, READ)),
        ("modify huge", lambda s: s.modify(2 ** 40, READ)),
        ("modify str", lambda s: s.modify("x", READ)),
        ("modify events str", lambda s: registered(s).modify(reader, "x")),
        ("get_key unknown", lambda s: s.get_key(writer)),
        ("get_key str", lambda s: s.get_key("x")),
        ("get_key huge", lambda s: s.get_key(2 ** 40)),
        ("map unknown", lambda s: s.get_map()[writer]),
        ("map str", lambda s: s.get_map()["x"]),
        ("map get unknown", lambda s: s.get_map().get(writer)),
        ("map in", lambda s: writer in s.get_map()),
        ("map set", lambda s: s.get_map().__setitem__(reader, 1)),
        ("select str", lambda s: s.select("1")),
        ("select nan", lambda s: s.select(float("nan"))),
        ("select 10**400", lambda s: s.select(10 ** 400)),
        ("select two", lambda s: s.select(0, 0)),
        ("select keyword", lambda s: s.select(timeout=0)),
        ("select negative", lambda s: s.select(-5)),
        ("closed: register", lambda s: closed(s).register(writer, READ)),
        ("closed: unregister", lambda s: closed(s).unregister(reader)),
        ("closed: modify", lambda s: closed(s).modify(reader, WRITE)),
        ("closed: select", lambda s: closed(s).select(0)),
        ("closed: get_key", lambda s: closed(s).get_key(reader)),
        ("closed: get_map", lambda s: closed(s).get_map()),
        ("closed: fileno", lambda s: closed(s).fileno()),
        ("closed: close", lambda s: closed(s).close()),
        ("closed: old map", lambda s: (s.get_map(), closed(s))[0][reader]),
    ]


class SameAsStandardModuleTest(unittest.TestCase):
    """EpollSelector: ours raises what CPython's raises, for every misuse."""

    def test_every_misuse(self):
        reader, writer = socket.socketpair()
        self.addCleanup(reader.close)
        self.addCleanup(writer.close)
        regular_file = tempfile.TemporaryFile()
        self.addCleanup(regular_file.close)
        # the highest fd allowed: no selector's own fds take it, unlike a just-closed number
        closed_fd = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 1
        with self.assertRaises(OSError):
            os.fstat(closed_fd)
        for name, misuse in misuses(reader, writer, closed_fd, regular_file):
            with self.subTest(name):
                outcomes = []
                for module in (selectors, libselectors):
                    with module.EpollSelector() as selector:
                        outcomes.append(outcome_of(lambda: misuse(selector)))
                self.assertEqual(outcomes[1], outcomes[0])


class NoCrashTest(SocketPairTest):
    """What only a compiled module can get wrong: odd objects, and Python code run mid-call."""

    def test_selector_without_init_refuses_everything(self):
        selector = libselectors.EpollSelector.__new__(libselectors.EpollSelector)
        with self.assertRaises(ValueError):
            selector.register(self.reader, READ)
        with self.assertRaises(ValueError):
            selector.select(0)
        with self.assertRaises(KeyError):
            selector.unregister(self.reader)
        with self.assertRaises(RuntimeError):
            selector.get_key(self.reader)
        self.assertIsNone(selector.get_map())
        selector.close()
        bare = _selectors.Selector.__new__(_selectors.Selector)
        with self.assertRaises(ValueError):
            bare.wakeup()

    def test_second_init_is_refused(self):
        with libselectors.EpollSelector() as selector:
            key = selector.register(self.reader, READ)
            with self.assertRaises(RuntimeError):
                selector.__init__()
            self.assertIs(selector.get_key(self.reader), key)

    def test_bad_kind_and_bad_types(self):
        with self.assertRaises(OSError) as raised:  # sel_new: EINVAL
            _selectors.Selector(99)
        self.assertEqual(raised.exception.errno, errno.EINVAL)
        with self.assertRaises(OverflowError):
            _selectors.Selector(2 ** 40)
        with self.assertRaises(TypeError):
            _selectors.Selector("epoll")
        with self.assertRaises(TypeError):
            _selectors.use_types(tuple, dict)
        with self.assertRaises(RuntimeError):
            _selectors.load("/nonexistent")

    def test_mapping_without_selector(self):
        mapping = _selectors.Mapping.__new__(_selectors.Mapping)
        for call in (lambda: len(mapping), lambda: mapping[1], lambda: iter(mapping),
                     lambda: mapping.get(1)):
            with self.assertRaises(RuntimeError):
                call()
        with self.assertRaises(TypeError):
            _selectors.Mapping(object())

    def test_fileno_that_closes_the_selector(self):
        def check(selector):
            class Closer:
                def fileno(inner):
                    selector.close()
                    return self.reader.fileno()
            selector.register(self.writer, WRITE, object())
            with self.assertRaises(ValueError):
                selector.register(Closer(), READ)
            self.assertIsNone(selector.get_map())
        for_each_selector(self, check)

    def test_data_comparison_that_unregisters(self):
        def check(selector):
            class Meddler:
                def __ne__(inner, other):
                    selector.unregister(self.reader)
                    return True
            selector.register(self.reader, READ, object())
            with self.assertRaises(KeyError):
                selector.modify(self.reader, READ, Meddler())
            self.assertEqual(len(selector.get_map()), 0)
        for_each_selector(self, check)

    def test_signal_handler_that_closes_the_selector(self):
        def check(selector):
            selector.register(self.reader, READ)
            previous = signal.signal(signal.SIGALRM, lambda *_: selector.close())
            try:
                signal.setitimer(signal.ITIMER_REAL, 0.05)
                with self.assertRaises(ValueError):
                    selector.select(5)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        for_each_selector(self, check)

    def test_close_from_another_thread_ends_a_blocking_select(self):
        def check(selector):
            data = object()
            selector.register(self.reader, READ, data)
            timer = threading.Timer(0.05, selector.close)
            timer.start()
            self.assertEqual(selector.select(10), [])
            timer.join()
            self.assertIsNone(selector.get_map())
            with self.assertRaises(ValueError):
                selector.select(0)
        for_each_selector(self, check)

    def test_other_threads_churn_while_select_waits(self):
        # Keys another thread releases while select() runs without the GIL must not be freed
        # under it: -X dev's allocator would show any use of them.
        pairs = [socket.socketpair() for _ in range(8)]
        for reader, writer in pairs:
            writer.send(b"x")
            self.addCleanup(reader.close)
            self.addCleanup(writer.close)
        for cls in (libselectors.PollSelector, libselectors.EpollSelector):
            with self.subTest(cls.__name__), cls() as selector:
                stop = threading.Event()

                def churn():
                    while not stop.is_set():
                        for reader, _ in pairs:
                            selector.register(reader, READ, [object()])
                        for reader, _ in pairs:
                            selector.modify(reader, READ, [object()])
                        for reader, _ in pairs:
                            selector.unregister(reader)
                        gc.collect(0)

                thread = threading.Thread(target=churn)
                thread.start()
                try:
                    for _ in range(500):
                        for key, mask in selector.select(0.001):
                            self.assertIsInstance(key.data, list)
                            self.assertEqual(mask, READ)
                finally:
                    stop.set()
                    thread.join()

    def test_second_select_from_another_thread_is_busy(self):
        with libselectors.EpollSelector() as selector:
            selector.register(self.reader, READ)
            waiter = threading.Thread(target=selector.select, args=(10,))
            waiter.start()
            deadline = time.monotonic() + 5
            try:
                while True:
                    try:
                        selector.select(0)
                    except OSError as exc:  # once the waiter is in its wait
                        self.assertEqual(exc.errno, errno.EBUSY)
                        break
                    self.assertLess(time.monotonic(), deadline)
            finally:
                selector.wakeup()
                waiter.join()


if __name__ == "__main__":
    unittest.main()
