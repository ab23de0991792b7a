"""Run a unittest suite and record every test's outcome in a JSON file for run_tests.py.

Outcomes are "passed", "failed" (failure, error, failed subtest, unexpected
success) or "skipped", keyed by test id.  Writing them to a file keeps the
child's own output free for unittest's usual report.
"""

import json
import sys
import unittest

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


class RecordingResult(unittest.TextTestResult):
    """A TextTestResult that also remembers each test's outcome; a failure is never overwritten."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _record(self, test, outcome):
        if self.outcomes.get(test.id()) != FAILED:
            self.outcomes[test.id()] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, PASSED)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, PASSED)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, FAILED)

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, FAILED)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, FAILED)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, SKIPPED)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._record(test, FAILED)


def run_recorded(suite, outcomes_path):
    """Run ``suite`` with unittest's text report on stderr, write the outcomes; return success."""
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1, resultclass=RecordingResult)
    result = runner.run(suite)
    with open(outcomes_path, "w") as out:
        json.dump(result.outcomes, out, indent=1, sort_keys=True)
    return result.wasSuccessful()
