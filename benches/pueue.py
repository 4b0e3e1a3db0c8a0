#!/usr/bin/env python3
"""switchboard beside pueue, a peer: `dispatch` against `pueue add`, and
`jobs --json` against `pueue status --json`, on an empty queue and with
2,000 queued, each as a whole process, side by side in one run.

    python3 benches/pueue.py [--check] [SWITCHBOARD_BINARY]

It also prints switchboard's own dispatch at 2,000 queued over the empty
queue (a dispatch's cost must not grow with the queue), and the goals of
issue 13; with --check it exits 1 when one is not met (take it on a quiet
machine: under load the commit's fsync, which pueue does not do, is most
of a dispatch).

pueue is installed with `cargo install --root target/peers pueue`; without
it this prints why and exits 0. The switchboard binary defaults to
target/release/switchboard (else target/debug, said in the output). Nothing
runs the queued work: no engine for switchboard, a paused group for pueue.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "target", "peers", "bin")
RUNS = 40
QUEUED = 2000


def timed(argv, env=None, runs=RUNS):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main():
    pueue = os.path.join(PEERS, "pueue")
    pueued = os.path.join(PEERS, "pueued")
    if not (os.path.exists(pueue) and os.path.exists(pueued)):
        print("pueue is not installed: cargo install --root target/peers pueue (skipped)")
        return
    args = [a for a in sys.argv[1:] if a != "--check"]
    binary = args[0] if args else None
    if binary is None:
        for profile in ("release", "debug"):
            candidate = os.path.join(ROOT, "target", profile, "switchboard")
            if os.path.exists(candidate):
                binary = candidate
                break
    tmp = tempfile.mkdtemp(prefix="sb-pueue-")
    try:
        met = run(binary, pueue, pueued, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if "--check" in sys.argv[1:] and not met:
        sys.exit(1)


def run(binary, pueue, pueued, tmp):
    config = os.path.join(tmp, "pueue.yml")
    with open(config, "w") as f:
        f.write(
            "shared:\n"
            f"  pueue_directory: {tmp}/pueue\n"
            f"  runtime_directory: {tmp}/run\n"
            "  use_unix_socket: true\n"
            f"  unix_socket_path: {tmp}/run/pueue.socket\n"
            "daemon:\n"
            "  default_parallel_tasks: 1\n"
        )
    os.makedirs(f"{tmp}/run", exist_ok=True)
    daemon = subprocess.Popen([pueued, "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(f"{tmp}/run/pueue.socket"):
                break
            time.sleep(0.05)
        p = [pueue, "-c", config]
        subprocess.run(p + ["pause"], check=True, stdout=subprocess.DEVNULL)

        home = os.path.join(tmp, "home")
        repo = os.path.join(tmp, "api")
        os.makedirs(repo)
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        subprocess.run(
            ["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "--allow-empty", "-m", "init"],
            check=True,
        )
        env = dict(os.environ, SWITCHBOARD_HOME=home, NO_COLOR="1")
        subprocess.run([binary, "project", "add", "api", repo], env=env, check=True, stdout=subprocess.DEVNULL)

        sb_add = [binary, "dispatch", "api", "echo", "hello"]
        pu_add = p + ["add", "--", "echo", "hello"]
        sb_list = [binary, "jobs", "--json"]
        pu_list = p + ["status", "--json"]
        rows = []
        rows.append(("add one task, empty queue", timed(sb_add, env), timed(pu_add)))
        rows.append(("list as JSON, ~40 queued", timed(sb_list, env), timed(pu_list)))
        # Fill both to QUEUED (the fill itself is not measured).
        for _ in range(QUEUED - RUNS):
            subprocess.run(pu_add, check=True, stdout=subprocess.DEVNULL)
        lines = "".join(
            '{"type":"task","project":"api","prompt":"echo hello %d"}\n' % i for i in range(QUEUED - RUNS)
        )
        subprocess.run([binary, "ingest", "-"], env=env, input=lines.encode(), check=True, stdout=subprocess.DEVNULL)
        rows.append((f"add one task, {QUEUED} queued", timed(sb_add, env), timed(pu_add)))
        rows.append((f"list as JSON, {QUEUED} queued", timed(sb_list, env, 20), timed(pu_list, None, 20)))
    finally:
        daemon.terminate()
        daemon.wait()
    version = subprocess.run([pueue, "--version"], capture_output=True, text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        loadavg = " ".join(f.read().split()[:3])
    print(f"switchboard: {binary}; {version}; load average {loadavg}")
    print(f"{'what':34} {'switchboard':>12} {'pueue':>10} {'ratio':>7}")
    for what, sb, pu in rows:
        print(f"{what:34} {sb:10.1f} ms {pu:7.1f} ms {sb / pu:7.2f}")
    empty, full = rows[0], rows[2]
    print(f"switchboard dispatch, {QUEUED} queued over empty: {full[1] / empty[1]:.2f}")
    goals = [
        ("dispatch no slower than pueue add, empty queue", empty[1] <= empty[2]),
        (f"dispatch at most 1/3 of pueue add, {QUEUED} queued", full[1] * 3 <= full[2]),
    ]
    for what, ok in goals:
        print(f"goal: {what}: {'met' if ok else 'NOT MET'}")
    return all(ok for _, ok in goals)


if __name__ == "__main__":
    main()
