#!/usr/bin/env python3
"""Whole processes timed in turns: each round runs every command once, the
order reversed every other round, so a load that changes during the run
(a shared machine) weighs on each alike. Prints each command's median
wall time, its quartiles, the mean CPU time of the process (user +
system, from rusage) and its ratio to the first command's median.

    python3 benches/side_by_side.py ROUNDS -- LABEL="COMMAND ARGS" ...

A command is split on spaces (no quoting). Used to compare two builds of
switchboard with pueue, e.g. with an engine and pueue's daemon running
(paused) on their homes:

    python3 benches/side_by_side.py 120 -- \\
        before="/tmp/old/switchboard dispatch api echo hi" \\
        after="target/release/switchboard dispatch api echo hi" \\
        pueue="target/peers/bin/pueue -c pueue.yml add -- echo hi"
"""

import resource
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    commands = []
    for given in sys.argv[3:]:
        label, _, command = given.partition("=")
        commands.append((label, command.split()))
    wall = {label: [] for label, _ in commands}
    cpu = {label: [] for label, _ in commands}
    for round_ in range(rounds):
        for label, argv in commands if round_ % 2 == 0 else reversed(commands):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            wall[label].append((time.perf_counter() - start) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            cpu[label].append(used * 1000)
    with open("/proc/loadavg") as f:
        print("load average", " ".join(f.read().split()[:3]))
    first = statistics.median(wall[commands[0][0]])
    for label, _ in commands:
        median = statistics.median(wall[label])
        q1, _, q3 = statistics.quantiles(wall[label], n=4)
        print(
            f"{label:16} median {median:6.2f} ms (q1 {q1:5.2f}, q3 {q3:5.2f}), "
            f"CPU mean {statistics.mean(cpu[label]):5.2f} ms, ratio {median / first:5.2f}"
        )


if __name__ == "__main__":
    main()
