"""Test command of the Python binding: CPython's own tests on stdlib and ours, then ours.

Usage: python3 bindings/python/run_tests.py [--in-tree]

Runs, each in a child process (a crash in the library cannot hide the summary):
  1. CPython's Lib/test/test_selectors.py against the standard ``selectors``,
     then against ``libselectors``;
  2. asyncio's functional tests (test_events, test_streams, test_sock_lowlevel,
     test_server, test_subprocess, test_selector_events) with ``selectors``
     being the standard module, then ours (so SelectorEventLoop runs on it);
  3. this binding's own tests (tests/test_*.py).
Prints each CPython suite's summaries side by side and ends with one line,
``N passed, N failed, N skipped``.  A CPython test counts as failed when it
fails for ours but not for the standard module, or is skipped for ours but
not for the standard module; it counts as skipped when both skip it or both
fail it.  Exit status 1 if anything failed.

The package under test is the one ``import libselectors`` finds: an installed
wheel (``make test-python`` installs a fresh one into a new virtual
environment and runs this with its Python), or, with ``--in-tree``, the
source tree after ``python3 setup.py build_ext --inplace``.  The package
loads its own copy of the library unless LIBSELECTORS_PATH names another.
If the import fails, that one import error is the whole report.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "tests")
CHILD_TIMEOUT = 900  # seconds; the whole CPython suite takes well under a minute

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


def child_environment(in_tree):
    """The environment for the children: with ``in_tree``, the source package first."""
    env = dict(os.environ)
    if in_tree:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, env.get("PYTHONPATH")]))
    return env


def describe_package(env):
    """(where the package and its library were found, None) or (None, the import error)."""
    code = "import libselectors as l; print(l.__file__, l._library.path)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=TESTS,
                          capture_output=True, text=True)
    if proc.returncode:
        return None, proc.stderr
    return proc.stdout.strip(), None


def run_child(title, args, env):
    """Run one recorded suite; return its outcomes, or None if it ended without writing them."""
    print(f"=== {title}", flush=True)
    with tempfile.NamedTemporaryFile(suffix=".json") as outcomes_file:
        try:
            proc = subprocess.run([sys.executable, *args, outcomes_file.name], env=env,
                                  cwd=TESTS, timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            print(f"!!! {title}: timed out after {CHILD_TIMEOUT} s", flush=True)
            return None
        try:
            with open(outcomes_file.name) as f:
                return json.load(f)
        except ValueError:
            print(f"!!! {title}: ended with status {proc.returncode} and no outcomes", flush=True)
            return None


def judge_cpython_suite(reference, ours):
    """Judge each CPython test by ours against the reference; return ({id: verdict}, notes)."""
    verdicts, notes = {}, []
    for test_id in sorted(set(reference) | set(ours)):
        theirs, mine = reference.get(test_id), ours.get(test_id, FAILED)
        if mine == PASSED:
            verdicts[test_id] = PASSED
        elif theirs == FAILED:
            verdicts[test_id] = SKIPPED
            notes.append(f"{mine} for both (not judged): {test_id}")
        elif mine == SKIPPED and theirs == SKIPPED:
            verdicts[test_id] = SKIPPED
        else:
            verdicts[test_id] = FAILED
            notes.append(f"{mine} for libselectors but {theirs or 'absent'} for stdlib: {test_id}")
    return verdicts, notes


def per_class_counts(outcomes):
    """{TestCase class name: Counter of outcomes}."""
    counts = collections.defaultdict(collections.Counter)
    for test_id, outcome in outcomes.items():
        counts[test_id.split(".")[-2]][outcome] += 1
    return counts


def print_side_by_side(suite, reference, ours):
    """Print passed/failed/skipped per TestCase class for the stdlib and for libselectors."""
    ref_counts, our_counts = per_class_counts(reference), per_class_counts(ours)
    print(f"{'CPython ' + suite:46} {'stdlib selectors':>18}   "
          f"{'libselectors':>18}")
    print(f"{'':46} {'pass fail skip':>18}   {'pass fail skip':>18}")
    total_ref, total_ours = collections.Counter(), collections.Counter()
    for name in sorted(set(ref_counts) | set(our_counts)):
        total_ref.update(ref_counts[name])
        total_ours.update(our_counts[name])
        print(f"{name:46} {format_counts(ref_counts[name]):>18}   "
              f"{format_counts(our_counts[name]):>18}")
    print(f"{'total':46} {format_counts(total_ref):>18}   {format_counts(total_ours):>18}")


def format_counts(counter):
    """'  pass fail skip' columns of a Counter."""
    return f"{counter[PASSED]:4} {counter[FAILED]:4} {counter[SKIPPED]:4}"


# CPython's suites run on both modules: its selectors tests, and asyncio's functional tests
# (SelectorEventLoop, streams, servers, sockets, subprocesses) with the selector swapped in.
CPYTHON_SUITES = {
    "test_selectors": ["test.test_selectors"],
    "asyncio": ["test.test_asyncio.test_events", "test.test_asyncio.test_streams",
                "test.test_asyncio.test_sock_lowlevel", "test.test_asyncio.test_server",
                "test.test_asyncio.test_subprocess", "test.test_asyncio.test_selector_events"],
}


def main():
    """Run the suites, print the summaries, return the exit status."""
    env = child_environment(in_tree="--in-tree" in sys.argv[1:])
    found, error = describe_package(env)
    if error:
        print(error + "install the package first: pip install ./bindings/python")
        print("0 passed, 1 failed, 0 skipped")
        return 1
    print(f"package and library under test: {found}", flush=True)
    runs = {}
    for suite, test_modules in CPYTHON_SUITES.items():
        for label, module in (("the standard selectors", "selectors"),
                              ("libselectors", "libselectors")):
            runs[suite, module] = run_child(f"CPython's {suite} against {label}",
                                            ["cpython_suite.py", module, *test_modules], env)
    # -X dev: the debug allocator fills freed memory, so a use after free shows
    own = run_child("libselectors' own tests (-X dev)", ["-X", "dev", "own_suite.py"], env)

    totals = collections.Counter()
    for suite in CPYTHON_SUITES:
        reference, ours = runs[suite, "selectors"] or {}, runs[suite, "libselectors"] or {}
        print()
        print_side_by_side(suite, reference, ours)
        verdicts, notes = judge_cpython_suite(reference, ours)
        for note in notes:
            print("  " + note)
        totals.update(verdicts.values())
    own_counts = collections.Counter((own or {}).values())
    print(f"own tests: {format_counts(own_counts)} (pass fail skip)")
    totals.update(own_counts)
    # a suite that could not run at all (say, Python without its test package) is a failure,
    # never a silent pass
    missing = [(f"CPython's {suite} against {module}", runs[suite, module])
               for suite, module in runs] + [("libselectors' own tests", own)]
    for title, outcomes in missing:
        if not outcomes:
            print(f"!!! {title} produced no outcomes")
            totals[FAILED] += 1
    print(f"{totals[PASSED]} passed, {totals[FAILED]} failed, {totals[SKIPPED]} skipped")
    return 1 if totals[FAILED] else 0


if __name__ == "__main__":
    sys.exit(main())
