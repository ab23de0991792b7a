"""What the binding adds beyond the standard module: fork renewal and the library's version."""

import os
import re
import socket
import unittest

import libselectors

HERE = os.path.dirname(os.path.abspath(__file__))
CARGO_TOML = os.path.join(HERE, "..", "..", "..", "Cargo.toml")


class ForkTest(unittest.TestCase):
    """A child's changes to an inherited selector never reach the parent's (sel_after_fork)."""

    def test_child_unregister_leaves_the_parent_watching(self):
        for name in ("PollSelector", "EpollSelector", "SelectSelector"):
            cls = getattr(libselectors, name, None)
            if cls is None:
                continue
            with self.subTest(name), cls() as selector:
                reader, writer = socket.socketpair()
                self.addCleanup(reader.close)
                self.addCleanup(writer.close)
                selector.register(reader, libselectors.EVENT_READ, "parent's")
                pid = os.fork()
                if pid == 0:
                    # The child: drop the registration and watch something of its own.
                    try:
                        selector.unregister(reader)
                        other, peer = socket.socketpair()
                        selector.register(other, libselectors.EVENT_READ)
                        peer.send(b"x")
                        ready = selector.select(1.0)
                        os._exit(0 if [key.fileobj for key, _ in ready] == [other] else 1)
                    except BaseException:
                        os._exit(2)
                _, status = os.waitpid(pid, 0)
                self.assertEqual(os.waitstatus_to_exitcode(status), 0)
                writer.send(b"y")
                ready = selector.select(1.0)
                self.assertEqual([key.data for key, _ in ready], ["parent's"])


class VersionTest(unittest.TestCase):
    """The loaded library's version is Cargo.toml's."""

    def test_version_matches_cargo_toml(self):
        with open(CARGO_TOML, encoding="utf-8") as manifest:
            version = re.search(r'^version = "(\d+)\.(\d+)\.(\d+)"', manifest.read(), re.M)
        self.assertEqual(libselectors.version_info, tuple(int(part) for part in version.groups()))
        self.assertEqual(libselectors.__version__, ".".join(version.groups()))


if __name__ == "__main__":
    unittest.main()
