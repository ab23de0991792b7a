"""select() under a storm of signals: handlers run during the wait, the timeout is kept.

CPython's own tests send one SIGALRM; here an interval timer fires every few
milliseconds, so the binding's retry loop (SEL_FLAG_EINTR, run the handlers,
wait again for the time left) goes round many times.
"""

import signal
import threading
import time
import unittest

import libselectors
from selector_classes import SocketPairTest, for_each_selector

INTERVAL = 0.005  # seconds between signals
TIMEOUT = 0.3


class HandlerStopped(Exception):
    """Raised by a signal handler to end the wait."""


@unittest.skipUnless(hasattr(signal, "setitimer"), "needs signal.setitimer")
class SignalStormTest(SocketPairTest):
    """For every selector class, with one registered socket that never becomes ready."""

    def setUp(self):
        super().setUp()
        self.handled = 0

    def storm(self, handler):
        """Install ``handler`` for SIGALRM and start the interval timer; both undone at cleanup."""
        previous = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_REAL, INTERVAL, INTERVAL)

    def count(self, *_):
        """A handler that only counts."""
        self.handled += 1

    def test_timeout_kept_and_handlers_run(self):
        def check(selector):
            selector.register(self.reader, libselectors.EVENT_READ)
            self.handled = 0
            start = time.monotonic()
            self.assertEqual(selector.select(TIMEOUT), [])
            elapsed = time.monotonic() - start
            self.assertGreaterEqual(elapsed, TIMEOUT)
            self.assertLess(elapsed, TIMEOUT + 1.0)
            self.assertGreater(self.handled, 5)
        self.storm(self.count)
        for_each_selector(self, check)

    def test_handler_exception_ends_the_wait(self):
        def stop_at_the_tenth(*_):
            self.handled += 1
            if self.handled == 10:
                raise HandlerStopped

        def check(selector):
            selector.register(self.reader, libselectors.EVENT_READ)
            self.handled = 0
            with self.assertRaises(HandlerStopped):
                selector.select(None)
            self.assertGreaterEqual(self.handled, 10)  # the storm goes on after the raise
        self.storm(stop_at_the_tenth)
        for_each_selector(self, check)

    def test_forever_survives_signals_until_woken(self):
        def check(selector):
            selector.register(self.reader, libselectors.EVENT_READ)
            self.handled = 0
            waker = threading.Timer(TIMEOUT, selector.wakeup)
            waker.start()
            self.addCleanup(waker.join)
            self.assertEqual(selector.select(None), [])
            self.assertGreater(self.handled, 5)
        self.storm(self.count)
        for_each_selector(self, check)


if __name__ == "__main__":
    unittest.main()
