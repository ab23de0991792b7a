"""libselectors against CPython's selectors, side by side in one run: the figures of issue 16.

Workloads (EpollSelector on both sides; ours ÷ stdlib, below 1 is faster):

- ring setup: register N fds, each with its index as data;
- ring dispatch: libevent's pipe ring on those N fds: A bytes in flight, W writes; each
  select(0) result runs a callback that recv()s its byte and sends one to the next fd. Beside
  the two modules the same callbacks also run with no selector at all ("no selector": the
  select(0) results of a warm-up run replayed, in order, at the cost of one C call each, no
  fd registered anywhere): the floor below which no selector can take the ring. The table gives
  it ÷ stdlib, and the selector's share, (ours - floor) ÷ (stdlib - floor), both paired (below);
- churn: register N, modify N (READ -> WRITE, new data), unregister N;
- select(0) with 100 of the N registered fds ready, per call;
- asyncio echo: an asyncio streams echo server on ``asyncio.SelectorEventLoop(sel)`` in a
  process of its own, driven by ``benches/load_client`` (100 connections, 64-byte messages, one
  in flight per connection, every byte verified): messages/s, and the server's CPU time per
  message (``time.process_time`` of the server around the load).

The N fds are N/2 socketpairs with both ends registered (fd i is made readable by a send on its
peer, i ^ 1), so N = 10,000 needs 10,000 fds under the machine's 20,000 cap. Each workload is
repeated ``--repeats`` times with the two modules alternating (which one goes first flips every
repetition); the table gives the median of each and the ratio of the medians (the verdict), and
beside it the paired ratio: the median over the repetitions of ours ÷ stdlib within each, whose
two samples are taken back to back, so that a load that comes and goes during the run (another
process's build) moves both samples of a pair rather than one module's median. The in-process
workloads are timed in CPU time of the benchmark's thread (user + system, CLOCK_THREAD_CPUTIME_ID,
so the system calls count), which time spent waiting for a CPU on a shared machine does not
inflate; the garbage collector is off inside the timed loops (as timeit does) and collects
between them. The echo server's CPU time is its process's; messages/s is wall-clock.

Usage: python3 bench.py [--sizes 100 1000 10000] [--repeats 11] [--json FILE] [--plot FILE]
                        [--skip-echo]
       python3 bench.py ring-rounds stdlib|libselectors N A ROUNDS
           (for callgrind: one warm-up dispatch round of W = 2,000 writes, then ROUNDS more)
       python3 bench.py ring-split N A REPEATS
           (user and system CPU time of one dispatch on each module, summed over REPEATS)
Needs the package importable (pip install ./bindings/python) and, for the echo figure, a C
compiler (it builds benches/load_client with make).
"""

import argparse
import asyncio
import functools
import gc
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# This script's directory holds the package's sources without their compiled module: the package
# pip installed is the one to import, not them (Python puts the script's directory first).
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != HERE]

import libselectors  # noqa: E402 (after the path is mended)

REPOSITORY = os.path.normpath(os.path.join(HERE, "..", ".."))
MODULES = {"stdlib": selectors, "libselectors": libselectors}
NO_SELECTOR = "no selector"
READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
READY_FDS = 100
TARGETS = {"ring setup": 0.80, "ring dispatch A=1": 0.90, "ring dispatch A=100": 0.90,
           "churn": 0.80, "select(0), 100 ready": 0.50, "asyncio echo msgs/s": 1.00,
           "asyncio echo server CPU/msg": 1.00}


