"""User-space instructions per ring round and churn round (N = M = 1,000) under callgrind, for
raw epoll, libselectors EPOLL and libev, and per call of sel_register, sel_modify,
sel_unregister and sel_select: only the callgrind part of benches/run, in about a minute.

Usage: python3 benches/instructions.py BIN_DIR [LIBSELECTORS_DIR]
BIN_DIR holds the bench programs (`make -C benches LIBDIR=... OUT=BIN_DIR`); LIBSELECTORS_DIR,
when given, is put first in LD_LIBRARY_PATH, so one build of the programs measures two builds of
the library side by side. Each figure is the difference between runs of 6 and 2 rounds divided
by 4, so start-up cancels out; a per-call figure is the inclusive count of the calls made from
the bench program, divided by their number, over the same difference.
"""

import os
import re
import subprocess
import sys
import tempfile

FEW, MANY = 2, 6
CALLS = ("sel_register", "sel_modify", "sel_unregister", "sel_select")


def callgrind(argv, env):
    """Total instructions of one run, and {call: [inclusive instructions, calls]}."""
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}"] + argv,
            capture_output=True, text=True, env=env, check=True,
        )
        total = int(re.search(r"Collected : (\d+)", done.stderr).group(1))
        tree = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", "--tree=caller", out.name],
            # Outside the source tree, whose paths would shorten the names matched below.
            cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True,
        ).stdout.splitlines()
    calls = {}
    for i, line in enumerate(tree):
        callee = re.match(r"\s*[\d,]+ .*\*  \S*:(sel_\w+) \[.*libselectors", line)
        if not callee or callee.group(1) not in CALLS:
            continue
        j = i - 1
        while j >= 0 and "<" in tree[j]:
            caller = re.match(r"\s*([\d,]+) .*< (\?\?\?|\S+\.c):\w+ \(([\d,]+)x\)", tree[j])
            if caller:
                found = calls.setdefault(callee.group(1), [0, 0])
                found[0] += int(caller.group(1).replace(",", ""))
                found[1] += int(caller.group(3).replace(",", ""))
            j -= 1
    return total, calls


def main():
    bin_dir = sys.argv[1]
    env = dict(os.environ)
    if len(sys.argv) > 2:
        env["LD_LIBRARY_PATH"] = sys.argv[2]
    workloads = {
        "ring": lambda peer, rounds: ["1000", "100", "1000", str(rounds)],
        "churn": lambda peer, rounds: ["churn", "1000", str(rounds)],
    }
    for workload, args in workloads.items():
        for peer in ("epoll", "selectors", "libev"):
            kind = ["epoll"] if peer == "selectors" else []
            argv = lambda rounds: [f"{bin_dir}/{workload}_{peer}"] + kind + args(peer, rounds)
            (few, few_calls), (many, many_calls) = callgrind(argv(FEW), env), callgrind(argv(MANY), env)
            line = f"{workload:5} {peer:10} {(many - few) / (MANY - FEW):>10,.0f} instr/round"
            for call in CALLS:
                if call in many_calls and call in few_calls:
                    cost = many_calls[call][0] - few_calls[call][0]
                    count = many_calls[call][1] - few_calls[call][1]
                    if count:
                        line += f"  {call} {cost / count:.0f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
