"""Run CPython's own Lib/test/test_selectors.py with ``selectors`` bound to a module of our choice.

Usage: python3 cpython_suite.py MODULE OUTCOMES_JSON, MODULE being ``selectors``
(the standard module, the reference) or ``libselectors``.
"""

import importlib
import sys
import unittest

from recorder import run_recorded


def load_cpython_tests(module_name):
    """Import test.test_selectors with ``selectors`` resolving to ``module_name``.

    Binding the name in sys.modules (rather than patching the test module's
    global afterwards) also redirects the tests' ``mock.patch('selectors.…')``
    targets, which are looked up by that name while the tests run.
    """
    module = importlib.import_module(module_name)
    sys.modules["selectors"] = module
    tests = importlib.import_module("test.test_selectors")
    assert tests.selectors is module, "test.test_selectors was imported before the swap"
    return unittest.defaultTestLoader.loadTestsFromModule(tests)


def main():
    """Entry point: run the suite, write its outcomes, exit 1 on any failure."""
    module_name, outcomes_path = sys.argv[1:]
    sys.exit(0 if run_recorded(load_cpython_tests(module_name), outcomes_path) else 1)


if __name__ == "__main__":
    main()
