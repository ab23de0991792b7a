"""The benchmark workloads in Python, for CPython's `selectors` and for our binding.

Run with the module to test first: `python3 bench.py selectors ...` uses CPython 3.11's
`selectors`; `python3 bench.py libselectors ...` does `import libselectors as selectors` (the
binding in bindings/python, found through PYTHONPATH and LIBSELECTORS_PATH). The workloads and
their output lines are the same as the C programs' (see ring.h, churn.h, echo_conn.h):

    bench.py MODULE ring N ACTIVE WRITES ROUNDS  -> "setup_ns dispatch_ns total_ns" (medians)
    bench.py MODULE churn M ROUNDS               -> "ns_per_round" (median)
    bench.py MODULE mem M                        -> "bytes_with_m fixed_bytes" (malloc'd bytes;
                                                    run with PYTHONMALLOC=malloc so Python's own
                                                    objects go through malloc and are counted)
    bench.py MODULE echo [PORT]                  -> serves until killed

Every selector is the module's EpollSelector. Exit status 3 means the module cannot be imported.
"""

import ctypes
import importlib
import os
import resource
import signal
import socket
import statistics
import sys
import time

WATCHDOG_SECONDS = 120  # same as common.h: a stalled run dies instead of hanging
ECHO_BUF = 16384  # same as echo_conn.h


def raise_nofile_limit():
    """Raise the soft open-files limit to the hard one (N = 9,000 pairs need 18,000 fds)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def ring(sel_mod, n, active, writes, rounds):
    """The pipe ring of ring.h: time unregister+register of all N, then A + W reads."""
    pairs = [socket.socketpair() for _ in range(n)]
    rfd = [a.fileno() for a, _ in pairs]
    wfd = [b.fileno() for _, b in pairs]
    sel = sel_mod.EpollSelector()
    read = sel_mod.EVENT_READ
    for i, fd in enumerate(rfd):
        sel.register(fd, read, i)
    active = min(active, n)
    space = n // active

    def one_round():
        t0 = time.perf_counter_ns()
        for i, fd in enumerate(rfd):
            sel.unregister(fd)
            sel.register(fd, read, i)
        t1 = time.perf_counter_ns()
        fired = 0
        for i in range(active):
            os.write(wfd[i * space], b"e")
            fired += 1
        count = 0
        writes_left = writes
        while count < fired:
            for key, _ in sel.select():
                idx = key.data
                os.read(rfd[idx], 1)
                count += 1
                if writes_left > 0:
                    os.write(wfd[idx + 1 if idx + 1 < n else 0], b"e")
                    writes_left -= 1
                    fired += 1
        t2 = time.perf_counter_ns()
        return t1 - t0, t2 - t1

    one_round()
    samples = [one_round() for _ in range(rounds)]
    setup = statistics.median_low(s for s, _ in samples)
    dispatch = statistics.median_low(d for _, d in samples)
    total = statistics.median_low(s + d for s, d in samples)
    print(setup, dispatch, total)
    sel.close()
    for a, b in pairs:
        a.close()
        b.close()


def pipes(m):
    """m pipes as (read_fd, write_fd) pairs."""
    return [os.pipe() for _ in range(m)]


def churn(sel_mod, m, rounds):
    """The churn of churn.h: register, modify, unregister M idle pipe read ends, polling once
    after each phase."""
    fds = pipes(m)
    rfd = [r for r, _ in fds]
    sel = sel_mod.EpollSelector()
    read, both = sel_mod.EVENT_READ, sel_mod.EVENT_READ | sel_mod.EVENT_WRITE

    def one_round():
        t0 = time.perf_counter_ns()
        for fd in rfd:
            sel.register(fd, read)
        sel.select(0)
        for fd in rfd:
            sel.modify(fd, both)
        sel.select(0)
        for fd in rfd:
            sel.unregister(fd)
        sel.select(0)
        return time.perf_counter_ns() - t0

    one_round()
    print(statistics.median_low(one_round() for _ in range(rounds)))
    sel.close()
    for r, w in fds:
        os.close(r)
        os.close(w)


class MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2 (ten size_t fields)."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap_in_use():
    """malloc'd bytes in use (arena + mmap'd blocks), as common.h's heap_in_use()."""
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd


def mem(sel_mod, m):
    """The memory mode of churn.h: bytes to make a selector and register m dense fds for READ."""
    fds = [fd for pair in pipes(m // 2) for fd in pair]
    heap_in_use()  # load libc and the ctypes machinery before the first measurement

    def heap_delta(count):
        before = heap_in_use()
        sel = sel_mod.EpollSelector()
        for fd in fds[:count]:
            sel.register(fd, sel_mod.EVENT_READ)
        after = heap_in_use()
        sel.close()
        return after - before

    fixed = heap_delta(0)
    print(heap_delta(len(fds)), fixed)


def echo(sel_mod, port):
    """The echo server of echo_conn.h: read, write back, keep the rest and wait for WRITE."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(socket.SOMAXCONN)
    listener.setblocking(False)
    sel = sel_mod.EpollSelector()
    sel.register(listener, sel_mod.EVENT_READ, None)
    conns = {}  # fd -> [socket, pending bytes]
    print(f"Echo server running on localhost:{listener.getsockname()[1]}", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                while True:
                    try:
                        sock, _ = listener.accept()
                    except BlockingIOError:
                        break
                    sock.setblocking(False)
                    conns[sock.fileno()] = [sock, b""]
                    sel.register(sock, sel_mod.EVENT_READ, True)
                continue
            state = conns[key.fd]
            sock, pending = state
            if not pending:
                try:
                    pending = sock.recv(ECHO_BUF)
                except BlockingIOError:
                    continue
                except OSError:
                    pending = b""
                if not pending:
                    sel.unregister(sock)
                    del conns[key.fd]
                    sock.close()
                    continue
            try:
                sent = sock.send(pending)
            except BlockingIOError:
                sent = 0
            was_waiting = bool(state[1])
            state[1] = pending[sent:]
            if bool(state[1]) != was_waiting:
                sel.modify(sock, sel_mod.EVENT_WRITE if state[1] else sel_mod.EVENT_READ, True)


def main(argv):
    """Dispatch on the module name and workload; see the module docstring."""
    if len(argv) < 3:
        sys.exit(__doc__)
    try:
        sel_mod = importlib.import_module(argv[1])
    except ImportError as exc:
        print(f"cannot import {argv[1]}: {exc}", file=sys.stderr)
        sys.exit(3)
    signal.alarm(WATCHDOG_SECONDS)
    raise_nofile_limit()
    workload, args = argv[2], [int(a) for a in argv[3:]]
    if workload == "ring":
        ring(sel_mod, *args)
    elif workload == "churn":
        churn(sel_mod, *args)
    elif workload == "mem":
        mem(sel_mod, *args)
    elif workload == "echo":
        echo(sel_mod, *(args or [0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
