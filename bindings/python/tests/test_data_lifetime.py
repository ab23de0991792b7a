"""Registered data and file objects live exactly as long as their registration.

The library only ever holds fds; the Python-side table must keep the data
(and file object) of every registration alive, and let go of them on
unregister, modify, close, a refused register, and when the selector is
dropped without close().
"""

import gc
import os
import unittest
import weakref

import libselectors
from selector_classes import SELECTOR_CLASSES, SocketPairTest, for_each_selector


class Payload:
    """A data object whose lifetime is watched through a weak reference."""


class FileLike:
    """A file object of our own (weak-referenceable, unlike an int) wrapping an fd."""

    def __init__(self, fd):
        self.fd = fd

    def fileno(self):
        """The wrapped fd."""
        return self.fd


def is_alive(ref):
    """Whether the object behind a weakref survives a full collection."""
    gc.collect()
    return ref() is not None


class DataLifetimeTest(SocketPairTest):
    """For every selector class: what keeps registered objects alive, and what releases them."""

    def test_data_alive_while_registered_and_through_select(self):
        def check(selector):
            payload = Payload()
            ref = weakref.ref(payload)
            selector.register(self.writer, libselectors.EVENT_WRITE, payload)
            del payload
            self.assertTrue(is_alive(ref))
            [(key, _)] = selector.select(0)
            self.assertIs(key.data, ref())
            del key
            self.assertTrue(is_alive(ref))
        for_each_selector(self, check)

    def test_data_and_file_object_released_after_unregister(self):
        def check(selector):
            payload, file_like = Payload(), FileLike(self.reader.fileno())
            data_ref, file_ref = weakref.ref(payload), weakref.ref(file_like)
            selector.register(file_like, libselectors.EVENT_READ, payload)
            del payload, file_like
            self.assertTrue(is_alive(data_ref) and is_alive(file_ref))
            selector.unregister(self.reader.fileno())
            self.assertFalse(is_alive(data_ref))
            self.assertFalse(is_alive(file_ref))
        for_each_selector(self, check)

    def test_data_released_after_close(self):
        def check(selector):
            payload = Payload()
            ref = weakref.ref(payload)
            selector.register(self.reader, libselectors.EVENT_READ, payload)
            del payload
            selector.close()
            self.assertFalse(is_alive(ref))
        for_each_selector(self, check)

    def test_replaced_data_released_after_modify(self):
        def check(selector):
            old, new = Payload(), Payload()
            old_ref, new_ref = weakref.ref(old), weakref.ref(new)
            selector.register(self.reader, libselectors.EVENT_READ, old)
            selector.modify(self.reader, libselectors.EVENT_READ, new)  # data only
            del old, new
            self.assertFalse(is_alive(old_ref))
            self.assertTrue(is_alive(new_ref))
            newest = Payload()
            selector.modify(self.reader, libselectors.EVENT_WRITE, newest)  # events and data
            self.assertFalse(is_alive(new_ref))
            self.assertIs(selector.get_key(self.reader).data, newest)
        for_each_selector(self, check)

    def test_data_of_refused_register_released(self):
        def check(selector):
            # made after the selector, so that its own fds cannot take the closed number
            closed_fd, other_fd = os.pipe()
            os.close(closed_fd)
            os.close(other_fd)
            payload = Payload()
            ref = weakref.ref(payload)
            with self.assertRaises(OSError):
                selector.register(closed_fd, libselectors.EVENT_READ, payload)
            del payload
            self.assertFalse(is_alive(ref))
            self.assertEqual(len(selector.get_map()), 0)
        for_each_selector(self, check)

    def test_data_released_when_selector_dropped_unclosed(self):
        for cls in SELECTOR_CLASSES:
            with self.subTest(cls.__name__):
                selector, payload = cls(), Payload()
                selector_ref, data_ref = weakref.ref(selector), weakref.ref(payload)
                selector.register(self.reader, libselectors.EVENT_READ, payload)
                del selector, payload
                self.assertFalse(is_alive(selector_ref))
                self.assertFalse(is_alive(data_ref))


if __name__ == "__main__":
    unittest.main()
