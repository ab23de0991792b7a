"""Runs every benchmark program interleaved, prints the table, checks the targets, draws the plot.

Called by benches/run once everything is built (see its --help). Peers run A B C A B C ... for
SAMPLES rounds at each workload and size, so slow drifts of this noisy machine hit every peer
alike. Each ring/churn sample is the median over the program's own rounds; the table gives the
median, min and max over the samples and the ratio of medians to raw epoll.
"""

import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import time

RAW = "epoll (raw)"
SEL_EPOLL, SEL_POLL, SEL_SELECT = "libselectors EPOLL", "libselectors POLL", "libselectors SELECT"
SEL_KQUEUE = "libselectors KQUEUE (libkqueue)"
CPYTHON, BINDING = "CPython selectors", "libselectors (Python)"
CALLBACK_PEERS = ("libevent 2.1", "libev 4.33", "libuv 1.44")
MARGINAL = "memory B/reg marginal"
FD_SETSIZE = 1024
SERVER_CPU, CLIENT_CPU = {0}, {1}  # one core each, so a server and its load never trade places

FULL = dict(
    ring_sizes=[100, 1000, 9000],
    churn_sizes=[100, 1000, 9000],
    echo_conns=[10, 100, 1000],
    mem_sizes=[4500, 9000],
    samples=9,
    echo_samples=4,
    ring_rounds=10,
    churn_rounds=10,
    echo_millis=2000,
    active=100,
    writes=1000,
)
SMOKE = dict(
    ring_sizes=[50, 100],
    churn_sizes=[100],
    echo_conns=[10],
    mem_sizes=[100, 200],
    samples=1,
    echo_samples=1,
    ring_rounds=2,
    churn_rounds=2,
    echo_millis=200,
    active=10,
    writes=100,
)
# What KQUEUE through libkqueue costs beside EPOLL (--kqueue): ring and churn at small sizes.
KQUEUE_ONLY = dict(
    ring_sizes=[100, 1000],
    churn_sizes=[100, 1000],
    samples=5,
    ring_rounds=10,
    churn_rounds=10,
    active=100,
    writes=1000,
)
ECHO_SIZE, ECHO_DEPTH = 64, 4  # 64-byte messages, 4 in flight per connection


class Peer:
    """One contender: how to run each workload, or None where it does not take part.

    ring/churn/mem take the size and return argv; echo is the server's argv. fd_limit is the
    highest fd the peer can watch (select's FD_SETSIZE), env extra environment, cpus the cores
    its echo server may use; missing says why the whole peer is n/a."""

    def __init__(
        self,
        name,
        ring=None,
        churn=None,
        mem=None,
        echo=None,
        fd_limit=None,
        env=None,
        cpus=None,
        missing=None,
        echo_missing=None,
    ):
        self.name, self.ring, self.churn, self.mem, self.echo = name, ring, churn, mem, echo
        self.fd_limit, self.env, self.missing = fd_limit, env or {}, missing
        self.echo_missing = echo_missing  # why there is no echo server, if there should be one
        self.cpus = cpus or SERVER_CPU

    def fits(self, fds):
        """Whether `fds` descriptors (numbered from 3) stay below this peer's fd limit."""
        return self.fd_limit is None or fds + 3 < self.fd_limit


def c_peer(name, bin_dir, suffix, *kind, echo=None, fd_limit=None, echo_missing=None):
    """A peer built from ring_SUFFIX and churn_SUFFIX (KIND first for libselectors)."""
    ring = os.path.join(bin_dir, "ring_" + suffix)
    churn = os.path.join(bin_dir, "churn_" + suffix)
    return Peer(
        name,
        ring=lambda n, c: [
            ring,
            *kind,
            str(n),
            str(c["active"]),
            str(c["writes"]),
            str(c["ring_rounds"]),
        ],
        churn=lambda m, c: [churn, *kind, "churn", str(m), str(c["churn_rounds"])],
        mem=lambda m, c: [churn, *kind, "mem", str(m)],
        echo=echo,
        fd_limit=fd_limit,
        echo_missing=echo_missing,
    )


