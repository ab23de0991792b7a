"""The binding's own rules where CPython's tests say nothing or where we differ on purpose.

See the README's "Differences from the standard module": invalid events in
modify() are refused, a closed selector refuses every call, huge timeouts wait
instead of overflowing, and fds that do not fit a C int are refused before
ctypes could truncate them.  Also: the Python table and the library's own
registrations always agree, and the classes offered are those the library
provides.
"""

import math
import os
import socket
import subprocess
import sys
import unittest

import libselectors
from libselectors import _library
from selector_classes import SELECTOR_CLASSES, SocketPairTest, for_each_selector


class BindingRulesTest(SocketPairTest):
    """Checked on every selector class."""

    def assert_tables_agree(self, selector):
        """The binding's fd -> key table and the library's registrations hold the same pairs."""
        python_side = sorted((key.fd, key.events) for key in selector.get_map().values())
        self.assertEqual(python_side, selector._registered())

    def test_tables_agree_through_register_modify_unregister(self):
        def check(selector):
            selector.register(self.reader, libselectors.EVENT_READ)
            selector.register(self.writer.fileno(), libselectors.EVENT_WRITE, "data")
            self.assert_tables_agree(selector)
            selector.modify(self.reader, libselectors.EVENT_READ | libselectors.EVENT_WRITE)
            selector.modify(self.writer.fileno(), libselectors.EVENT_WRITE, "other data")
            self.assert_tables_agree(selector)
            selector.unregister(self.reader)
            self.assert_tables_agree(selector)
            with self.assertRaises(KeyError):
                selector.register(self.writer, libselectors.EVENT_READ)
            self.assert_tables_agree(selector)
        for_each_selector(self, check)

    def test_modify_with_invalid_events_changes_nothing(self):
        def check(selector):
            key = selector.register(self.reader, libselectors.EVENT_READ, "data")
            for events in (0, 4, libselectors.EVENT_READ | 8):
                with self.assertRaises(ValueError):
                    selector.modify(self.reader, events, "new data")
            self.assertEqual(selector.get_key(self.reader), key)
            self.assert_tables_agree(selector)
        for_each_selector(self, check)

    def test_fd_beyond_c_int_is_refused(self):
        def check(selector):
            with self.assertRaises(OverflowError):
                selector.register(2 ** 32 + self.reader.fileno(), libselectors.EVENT_READ)
            self.assertEqual(len(selector.get_map()), 0)
            self.assert_tables_agree(selector)
        for_each_selector(self, check)

    def test_closed_selector_refuses_calls(self):
        def check(selector):
            selector.register(self.reader, libselectors.EVENT_READ)
            selector.close()
            selector.close()  # idempotent
            with self.assertRaises(RuntimeError):
                selector.get_key(self.reader)
            self.assertIsNone(selector.get_map())
            for call in (lambda: selector.register(self.writer, libselectors.EVENT_WRITE),
                         lambda: selector.select(0),
                         lambda: selector.select(None)):
                with self.assertRaisesRegex(ValueError, "closed selector"):
                    call()
        for_each_selector(self, check)

    def test_timeouts_nan_refused_huge_accepted(self):
        def check(selector):
            selector.register(self.writer, libselectors.EVENT_WRITE)
            with self.assertRaises(ValueError):
                selector.select(math.nan)
            for timeout in (1e300, sys.float_info.max, math.inf, 2 ** 70):
                self.assertEqual(len(selector.select(timeout)), 1)
        for_each_selector(self, check)

    def test_no_stale_events_from_a_duplicated_closed_fd(self):
        def check(selector):
            old_reader, old_writer = socket.socketpair()
            self.addCleanup(old_writer.close)
            selector.register(old_reader, libselectors.EVENT_READ)
            number = old_reader.fileno()
            duplicate = os.dup(number)  # keeps the old file open, so epoll keeps watching it
            self.addCleanup(os.close, duplicate)
            old_reader.close()
            selector.unregister(number)
            new_reader, new_writer = socket.socketpair()
            self.addCleanup(new_writer.close)
            new_fd = new_reader.detach()
            if new_fd != number:  # make the number name the new socket
                os.dup2(new_fd, number)
                os.close(new_fd)
            self.addCleanup(os.close, number)
            selector.register(number, libselectors.EVENT_READ)
            old_writer.send(b"for the old file only")
            self.assertEqual(selector.select(0), [])
            new_writer.send(b"x")
            self.assertEqual([(key.fd, mask) for key, mask in selector.select(0)],
                             [(number, libselectors.EVENT_READ)])
        for_each_selector(self, check)

    def test_fileno_only_for_kinds_with_a_kernel_object(self):
        def check(selector):
            if type(selector).__name__ in ("SelectSelector", "PollSelector"):
                self.assertFalse(hasattr(selector, "fileno"))
            else:
                self.assertGreaterEqual(selector.fileno(), 0)
        for_each_selector(self, check)

    def test_select_module_never_imported(self):
        # pipes, not sockets: the socket module itself imports selectors
        code = ("import os, sys, libselectors\n"
                "read_fd, write_fd = os.pipe()\n"
                "for name in libselectors.__all__:\n"
                "    if name.endswith('Selector') and name != 'BaseSelector':\n"
                "        with getattr(libselectors, name)() as s:\n"
                "            s.register(write_fd, libselectors.EVENT_WRITE)\n"
                "            assert len(s.select(0)) == 1\n"
                "print(sorted(m for m in ('select', 'selectors') if m in sys.modules))\n")
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(child.stdout.strip(), "[]", child.stderr)

    def test_classes_offered_are_those_the_library_provides(self):
        for kind, name in ((_library.SEL_KIND_SELECT, "SelectSelector"),
                           (_library.SEL_KIND_POLL, "PollSelector"),
                           (_library.SEL_KIND_EPOLL, "EpollSelector"),
                           (_library.SEL_KIND_KQUEUE, "KqueueSelector"),
                           (_library.SEL_KIND_DEVPOLL, "DevpollSelector")):
            with self.subTest(name):
                self.assertEqual(_library.kind_name(kind), name)
                self.assertEqual(hasattr(libselectors, name), _library.provides(kind))
                self.assertEqual(name in libselectors.__all__, _library.provides(kind))
        default_name = _library.kind_name(_library.SEL_KIND_DEFAULT)
        self.assertIs(libselectors.DefaultSelector, getattr(libselectors, default_name))
        self.assertIn(libselectors.DefaultSelector, SELECTOR_CLASSES)


if __name__ == "__main__":
    unittest.main()
