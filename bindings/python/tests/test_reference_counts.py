"""Exact reference counts: the selector holds one reference to each registered key, no more.

The compiled module keeps each SelectorKey in the library's ``data`` pointer. A key (and so its
file object and data) is held while registered and released by unregister(), by modify() (the
old key), by close(), by a refused register() or modify(), and when the selector goes away;
results of select(), get_key() and get_map() are plain new references. Counted with
sys.getrefcount, so a reference kept or dropped once too often shows at once; and a million
register/unregister cycles must leave the counts and the memory where they were.
"""

import gc
import os
import socket
import sys
import unittest

import libselectors
from selector_classes import SocketPairTest, for_each_selector


class FileLike:
    """A file object of our own wrapping an fd, so its references can be counted."""

    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        """The wrapped fd."""
        return self.fd


# make test-python-asan preloads AddressSanitizer, whose quarantine keeps freed memory resident.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def resident_bytes():
    """This process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class ReferenceCountTest(SocketPairTest):
    """For every selector class."""

    def test_one_reference_per_registration(self):
        def check(selector):
            data, fileobj = object(), FileLike(self.writer.fileno())
            data_count, file_count = sys.getrefcount(data), sys.getrefcount(fileobj)
            key = selector.register(fileobj, libselectors.EVENT_WRITE, data)
            # the key holds each once; the selector holds the key once (+ `key` + the argument)
            self.assertEqual(sys.getrefcount(data), data_count + 1)
            self.assertEqual(sys.getrefcount(fileobj), file_count + 1)
            self.assertEqual(sys.getrefcount(key), 3)
            for _ in range(3):
                ready = selector.select(0)
                self.assertIs(ready[0][0], key)
                self.assertIs(selector.get_key(fileobj), key)
                self.assertIs(selector.get_map()[fileobj], key)
                self.assertIs(selector.get_map().get(fileobj.fd), key)
                self.assertEqual(list(selector.get_map().values()), [key])
            del ready
            self.assertEqual(sys.getrefcount(key), 3)
            del key
            gc.collect()
            self.assertEqual(sys.getrefcount(data), data_count + 1)
            key = selector.unregister(fileobj)
            self.assertEqual(sys.getrefcount(key), 2)  # `key` and the argument: ours alone
            del key
            self.assertEqual(sys.getrefcount(data), data_count)
            self.assertEqual(sys.getrefcount(fileobj), file_count)
        for_each_selector(self, check)

    def test_modify_releases_the_old_key(self):
        def check(selector):
            old, new = object(), object()
            old_count, new_count = sys.getrefcount(old), sys.getrefcount(new)
            first = selector.register(self.reader, libselectors.EVENT_READ, old)
            same = selector.modify(self.reader, libselectors.EVENT_READ, old)  # no change
            self.assertIs(same, first)
            del same
            second = selector.modify(self.reader, libselectors.EVENT_READ, new)  # data only
            self.assertEqual(sys.getrefcount(first), 2)  # the selector let go of it
            del first
            self.assertEqual(sys.getrefcount(old), old_count)
            third = selector.modify(self.reader, libselectors.EVENT_WRITE, new)  # events
            self.assertEqual(sys.getrefcount(second), 2)
            self.assertEqual(sys.getrefcount(third), 3)
            del second, third
            self.assertEqual(sys.getrefcount(new), new_count + 1)
            selector.close()
            self.assertEqual(sys.getrefcount(new), new_count)
        for_each_selector(self, check)

    def test_refusals_keep_nothing(self):
        def check(selector):
            data = object()
            data_count = sys.getrefcount(data)
            closed_fd, other_fd = os.pipe()
            os.close(closed_fd)
            os.close(other_fd)
            with self.assertRaises(OSError):
                selector.register(closed_fd, libselectors.EVENT_READ, data)
            selector.register(self.reader, libselectors.EVENT_READ, data)
            for bad in (0, 4, "x", None, 1.5):
                with self.assertRaises((ValueError, TypeError)):
                    selector.register(self.writer, bad, data)
                with self.assertRaises((ValueError, TypeError)):
                    selector.modify(self.reader, bad, data)
            with self.assertRaises(KeyError):
                selector.register(self.reader, libselectors.EVENT_READ, data)
            self.assertEqual(sys.getrefcount(data), data_count + 1)
            selector.unregister(self.reader)
            self.assertEqual(sys.getrefcount(data), data_count)
        for_each_selector(self, check)

    def test_modify_refused_by_the_kernel_releases_the_key(self):
        # epoll_ctl(MOD) on a closed fd fails: the library unregisters it (bpo-30014)
        with libselectors.EpollSelector() as selector:
            reader, writer = socket.socketpair()
            self.addCleanup(writer.close)
            data = object()
            data_count = sys.getrefcount(data)
            selector.register(reader, libselectors.EVENT_READ, data)
            reader.close()
            with self.assertRaises(OSError):
                selector.modify(reader, libselectors.EVENT_WRITE, data)
            self.assertEqual(sys.getrefcount(data), data_count)
            self.assertEqual(len(selector.get_map()), 0)

    def test_selector_dropped_unclosed_releases_its_keys(self):
        for cls in (getattr(libselectors, name) for name in libselectors.__all__
                    if name.endswith("Selector") and name not in ("BaseSelector",
                                                                   "DefaultSelector")):
            with self.subTest(cls.__name__):
                data = object()
                data_count = sys.getrefcount(data)
                selector = cls()
                selector.register(self.reader, libselectors.EVENT_READ, data)
                # a cycle through the data, as asyncio makes (loop -> selector -> key -> loop)
                selector.register(self.writer, libselectors.EVENT_WRITE, [selector])
                del selector
                gc.collect()
                self.assertEqual(sys.getrefcount(data), data_count)

    def test_a_million_register_unregister_cycles_leak_nothing(self):
        with libselectors.DefaultSelector() as selector:
            data, fd = object(), self.reader.fileno()
            data_count = sys.getrefcount(data)
            register, unregister, read = selector.register, selector.unregister, 1
            for _ in range(20_000):  # warm up the allocators
                register(fd, read, data)
                unregister(fd)
            gc.collect()
            before = resident_bytes()
            for _ in range(1_000_000):
                register(fd, read, data)
                unregister(fd)
            for _ in range(100_000):
                register(fd, read, data)
                selector.modify(fd, read | libselectors.EVENT_WRITE, data)
                unregister(fd)
            gc.collect()
            grown = resident_bytes() - before
            self.assertEqual(sys.getrefcount(data), data_count)
            if UNDER_ASAN:
                self.skipTest("refcounts checked; RSS not bounded under ASan (its quarantine "
                              "holds freed memory)")
            # one leaked 80-byte key per cycle would be 80 MB
            self.assertLess(grown, 2 * 1024 * 1024, f"RSS grew by {grown} bytes")


if __name__ == "__main__":
    unittest.main()