def python_peer(name, module, bench_py, env=None, missing=None):
    """A peer that is bench.py run on `module`."""
    base = [sys.executable, bench_py, module]
    return Peer(
        name,
        ring=lambda n, c: base
        + ["ring", str(n), str(c["active"]), str(c["writes"]), str(c["ring_rounds"])],
        churn=lambda m, c: base + ["churn", str(m), str(c["churn_rounds"])],
        mem=lambda m, c: base + ["mem", str(m)],
        echo=base + ["echo"],
        env=dict(env or {}, PYTHONMALLOC="malloc"),
        missing=missing,
    )


def binding_missing(env):
    """Why the Python binding cannot be used, or None when it imports."""
    probe = subprocess.run(
        [sys.executable, "-c", "import libselectors"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return None if probe.returncode == 0 else "n/a (binding missing)"


def make_peers(args):
    """Every peer of the issue, raw epoll first (the reference) and ours right after it, so each
    sample of ours is paired with a raw-epoll sample taken moments before (see paired_ratio)."""
    b = args.bin
    here = os.path.dirname(os.path.abspath(__file__))
    bench_py = os.path.join(here, "bench.py")
    binding_env = dict(
        os.environ,
        PYTHONPATH=os.path.join(os.path.dirname(here), "bindings", "python"),
        LIBSELECTORS_PATH=args.lib,
    )
    echo_server = os.path.join(b, "echo_server")
    mt = os.path.join(b, "echo_server_mt")
    both = SERVER_CPU | CLIENT_CPU
    return [
        c_peer(RAW, b, "epoll", echo=[os.path.join(b, "echo_epoll")]),
        c_peer(
            SEL_EPOLL,
            b,
            "selectors",
            "epoll",
            echo=[echo_server, "-q", "0"] if os.path.exists(echo_server) else None,
            echo_missing="n/a (examples/echo_server.c not built)",
        ),
        c_peer("libevent 2.1", b, "libevent", echo=[os.path.join(b, "echo_libevent")]),
        c_peer("libev 4.33", b, "libev", echo=[os.path.join(b, "echo_libev")]),
        c_peer("libuv 1.44", b, "libuv", echo=[os.path.join(b, "echo_libuv")]),
        c_peer(SEL_POLL, b, "selectors", "poll"),
        c_peer(SEL_SELECT, b, "selectors", "select", fd_limit=FD_SETSIZE),
        Peer("libselectors mt x1", echo=[mt, "0", "1"]),
        Peer("libselectors mt x2", echo=[mt, "0", "2"], cpus=both),
        python_peer(CPYTHON, "selectors", bench_py),
        python_peer(
            BINDING, "libselectors", bench_py, env=binding_env, missing=binding_missing(binding_env)
        ),
    ]


def kqueue_peers(args):
    """Raw epoll, libselectors EPOLL and, right after it, KQUEUE from the programs linked against
    the library built with libkqueue (--kqueue-bin), so each KQUEUE sample pairs with an EPOLL
    sample taken moments before."""
    return [
        c_peer(RAW, args.bin, "epoll"),
        c_peer(SEL_EPOLL, args.bin, "selectors", "epoll"),
        c_peer(SEL_KQUEUE, args.kqueue_bin, "selectors", "kqueue"),
    ]


def kqueue_against_epoll(runner):
    """KQUEUE through libkqueue against libselectors EPOLL, cell by cell (not a target)."""
    out = []
    for w, size, peer in runner.samples:
        if peer == SEL_KQUEUE:
            judged = compare(runner, w, size, SEL_KQUEUE, reference=SEL_EPOLL)
            if judged:
                out.append(f"  {w} {size}: KQUEUE/EPOLL {judged[1]}")
    return out


def pin(cpus):
    """preexec_fn that moves the child onto `cpus` (when this machine has them)."""
    usable = cpus & os.sched_getaffinity(0)
    return (lambda: os.sched_setaffinity(0, usable)) if usable else None


class Runner:
    """Runs programs, keeps samples and failures."""

    def __init__(self, conf, bin_dir):
        self.conf = conf
        self.load_client = os.path.join(bin_dir, "load_client")
        self.samples = {}  # (workload, size, peer name) -> [values]
        self.notes = {}  # (workload, size, peer name) -> text for the note column
        self.failures = []

    def add(self, key, value):
        self.samples.setdefault(key, []).append(value)

    def run(self, argv, env=None, cpus=CLIENT_CPU, timeout=300):
        """Run one program; its stdout's numbers, or None after recording the failure."""
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=pin(cpus)
            )
        except (subprocess.TimeoutExpired, OSError) as exc:
            self.failures.append(f"{' '.join(argv)}: {exc}")
            return None
        if done.returncode != 0:
            self.failures.append(
                f"{' '.join(argv)}: exit {done.returncode}: " f"{done.stderr.strip()[-300:]}"
            )
            return None
        return [float(x) for x in done.stdout.split()]

    def ring_and_churn(self, peers):
        """Pipe ring and churn, interleaved over peers, SAMPLES times per size."""
        c = self.conf
        for workload, sizes in (("ring", c["ring_sizes"]), ("churn", c["churn_sizes"])):
            for size in sizes:
                for _ in range(c["samples"]):
                    for p in peers:
                        make = getattr(p, workload)
                        # both ends of every pair or pipe are open, so 2 * size fds
                        if make is None or not p.fits(2 * size) or p.missing:
                            continue
                        out = self.run(make(size, c), env=dict(os.environ, **p.env))
                        if out is None:
                            continue
                        if workload == "ring":
                            for part, value in zip(
                                ("ring setup", "ring dispatch", "ring total"), out
                            ):
                                self.add((part, size, p.name), value / 1000)
                        else:
                            self.add(("churn", size, p.name), out[0] / 1000)

    def memory(self, peers):
        """Bytes per registration: (heap with M - heap with none) / M, and the marginal cost
        between the two sizes (what one more registration costs; see BENCHMARKS.md for the
        extrapolation to 1,000,000)."""
        small, big = self.conf["mem_sizes"]
        env_base = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.tcache_count=0")
        for p in peers:
            if p.mem is None or p.missing or not p.fits(big):
                continue
            got = {
                m: self.run(p.mem(m, self.conf), env=dict(env_base, **p.env)) for m in (small, big)
            }
            if None in got.values():
                continue
            per_reg = (got[big][0] - got[big][1]) / big
            slope = (got[big][0] - got[small][0]) / (big - small)
            self.add(("memory B/reg", big, p.name), per_reg)
            self.add((MARGINAL, big, p.name), slope)
            if p.name == RAW:
                self.notes[("memory B/reg", big, p.name)] = "none in user space (kernel epitem)"

    def echo_once(self, p, conns):
        """Start p's echo server, load it, stop it. Returns the client's numbers and the
        server's CPU seconds (user + system, from wait4), or None after a failure."""
        c = self.conf
        try:
            server = subprocess.Popen(
                p.echo,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=dict(os.environ, **p.env),
                preexec_fn=pin(p.cpus),
            )
        except OSError as exc:
            self.failures.append(f"{' '.join(p.echo)}: {exc}")
            return None
        out = None
        try:
            ready, _, _ = select.select([server.stdout], [], [], 10)
            line = server.stdout.readline() if ready else ""
            port = re.search(r"localhost:(\d+)", line)
            if port is None:
                self.failures.append(f"{' '.join(p.echo)}: no startup line ({line!r})")
            else:
                out = self.run(
                    [
                        self.load_client,
                        port.group(1),
                        str(conns),
                        str(c["echo_millis"]),
                        str(ECHO_SIZE),
                        str(ECHO_DEPTH),
                    ],
                    timeout=60,
                )
        finally:
            cpu = stop_and_reap(server)
        return None if out is None else (out, cpu)

    def echo(self, peers):
        """Echo throughput and server CPU per message, per peer and connection count,
        interleaved."""
        c = self.conf
        for conns in c["echo_conns"]:
            for _ in range(c["echo_samples"]):
                for p in peers:
                    if p.echo is None or p.missing:
                        continue
                    key = ("echo msgs/s", conns, p.name)
                    got = self.echo_once(p, conns)
                    if got is None:
                        self.notes[key] = "FAILED"
                        continue
                    (msgs, _, lost, corrupted, total), cpu = got
                    self.add(key, msgs)
                    if total > 0:
                        self.add(("echo server CPU ns/msg", conns, p.name), cpu * 1e9 / total)
                    if self.notes.get(key) != "FAILED":
                        self.notes[key] = self.notes.get(key, 0) + int(lost + corrupted)

    def instructions(self, peers):
        """User-space instructions per ring round and churn round under callgrind: repeatable
        where timing is not. Two runs with different round counts, so start-up cancels out."""
        few, many = 2, 6
        for workload, size in (("ring", 1000), ("churn", 1000)):
            for p in peers:
                make = getattr(p, workload)
                if (
                    make is None
                    or p.missing
                    or p.name in (CPYTHON, BINDING)
                    or not p.fits(2 * size)
                ):
                    continue
                counts = []
                for rounds in (few, many):
                    conf = dict(self.conf, ring_rounds=rounds, churn_rounds=rounds)
                    counts.append(callgrind_instructions(make(size, conf)))
                if None in counts:
                    self.failures.append(f"callgrind {workload} {p.name}")
                    continue
                self.add(
                    (f"{workload} instructions", size, p.name),
                    (counts[1] - counts[0]) / (many - few),
                )


def stop_and_reap(server):
    """SIGTERM the server this harness started (by its pid), reap it, return its CPU seconds."""
    server.terminate()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pid, _, usage = os.wait4(server.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.01)
    else:
        server.kill()
        _, _, usage = os.wait4(server.pid, 0)
    server.returncode = 0  # reaped here; tell Popen not to wait again
    server.stdout.close()
    return usage.ru_utime + usage.ru_stime


def callgrind_instructions(argv):
    """Instructions callgrind counted for one run of argv, or None if it failed."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv,
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if done.returncode == 0 and found else None


def fmt(v):
    """A figure with three significant digits, for the table."""
    if v >= 1e5:
        return f"{v:,.0f}"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


UNITS = {
    "ring instructions": "instr/round",
    "churn instructions": "instr/round",
    "echo server CPU ns/msg": "ns/msg",
    "ring setup": "µs/round",
    "ring dispatch": "µs/round",
    "ring total": "µs/round",
    "churn": "µs/round",
    "echo msgs/s": "msgs/s",
    "memory B/reg": "B/reg",
    MARGINAL: "B/reg",
}


def takes_part(peer, workload):
    """Whether the peer has a program for this table workload."""
    kind = workload.split()[0]
    if workload.endswith("instructions") and peer.name in (CPYTHON, BINDING):
        return None
    return {"ring": peer.ring, "churn": peer.churn, "memory": peer.mem, "echo": peer.echo}[kind]


def table(runner, peers):
    """The results as a Markdown table (lines)."""
    lines = [
        "| workload | size | peer | median | min | max | unit | ratio to raw epoll | note |",
        "|---|---:|---|---:|---:|---:|---|---:|---|",
    ]
    workloads = []
    for w, _, _ in runner.samples:
        if w not in workloads:
            workloads.append(w)
    for w in workloads:
        sizes = sorted({s for ww, s, _ in runner.samples if ww == w})
        for size in sizes:
            raw = runner.samples.get((w, size, RAW))
            for p in peers:
                key = (w, size, p.name)
                vals = runner.samples.get(key)
                why = p.missing if takes_part(p, w) else None
                if w.startswith("echo") and p.echo is None:
                    why = p.echo_missing
                if why:
                    lines.append(f"| {w} | {size} | {p.name} | {why} | | | | | |")
                    continue
                if not vals:
                    continue
                med = statistics.median(vals)
                ratio = ""
                if raw and statistics.median(raw) > 0:
                    ratio = f"{med / statistics.median(raw):.3f}"
                note = runner.notes.get(key, "")
                if w == "echo msgs/s" and note != "FAILED":
                    note = f"{note} B lost/corrupt"
                lines.append(
                    f"| {w} | {size} | {p.name} | {fmt(med)} | {fmt(min(vals))} | "
                    f"{fmt(max(vals))} | {UNITS[w]} | {ratio} | {note} |"
                )
    return lines


def med(runner, w, size, peer):
    """Median of a cell, or None."""
    vals = runner.samples.get((w, size, peer))
    return statistics.median(vals) if vals else None


def paired_ratio(runner, w, size, peer, reference=RAW):
    """Median over samples of peer_i / reference_i, where sample i of each was taken back to back:
    a burst of load from other processes hits both sides of a pair, so this is the steadiest
    ratio on a shared machine. None unless both have every sample."""
    ours, ref = runner.samples.get((w, size, peer)), runner.samples.get((w, size, reference))
    if not ours or not ref or len(ours) != len(ref):
        return None
    return statistics.median(a / b for a, b in zip(ours, ref))


def best_ratio(runner, w, size, peer, reference=RAW):
    """Peer's best sample over the reference's best (noise only ever slows a run down)."""
    ours, ref = runner.samples.get((w, size, peer)), runner.samples.get((w, size, reference))
    if not ours or not ref:
        return None
    pick = max if w.startswith("echo msgs") else min
    return pick(ours) / pick(ref)


def compare(runner, w, size, peer, reference=RAW):
    """(judged ratio, text) of peer against reference on one cell, or None. The judged ratio is
    the paired one when every sample pairs up, else the ratio of medians; the text gives all
    three (medians, paired, best runs) so a disturbed run shows itself."""
    ours, ref = med(runner, w, size, peer), med(runner, w, size, reference)
    if not ours or not ref:
        return None
    paired = paired_ratio(runner, w, size, peer, reference)
    judged = paired if paired is not None else ours / ref
    parts = [f"medians {fmt(ours)} vs {fmt(ref)} {UNITS[w]} = {ours / ref:.3f}x"]
    if paired is not None:
        parts.append(f"paired {paired:.3f}x")
    parts.append(f"best runs {best_ratio(runner, w, size, peer, reference):.3f}x")
    return judged, ", ".join(parts)


def targets(runner, conf):
    """Each target of the issue as 'met'/'missed' with its figures. Ratios to raw epoll (and the
    binding's to CPython) are judged on the paired ratio; comparisons with the other libraries,
    which do not run back to back with ours, on medians."""
    out = []

    def verdict(ok, text):
        out.append(f"- {'met' if ok else 'MISSED'}: {text}")

    def against(w, size, limit, label, peer=SEL_EPOLL, reference=RAW, at_least=False):
        got = compare(runner, w, size, peer, reference)
        if got:
            ok = got[0] >= limit if at_least else got[0] <= limit
            sign = ">=" if at_least else "<="
            verdict(ok, f"{label}: {got[1]} (target {sign} {limit}x)")

    for n in conf["ring_sizes"]:
        against("ring total", n, 1.05, f"ring N={n}, setup + dispatch, EPOLL vs raw epoll")
        against("ring setup", n, 1.10, f"ring N={n}, setup, EPOLL vs raw epoll_ctl")
        ours = med(runner, "ring total", n, SEL_EPOLL)
        ours_dispatch = med(runner, "ring dispatch", n, SEL_EPOLL)
        for peer in CALLBACK_PEERS:
            theirs = med(runner, "ring total", n, peer)
            if ours and theirs:
                verdict(
                    ours < theirs,
                    f"ring N={n}, setup + dispatch: EPOLL {ours:.0f} µs faster than {peer} "
                    f"{theirs:.0f} µs? (dispatch alone: {ours_dispatch:.0f} vs "
                    f"{med(runner, 'ring dispatch', n, peer):.0f} µs)",
                )
    lo, hi = conf["ring_sizes"][0], conf["ring_sizes"][-1]
    growth = {}
    for p in (SEL_EPOLL, RAW):
        a, b = med(runner, "ring dispatch", lo, p), med(runner, "ring dispatch", hi, p)
        if a and b:
            growth[p] = b / a
    if len(growth) == 2:
        verdict(
            growth[SEL_EPOLL] <= growth[RAW] * 1.05,
            f"dispatch per round grows N={lo}->{hi}: EPOLL x{growth[SEL_EPOLL]:.2f} vs raw "
            f"x{growth[RAW]:.2f} (no faster, 5% allowance for noise)",
        )
    for m in conf["churn_sizes"]:
        against("churn", m, 1.10, f"churn M={m}, EPOLL vs raw epoll_ctl")
        ours = med(runner, "churn", m, SEL_EPOLL)
        for peer in CALLBACK_PEERS + (CPYTHON,):
            theirs = med(runner, "churn", m, peer)
            if ours and theirs:
                verdict(
                    ours < theirs,
                    f"churn M={m}: EPOLL {ours:.0f} µs faster than {peer} {theirs:.0f} µs?",
                )
    for conns in conf["echo_conns"]:
        against(
            "echo msgs/s", conns, 0.95, f"echo C={conns}, EPOLL vs raw epoll msgs/s", at_least=True
        )
        got = compare(runner, "echo server CPU ns/msg", conns, SEL_EPOLL)
        if got:
            out.append(f"- info: echo C={conns}, server CPU per message: {got[1]}")
    lost = sum(v for v in runner.notes.values() if isinstance(v, int))
    failed = [k for k, v in runner.notes.items() if v == "FAILED"]
    verdict(not lost and not failed, f"echo: {lost} bytes lost or corrupted, {len(failed)} failed")
    big = conf["mem_sizes"][-1]
    for peer in (SEL_EPOLL, SEL_POLL):
        per_reg = med(runner, "memory B/reg", big, peer)
        if per_reg is not None:
            verdict(per_reg <= 24, f"memory {peer}: {per_reg:.1f} B/registration at {big} (<= 24)")
    cells = [("ring total", n) for n in conf["ring_sizes"]]
    cells += [("churn", m) for m in conf["churn_sizes"]]
    for w, size in cells:
        against(w, size, 1.0, f"Python binding vs CPython, {w} {size}", BINDING, CPYTHON)
    return out


def plot(runner, peers, path):
    """PNG of ring setup, dispatch and total per round against N, one line per peer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 5.5))
    for ax, part in zip(axes, ("ring setup", "ring dispatch", "ring total")):
        for p in peers:
            pts = sorted(
                (n, statistics.median(v))
                for (w, n, name), v in runner.samples.items()
                if w == part and name == p.name
            )
            if pts:
                ours = p.name.startswith("libselectors")  # dashed: tell ours from the peers
                ax.plot(
                    [n for n, _ in pts],
                    [t for _, t in pts],
                    marker="o",
                    label=p.name,
                    linestyle="--" if ours else "-",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (socketpairs)")
        ax.set_ylabel("µs per round (median)")
        ax.set_title(part)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Pipe ring: time per round against N (A=100 active, W=1000 writes)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="directory of the built bench programs")
    parser.add_argument("--lib", required=True, help="path of libselectors.so")
    parser.add_argument("--out", required=True, help="directory for results.md and ring.png")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one sample")
    parser.add_argument(
        "--kqueue-bin",
        help="with this directory of ring and churn programs linked against a libselectors built "
        "with libkqueue: only raw epoll, EPOLL and KQUEUE on ring and churn, at small sizes",
    )
    args = parser.parse_args()
    if args.kqueue_bin:
        kqueue_only(args)
    conf = SMOKE if args.smoke else FULL
    peers = make_peers(args)
    runner = Runner(conf, args.bin)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    runner.ring_and_churn(peers)
    runner.memory(peers)
    runner.echo(peers)
    if not args.smoke:
        runner.instructions(peers)
    lines = table(runner, peers)
    lines += ["", "Targets:"] + targets(runner, conf)
    report(runner, lines, args.out, started, load_before)
    if not args.smoke:
        plot(runner, peers, os.path.join(args.out, "ring.png"))
    lost = any(isinstance(v, int) and v > 0 for v in runner.notes.values())
    sys.exit(1 if runner.failures or lost else 0)


def report(runner, lines, out, started, load_before):
    """Closes `lines` with the failures, the time and the load, prints them and writes them to
    OUT/results.md."""
    lines.append(
        f"\n{len(runner.failures)} failures; ran in {time.monotonic() - started:.0f} s; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    lines += [f"  FAILED {f}" for f in runner.failures]
    text = "\n".join(lines)
    print(text)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(text + "\n")


def kqueue_only(args):
    """The --kqueue-bin run: its table and the KQUEUE/EPOLL ratios, then exit."""
    peers = kqueue_peers(args)
    runner = Runner(KQUEUE_ONLY, args.bin)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    runner.ring_and_churn(peers)
    lines = table(runner, peers) + ["", "KQUEUE through libkqueue against EPOLL:"]
    lines += kqueue_against_epoll(runner)
    report(runner, lines, args.out, started, load_before)
    sys.exit(1 if runner.failures else 0)


if __name__ == "__main__":
    main()
