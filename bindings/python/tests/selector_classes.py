"""The selector classes this build of libselectors provides, for tests that run on each."""

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
