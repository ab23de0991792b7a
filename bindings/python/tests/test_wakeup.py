"""``wakeup()`` (sel_wakeup) ends a blocking select() from another thread, and coalesces."""

import threading
import time
import unittest

import libselectors
from selector_classes import SocketPairTest, for_each_selector

WAKEUP_DELAY = 0.2  # seconds before the other thread wakes the selector
PATIENCE = 10.0  # a select() that should be woken waits at most this long


def timed_select(selector, timeout):
    """(result of select(timeout), seconds it took)."""
    start = time.monotonic()
    result = selector.select(timeout)
    return result, time.monotonic() - start


class WakeupTest(SocketPairTest):
    """For every selector class, with one registered fd that never becomes ready."""

    def watch_silent_socket(self, selector):
        """Register the socket that nothing ever writes to."""
        selector.register(self.reader, libselectors.EVENT_READ)

    def test_wakeup_from_another_thread_ends_a_blocking_select(self):
        def check(selector):
            self.watch_silent_socket(selector)
            for timeout in (None, PATIENCE):
                waker = threading.Timer(WAKEUP_DELAY, selector.wakeup)
                waker.start()
                result, elapsed = timed_select(selector, timeout)
                waker.join()
                self.assertEqual(result, [])
                self.assertGreaterEqual(elapsed, WAKEUP_DELAY * 0.9)
                self.assertLess(elapsed, PATIENCE / 2)
        for_each_selector(self, check)

    def test_wakeup_before_select_ends_the_next_one_and_wakeups_coalesce(self):
        def check(selector):
            self.watch_silent_socket(selector)
            for _ in range(3):
                selector.wakeup()
            result, elapsed = timed_select(selector, PATIENCE)
            self.assertEqual(result, [])
            self.assertLess(elapsed, PATIENCE / 2)
            # that one select() used up all three wakeups
            result, elapsed = timed_select(selector, WAKEUP_DELAY)
            self.assertEqual(result, [])
            self.assertGreaterEqual(elapsed, WAKEUP_DELAY)
        for_each_selector(self, check)

    def test_wakeup_fd_stays_hidden(self):
        def check(selector):
            self.watch_silent_socket(selector)
            selector.wakeup()
            self.assertEqual(selector.select(0), [])
            self.assertEqual(len(selector.get_map()), 1)
            self.assertEqual(selector._registered(),
                             [(self.reader.fileno(), libselectors.EVENT_READ)])
        for_each_selector(self, check)

    def test_wakeup_after_close_raises_value_error(self):
        def check(selector):
            selector.close()
            with self.assertRaises(ValueError):
                selector.wakeup()
        for_each_selector(self, check)


if __name__ == "__main__":
    unittest.main()
