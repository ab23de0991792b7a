"""Differential tests: the same scenario on the standard module's class and on ours must agree.

These cover what CPython's own tests leave out: fds closed behind the
selector's back, hang-ups, errors on the peer, regular files, and unregister
after the fd number was reused.  Each scenario returns a comparable outcome:
the ready (fd role, mask) pairs, or the exception type and errno.
"""

import os
import selectors
import socket
import tempfile
import unittest

import libselectors

CLASS_NAMES = [name for name in ("SelectSelector", "PollSelector", "EpollSelector",
                                 "KqueueSelector", "DevpollSelector")
               if hasattr(selectors, name) and hasattr(libselectors, name)]
READ_WRITE = selectors.EVENT_READ | selectors.EVENT_WRITE


def outcome_of(action):
    """The result of ``action()``, or (exception type name, errno) if it raised."""
    try:
        return action()
    except Exception as exc:  # the comparison is the point: any exception is an outcome
        return (type(exc).__name__, getattr(exc, "errno", None))


def ready_roles(selector, roles, timeout=0):
    """select(timeout) as a sorted list of (role name, mask), roles mapping fd -> name."""
    return sorted((roles[key.fd], mask) for key, mask in selector.select(timeout))


def closed_behind_the_selectors_back(module, name):
    """An fd closed without unregistering, while another registered fd is ready."""
    with getattr(module, name)() as selector:
        reader, writer = socket.socketpair()
        roles = {reader.fileno(): "closed reader", writer.fileno(): "writer"}
        selector.register(reader, READ_WRITE)
        selector.register(writer, selectors.EVENT_WRITE)
        reader.close()
        try:
            return outcome_of(lambda: ready_roles(selector, roles))
        finally:
            writer.close()


def peer_hang_up(module, name):
    """One end of a socketpair, registered READ|WRITE after the other end was closed."""
    with getattr(module, name)() as selector:
        reader, writer = socket.socketpair()
        with reader:
            roles = {reader.fileno(): "reader"}
            writer.close()
            selector.register(reader, READ_WRITE)
            return outcome_of(lambda: ready_roles(selector, roles))


def pipe_without_reader(module, name):
    """The write end of a pipe whose read end is closed (POLLERR), registered for each interest."""
    outcomes = []
    for events in (selectors.EVENT_READ, selectors.EVENT_WRITE, READ_WRITE):
        with getattr(module, name)() as selector:
            read_fd, write_fd = os.pipe()
            os.close(read_fd)
            try:
                selector.register(write_fd, events)
                outcomes.append(outcome_of(lambda: ready_roles(selector, {write_fd: "writer"})))
            finally:
                os.close(write_fd)
    return outcomes


def regular_file(module, name):
    """A regular file: refused by epoll (EPERM, nothing kept), always ready for select and poll."""
    with getattr(module, name)() as selector, tempfile.TemporaryFile() as f:
        registered = outcome_of(lambda: selector.register(f, READ_WRITE) and "registered")
        return registered, len(selector.get_map()), outcome_of(
            lambda: ready_roles(selector, {f.fileno(): "file"}))


def unregister_after_reuse(module, name):
    """Unregister an fd whose number now belongs to another socket, then select on the newcomer."""
    with getattr(module, name)() as selector:
        old_reader, old_writer = socket.socketpair()
        number = old_reader.fileno()
        selector.register(number, selectors.EVENT_READ)
        new_reader, new_writer = socket.socketpair()
        with new_reader, new_writer:
            old_reader.close()
            os.dup2(new_reader.fileno(), number)
            try:
                new_writer.send(b"x")
                unregistered = outcome_of(lambda: selector.unregister(number).fd == number)
                return unregistered, ready_roles(selector, {}), len(selector.get_map())
            finally:
                os.close(number)
                old_writer.close()


def modify_then_select(module, name):
    """modify() of events and then of data; the keys and what select() reports."""
    with getattr(module, name)() as selector:
        reader, writer = socket.socketpair()
        with reader, writer:
            roles = {reader.fileno(): "reader", writer.fileno(): "writer"}
            selector.register(reader, selectors.EVENT_READ, "first")
            writer.send(b"x")
            events_changed = selector.modify(reader, selectors.EVENT_WRITE, "second")
            data_changed = selector.modify(reader, selectors.EVENT_WRITE, "third")
            return ((events_changed.events, events_changed.data),
                    (data_changed.events, data_changed.data),
                    ready_roles(selector, roles))


class SameAsStdlibTest(unittest.TestCase):
    """Each scenario, on each class both modules have, gives the same outcome."""

    def assert_same(self, scenario):
        for name in CLASS_NAMES:
            with self.subTest(name):
                self.assertEqual(scenario(libselectors, name), scenario(selectors, name))

    def test_fd_closed_behind_the_selectors_back(self):
        self.assert_same(closed_behind_the_selectors_back)

    def test_peer_hang_up(self):
        self.assert_same(peer_hang_up)

    def test_pipe_without_reader(self):
        self.assert_same(pipe_without_reader)

    def test_regular_file(self):
        self.assert_same(regular_file)

    def test_unregister_after_fd_reuse(self):
        self.assert_same(unregister_after_reuse)

    def test_modify_then_select(self):
        self.assert_same(modify_then_select)


if __name__ == "__main__":
    unittest.main()
