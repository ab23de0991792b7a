"""Pipe-ring benchmark: libselectors against CPython's own selectors, interleaved in one run.

The design of libevent's test/bench.c: N socketpairs, each watched for
reading with its index as data.  A round re-registers all N (setup phase,
unregister + register), writes one byte into A evenly spaced pairs, then
dispatches with select(0) until W more bytes have gone round the ring: each
read callback reads its byte and writes one into the next pair (dispatch
phase).  Both modules run the same code on the same socketpairs, alternating
round by round; the table gives each phase's median per round and two
ratios libselectors / stdlib (below 1: ours is faster): of the medians, and
of the minimums (the least disturbed rounds, steadier on a busy machine).

Usage: python3 bench_ring.py [--pipes 100 1000 9000] [--active 1 100]
                             [--writes 1000] [--rounds 21] [--kind Epoll]
"""

import argparse
import os
import resource
import selectors
import socket
import statistics
import sys
import time

import libselectors

MODULES = (("stdlib", selectors), ("libselectors", libselectors))


class Ring:
    """N socketpairs and the state of one round (bytes in flight, writes left)."""

    def __init__(self, pipes):
        self.pairs = [socket.socketpair() for _ in range(pipes)]
        self.read_fds = [reader.fileno() for reader, _ in self.pairs]
        self.write_fds = [writer.fileno() for _, writer in self.pairs]

    def close(self):
        """Close every socket."""
        for reader, writer in self.pairs:
            reader.close()
            writer.close()

    def setup(self, selector, registered):
        """The setup phase: unregister every pair (if registered) and register it again."""
        read_fds = self.read_fds
        if registered:
            unregister = selector.unregister
            for fd in read_fds:
                unregister(fd)
        register = selector.register
        for index, fd in enumerate(read_fds):
            register(fd, selectors.EVENT_READ, index)

    def dispatch(self, selector, active, writes):
        """The dispatch phase: send ``active`` bytes, run callbacks until ``writes`` more went."""
        read_fds, write_fds, pipes = self.read_fds, self.write_fds, len(self.read_fds)
        space = pipes // active
        for i in range(active):
            os.write(write_fds[i * space], b"e")
        fired, count, writes_left = active, 0, writes
        select, read, write = selector.select, os.read, os.write
        while count != fired:
            for key, _ in select(0):
                index = key.data
                count += len(read(read_fds[index], 1))
                if writes_left:
                    following = index + 1 if index + 1 < pipes else 0
                    write(write_fds[following], b"e")
                    writes_left -= 1
                    fired += 1


def measure(ring, selector_name, active, writes, rounds):
    """{module label: ([setup seconds], [dispatch seconds])}, modules alternating each round."""
    selectors_by_label = {label: getattr(module, selector_name)() for label, module in MODULES}
    times = {label: ([], []) for label, _ in MODULES}
    try:
        for round_number in range(rounds + 1):  # round 0 warms up and is dropped
            order = MODULES if round_number % 2 else MODULES[::-1]
            for label, _ in order:
                selector = selectors_by_label[label]
                start = time.perf_counter()
                ring.setup(selector, registered=round_number > 0)
                middle = time.perf_counter()
                ring.dispatch(selector, active, writes)
                end = time.perf_counter()
                if round_number:
                    times[label][0].append(middle - start)
                    times[label][1].append(end - middle)
    finally:
        for selector in selectors_by_label.values():
            selector.close()
    return times


def format_phase(theirs, ours):
    """Table cells of one phase: both medians, the ratio of medians and of minimums."""
    their_median, our_median = statistics.median(theirs), statistics.median(ours)
    return (f" {their_median * 1e3:>8.3f}ms {our_median * 1e3:>8.3f}ms"
            f" {our_median / their_median:>9.2f} {min(ours) / min(theirs):>9.2f} |")


def raise_fd_limit():
    """Soft RLIMIT_NOFILE up to the hard limit (20,000 on the project's machines)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    """Parse arguments, run every (N, A) configuration, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipes", type=int, nargs="+", default=[100, 1000, 9000])
    parser.add_argument("--active", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--kind", default="Epoll", help="Select, Poll or Epoll")
    args = parser.parse_args()
    selector_name = args.kind + "Selector"
    raise_fd_limit()

    print(f"python {sys.version.split()[0]}, {selector_name}, W={args.writes} writes per round, "
          f"median of {args.rounds} rounds; library {libselectors._library.path}")
    print(f"{'':11} | {'setup (unregister + register all N)':^42} | {'dispatch (W writes)':^42} |")
    phase_header = f" {'stdlib':>10} {'ours':>10} {'ratio':>9} {'min ratio':>9} |"
    print(f"{'N':>6} {'A':>4} |" + phase_header * 2)
    for pipes in args.pipes:
        ring = Ring(pipes)
        try:
            for active in args.active:
                if active > pipes:
                    continue
                times = measure(ring, selector_name, active, args.writes, args.rounds)
                cells = [format_phase(times["stdlib"][phase], times["libselectors"][phase])
                         for phase in (0, 1)]
                print(f"{pipes:>6} {active:>4} |" + "".join(cells), flush=True)
        finally:
            ring.close()


if __name__ == "__main__":
    main()
