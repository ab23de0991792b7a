"""Run CPython's own tests with ``selectors`` bound to a module of our choice.

Usage: python3 cpython_suite.py MODULE TEST_MODULE... OUTCOMES_JSON, MODULE being
``selectors`` (the standard module, the reference) or ``libselectors``, and each
TEST_MODULE a module of CPython's test package (test.test_selectors,
test.test_asyncio.test_events, ...).
"""

import importlib
import sys
import unittest

from recorder import run_recorded


def load_cpython_tests(module_name, test_modules):
    """Import the test modules with ``selectors`` resolving to ``module_name``.

    Binding the name in sys.modules before anything imports the standard
    module (rather than patching globals afterwards) also redirects the tests'
    ``mock.patch('selectors.…')`` targets and asyncio's own ``import
    selectors``, so SelectorEventLoop's default selector is ours too.
    """
    module = importlib.import_module(module_name)
    assert "asyncio" not in sys.modules, "asyncio was imported before the swap"
    sys.modules["selectors"] = module
    suite = unittest.TestSuite()
    for name in test_modules:
        tests = importlib.import_module(name)
        assert getattr(tests, "selectors", module) is module, f"{name} has another selectors"
        suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(tests))
    if "asyncio" in sys.modules:
        assert sys.modules["asyncio"].selector_events.selectors is module
    return suite


def main():
    """Entry point: run the suite, write its outcomes, exit 1 on any failure."""
    module_name, *test_modules, outcomes_path = sys.argv[1:]
    suite = load_cpython_tests(module_name, test_modules)
    sys.exit(0 if run_recorded(suite, outcomes_path) else 1)


if __name__ == "__main__":
    main()
