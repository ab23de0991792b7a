"""What the binding's tests share: the selector classes this build provides, for tests that run
on each, and a test case with a connected socket pair."""

import socket
import unittest

import libselectors

SELECTOR_CLASSES = [getattr(libselectors, name)
                    for name in ("SelectSelector", "PollSelector", "EpollSelector",
                                 "KqueueSelector", "DevpollSelector")
                    if hasattr(libselectors, name)]


def for_each_selector(test, check):
    """Call ``check(selector)`` with a fresh selector of every class, each in its own subTest."""
    for cls in SELECTOR_CLASSES:
        with test.subTest(cls.__name__):
            with cls() as selector:
                check(selector)


class SocketPairTest(unittest.TestCase):
    """A test case with a connected socket pair, ``self.reader`` and ``self.writer``, closed after
    each test."""

    def setUp(self):
        self.reader, self.writer = socket.socketpair()
        self.addCleanup(self.reader.close)
        self.addCleanup(self.writer.close)
