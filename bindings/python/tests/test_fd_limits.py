"""Fd limits: POLL and EPOLL hold every fd RLIMIT_NOFILE allows; SELECT stops at FD_SETSIZE."""

import errno
import fcntl
import os
import resource
import unittest

import libselectors

FD_SETSIZE = 1024  # glibc's
MARGIN = 64  # fds the test process may hold besides the pipes


class RlimitNofileTest(unittest.TestCase):
    """With the soft RLIMIT_NOFILE raised to the hard one (20,000 on the project's machines)."""

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        self.hard_limit = hard

    def open_pipes_until_emfile(self):
        """Open pipes until the process runs out of fds; return them as (read fd, write fd)."""
        pipes = []
        self.addCleanup(lambda: [os.close(fd) for pipe in pipes for fd in pipe])
        while True:
            try:
                pipes.append(os.pipe())
            except OSError as exc:
                self.assertEqual(exc.errno, errno.EMFILE)
                return pipes

    def check_holds_every_fd(self, cls):
        """Register every fd the process can open and see them all ready in one select()."""
        selector = cls()  # first, since it needs fds of its own
        self.addCleanup(selector.close)
        pipes = self.open_pipes_until_emfile()
        self.assertGreater(2 * len(pipes), self.hard_limit - MARGIN)
        for read_fd, write_fd in pipes:
            selector.register(read_fd, libselectors.EVENT_READ)
            selector.register(write_fd, libselectors.EVENT_WRITE)
            os.write(write_fd, b"x")
        self.assertEqual(len(selector.get_map()), 2 * len(pipes))
        ready = {key.fd: mask for key, mask in selector.select(0)}
        expected = {}
        for read_fd, write_fd in pipes:
            expected[read_fd] = libselectors.EVENT_READ
            expected[write_fd] = libselectors.EVENT_WRITE
        self.assertEqual(ready, expected)

    @unittest.skipUnless(hasattr(libselectors, "PollSelector"), "no PollSelector")
    def test_poll_holds_every_fd(self):
        self.check_holds_every_fd(libselectors.PollSelector)

    @unittest.skipUnless(hasattr(libselectors, "EpollSelector"), "no EpollSelector")
    def test_epoll_holds_every_fd(self):
        self.check_holds_every_fd(libselectors.EpollSelector)

    @unittest.skipUnless(hasattr(libselectors, "SelectSelector"), "no SelectSelector")
    def test_select_refuses_fd_setsize_at_register(self):
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, read_fd)
        self.addCleanup(os.close, write_fd)
        high_fd = fcntl.fcntl(read_fd, fcntl.F_DUPFD, FD_SETSIZE)
        self.addCleanup(os.close, high_fd)
        with libselectors.SelectSelector() as selector:
            with self.assertRaises(ValueError):
                selector.register(high_fd, libselectors.EVENT_READ)
            self.assertEqual(len(selector.get_map()), 0)
            self.assertEqual(selector._registered(), [])


if __name__ == "__main__":
    unittest.main()
