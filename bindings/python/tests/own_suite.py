"""Run the binding's own tests (test_*.py beside this file) and record their outcomes.

Usage: python3 own_suite.py OUTCOMES_JSON.  For a plain run without the
recording: python3 -m unittest discover -s bindings/python/tests
"""

import os
import sys
import unittest

from recorder import run_recorded

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    """Entry point: discover, run, write outcomes, exit 1 on any failure."""
    (outcomes_path,) = sys.argv[1:]
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    sys.exit(0 if run_recorded(suite, outcomes_path) else 1)


if __name__ == "__main__":
    main()