class Ring:
    """N connected fds: N/2 socketpairs, both ends used, fd i made readable through fd i ^ 1."""

    def __init__(self, size):
        self.sockets = [end for _ in range(size // 2) for end in socket.socketpair()]
        self.fds = [s.fileno() for s in self.sockets]

    def close(self):
        """Close every socket."""
        for end in self.sockets:
            end.close()

    def poke(self, index):
        """Make fd ``index`` readable (one byte)."""
        os.write(self.fds[index ^ 1], b"e")

    def drain(self):
        """Read whatever is pending on every fd."""
        for end in self.sockets:
            end.setblocking(False)
            try:
                while end.recv(4096):
                    pass
            except BlockingIOError:
                pass
            end.setblocking(True)


def module_order(repeat):
    """[(label, module)] in the order of repetition ``repeat``: it flips every repetition."""
    order = list(MODULES.items())
    return order[::-1] if repeat % 2 else order


def timed(function, *args):
    """CPU seconds (user + system, this thread) that ``function(*args)`` takes, GC off."""
    gc.collect()
    gc.disable()
    try:
        start = time.thread_time()
        function(*args)
        return time.thread_time() - start
    finally:
        gc.enable()


def register_all(selector, fds):
    """The ring's setup phase."""
    register = selector.register
    for index, fd in enumerate(fds):
        register(fd, READ, index)


def unregister_all(selector, fds):
    """Undo register_all."""
    unregister = selector.unregister
    for fd in fds:
        unregister(fd)


def dispatch(selector, ring, active, writes):
    """libevent's ring: ``active`` bytes in flight until ``writes`` more were sent."""
    fds, size = ring.fds, len(ring.fds)
    space = size // active
    for i in range(active):
        ring.poke(i * space)
    fired, count, writes_left = active, 0, writes
    select, recv, send = selector.select, os.read, os.write
    while count != fired:
        for key, _ in select(0):
            index = key.data
            count += len(recv(fds[index], 1))
            if writes_left:
                following = index + 1 if index + 1 < size else 0
                send(fds[following ^ 1], b"e")
                writes_left -= 1
                fired += 1


class Recording:
    """A selector's stand-in that passes select() on and keeps every result, in order."""

    def __init__(self, selector):
        self.selector = selector
        self.results = []

    def select(self, timeout=None):
        """The selector's select(), remembered."""
        ready = self.selector.select(timeout)
        self.results.append(ready)
        return ready


class Replay:
    """A selector's stand-in whose select(timeout) returns recorded results in turn.

    ``select`` is ``next`` bound to an iterator over them (timeout becomes next()'s unused
    default), one C call: dispatch() on it costs the ring's callbacks and no selector. The ring's
    bytes are where the recorded run had them, since the replay makes the same reads and writes
    in the same order from the same empty ring.
    """

    def __init__(self, results):
        self.select = functools.partial(next, iter(results))


def churn(selector, fds):
    """Register, modify and unregister every fd."""
    register, modify, unregister = selector.register, selector.modify, selector.unregister
    for index, fd in enumerate(fds):
        register(fd, READ, index)
    for index, fd in enumerate(fds):
        modify(fd, WRITE, -index)
    for fd in fds:
        unregister(fd)


def select_calls(selector, calls):
    """``calls`` calls of select(0), checking that every ready fd is reported."""
    select = selector.select
    for _ in range(calls):
        if len(select(0)) != READY_FDS:
            raise AssertionError("select(0) lost a ready fd")


def measure_size(size, repeats, writes):
    """{workload: {module or NO_SELECTOR: [seconds per repetition]}} for one N."""
    ring = Ring(size)
    results = {}
    recorded = {}  # active: the select(0) results of repetition 0's first dispatch

    def record(workload, label, seconds):
        results.setdefault(workload, {}).setdefault(label, []).append(seconds)

    calls = 200  # select(0) calls per sample
    try:
        for repeat in range(repeats + 1):  # repetition 0 warms up and is dropped
            for label, module in module_order(repeat):
                with module.EpollSelector() as selector:
                    samples = {"ring setup": timed(register_all, selector, ring.fds)}
                    for active in (1, 100):
                        target = selector
                        if active not in recorded:
                            target = recorded[active] = Recording(selector)
                        samples[f"ring dispatch A={active}"] = timed(
                            dispatch, target, ring, min(active, size), writes)
                    step = size // READY_FDS
                    for i in range(READY_FDS):
                        ring.poke(i * step)
                    samples["select(0), 100 ready"] = timed(select_calls, selector, calls) / calls
                    ring.drain()
                    unregister_all(selector, ring.fds)
                    samples["churn"] = timed(churn, selector, ring.fds)
                if repeat:
                    for workload, seconds in samples.items():
                        record(workload, label, seconds)
            for active, recording in recorded.items():
                seconds = timed(dispatch, Replay(recording.results), ring, min(active, size),
                                writes)
                if repeat:
                    record(f"ring dispatch A={active}", NO_SELECTOR, seconds)
    finally:
        ring.close()
    return results


# ---- asyncio echo ------------------------------------------------------------------------------

def serve(module_name):
    """The echo server process: prints its port, then its CPU time for every line on stdin."""
    module = MODULES[module_name]
    loop = asyncio.SelectorEventLoop(module.DefaultSelector())
    asyncio.set_event_loop(loop)

    async def echo(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def answer_control():
        if os.read(sys.stdin.fileno(), 4096):
            print(time.process_time(), flush=True)
        else:
            loop.stop()

    server = loop.run_until_complete(asyncio.start_server(echo, "127.0.0.1", 0))
    loop.add_reader(sys.stdin.fileno(), answer_control)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()
    server.close()
    loop.close()


def build_load_client():
    """benches/load_client, built with the project's benches/Makefile; its path."""
    out = os.path.join(REPOSITORY, os.environ.get("CARGO_TARGET_DIR") or "target", "py-bench")
    client = os.path.join(out, "load_client")
    subprocess.run(["make", "-s", "-C", os.path.join(REPOSITORY, "benches"), f"OUT={out}",
                    client], check=True)
    return client


class EchoServer:
    """One echo server process and its control pipe."""

    def __init__(self, module_name):
        self.process = subprocess.Popen([sys.executable, __file__, "serve", module_name],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def cpu_seconds(self):
        """The server's CPU time (user + system) so far."""
        self.process.stdin.write("cpu\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def stop(self):
        """Let the server finish and wait for it."""
        self.process.stdin.close()
        self.process.wait(timeout=30)


def measure_echo(repeats, millis, connections):
    """{"echo msgs/s" | "echo server CPU/msg": {module: [per repetition]}}."""
    client = build_load_client()
    servers = {label: EchoServer(label) for label in MODULES}
    results = {"asyncio echo msgs/s": {}, "asyncio echo server CPU/msg": {}}
    try:
        for repeat in range(repeats + 1):
            for label, _ in module_order(repeat):
                server = servers[label]
                before = server.cpu_seconds()
                run = subprocess.run([client, str(server.port), str(connections), str(millis),
                                      "64", "1"], capture_output=True, text=True, check=True)
                cpu = server.cpu_seconds() - before
                rate, _, lost, corrupted, total = (float(x) for x in run.stdout.split())
                if lost or corrupted:
                    raise AssertionError(f"{label}: {lost:.0f} bytes lost, {corrupted:.0f} corrupted")
                if repeat:
                    results["asyncio echo msgs/s"].setdefault(label, []).append(rate)
                    results["asyncio echo server CPU/msg"].setdefault(label, []).append(
                        cpu / total)
    finally:
        for server in servers.values():
            server.stop()
    return results


# ---- report ------------------------------------------------------------------------------------

def ratio(samples):
    """ours ÷ stdlib of the medians."""
    return statistics.median(samples["libselectors"]) / statistics.median(samples["stdlib"])


def paired(samples, label="libselectors"):
    """The median over the repetitions of ``label`` ÷ stdlib, the two samples of a repetition
    taken back to back: a load that comes and goes during the run moves both samples of a pair
    rather than shifting one module's median."""
    return statistics.median(x / base for x, base in zip(samples[label], samples["stdlib"]))


def selector_share(samples):
    """(ours - floor) ÷ (stdlib - floor), paired: what our selector costs in the ring against
    what the standard one costs, the callbacks taken out."""
    return statistics.median(
        (ours - floor) / (base - floor)
        for ours, base, floor in zip(samples["libselectors"], samples["stdlib"],
                                     samples[NO_SELECTOR]))


def table(results):
    """The markdown table of a run: {N or "-": {workload: {module: samples}}}."""
    lines = ["| workload | N | stdlib (median) | libselectors (median) | ours ÷ stdlib | target "
             "| paired | no selector ÷ stdlib, paired | selector's share, paired |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for size, workloads in results.items():
        for workload, samples in workloads.items():
            if "msgs/s" in workload:
                unit, scale, target = "msgs/s", 1, "≥ 1.00"
                met = ratio(samples) >= 1.0
            else:
                unit, scale = ("ns", 1e9) if "CPU" in workload or "select" in workload else (
                    "µs", 1e6)
                limit = TARGETS.get(workload, 1.00)
                target, met = f"≤ {limit:.2f}", ratio(samples) <= limit
            cells = [f"{statistics.median(samples[m]) * scale:,.0f} {unit}" for m in MODULES]
            floor = share = ""
            if NO_SELECTOR in samples:
                floor = f"{paired(samples, NO_SELECTOR):.2f}"
                share = f"{selector_share(samples):.2f}"
            lines.append(f"| {workload} | {size} | {cells[0]} | {cells[1]} | "
                         f"{ratio(samples):.2f} | {target} {'met' if met else '**missed**'} | "
                         f"{paired(samples):.2f} | {floor} | {share} |")
    return "\n".join(lines)


def plot(results, path):
    """Bars of ours ÷ stdlib per workload and N, with each target as a tick and, for the
    dispatch rows, the no-selector floor as a grey diamond."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(f"{w}\nN={n}" if n != "-" else w, ratio(s), TARGETS.get(w),
             paired(s, NO_SELECTOR) if NO_SELECTOR in s else None)
            for n, ws in results.items() for w, s in ws.items()]
    fig, ax = plt.subplots(figsize=(12, 0.32 * len(rows) + 1.5))
    positions = range(len(rows))
    ax.barh(positions, [r for _, r, _, _ in rows], color="tab:blue")
    for y, (_, _, target, floor) in zip(positions, rows):
        if target:
            ax.plot([target, target], [y - 0.4, y + 0.4], color="tab:red")
        if floor:
            ax.plot([floor], [y], marker="D", color="grey")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(list(positions), [label.replace("\n", " ") for label, _, _, _ in rows],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("libselectors ÷ CPython selectors (median of interleaved repetitions); "
                  "red: target; grey: no selector at all; msgs/s: higher is better, the rest: "
                  "lower")
    ax.set_title("Python binding against the standard selectors module, one run")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def ring_rounds(module_name, size, active, rounds):
    """One warm-up dispatch round, then ``rounds`` more: run under callgrind with 0 rounds and
    with some, the difference of the instruction counts is what the rounds cost in user space."""
    ring = Ring(size)
    with MODULES[module_name].EpollSelector() as selector:
        register_all(selector, ring.fds)
        for _ in range(1 + rounds):
            dispatch(selector, ring, active, 2000)
    ring.close()


def dispatch_split(selector, ring, active, writes, totals):
    """dispatch(), its user and system CPU time (this thread's getrusage) added to ``totals``."""
    before = resource.getrusage(resource.RUSAGE_THREAD)
    dispatch(selector, ring, active, writes)
    after = resource.getrusage(resource.RUSAGE_THREAD)
    totals[0] += after.ru_utime - before.ru_utime
    totals[1] += after.ru_stime - before.ru_stime


def ring_split(size, active, repeats):
    """Prints the user and the system CPU time of one dispatch (W = 2,000) on each module, the
    modules alternating in one process as in the table. Linux accounts the split by sampling at
    each timer tick (the total is exact), so it is summed over the repetitions, not a median."""
    ring = Ring(size)
    totals = {label: [0.0, 0.0] for label in MODULES}
    try:
        for repeat in range(repeats + 1):  # repetition 0 warms up and is dropped
            for label, module in module_order(repeat):
                with module.EpollSelector() as selector:
                    register_all(selector, ring.fds)
                    timed(dispatch_split, selector, ring, min(active, size), 2000,
                          totals[label] if repeat else [0.0, 0.0])
    finally:
        ring.close()
    for label, (user, system) in totals.items():
        print(f"N = {size}, A = {active}, {label}: user {user / repeats * 1e6:,.0f} µs, "
              f"system {system / repeats * 1e6:,.0f} µs per dispatch")
    (user, system), (base_user, base_system) = totals["libselectors"], totals["stdlib"]
    print(f"ours ÷ stdlib: user {user / base_user:.2f}, system {system / base_system:.2f}, "
          f"total {(user + system) / (base_user + base_system):.2f}")


def raise_fd_limit():
    """Soft RLIMIT_NOFILE up to the hard limit (20,000 on the project's machine)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    """Run everything asked for and print the table."""
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
        return
    if sys.argv[1:2] == ["ring-rounds"]:
        raise_fd_limit()
        ring_rounds(sys.argv[2], *map(int, sys.argv[3:6]))
        return
    if sys.argv[1:2] == ["ring-split"]:
        raise_fd_limit()
        ring_split(*map(int, sys.argv[2:5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--echo-millis", type=int, default=1000)
    parser.add_argument("--skip-echo", action="store_true")
    parser.add_argument("--json", help="write the samples to this file")
    parser.add_argument("--plot", help="draw the ratios into this PNG (needs matplotlib)")
    args = parser.parse_args()
    raise_fd_limit()

    print(f"python {sys.version.split()[0]}, {len(os.sched_getaffinity(0))} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; libselectors {libselectors.__file__} with library "
          f"{libselectors._library.path}; median of {args.repeats} interleaved repetitions",
          flush=True)
    results = {}
    for size in args.sizes:
        results[size] = measure_size(size, args.repeats, args.writes)
        print(f"N = {size} done", file=sys.stderr, flush=True)
    if not args.skip_echo:
        results["-"] = measure_echo(args.repeats, args.echo_millis, 100)
    print(table(results))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({str(k): v for k, v in results.items()}, out, indent=1)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
