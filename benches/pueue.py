#!/usr/bin/env python3
"""switchboard beside pueue, a peer: `dispatch` against `pueue add`, and
`jobs --json` against `pueue status --json`, on an empty queue and with
2,000 queued, each as a whole process, side by side in one run: the
figures of one row are taken in turns (switchboard with its engine,
switchboard without, pueue, then the other way round), so a load that
changes during the run weighs on each alike; compare ratios, and say the
load (printed).

    python3 benches/pueue.py [--check] [SWITCHBOARD_BINARY]

It also prints switchboard's own dispatch at 2,000 queued over the empty
queue (a dispatch's cost must not grow with the queue), and the goals of
issue 13; with --check it exits 1 when one is not met (take it on a quiet
machine: under load the commit's fsync, which pueue does not do, is most
of a dispatch).

Both peers are measured the same way: pueue's daemon runs, paused, and so
does switchboard's engine (`switchboard run --headless` on its own home,
paused with `switchboard pause` before anything is measured, stopped at
the end with `switchboard drain`, which ends a paused engine with nothing
running). Each figure is also taken on a second home with no engine, the
same work fed to both, and printed beside it. The goals are checked on the
engine-running figures; if the engine cannot start or pause (no tmux, an
older binary), on the no-engine ones, and the output says so.

pueue is installed with `cargo install --root target/peers pueue`; without
it this prints why and exits 0. The switchboard binary defaults to
target/release/switchboard (else target/debug, said in the output). Nothing
runs the queued work: a paused engine for switchboard (or none), a paused
group for pueue.
"""

import os
import json
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


def side_by_side(commands, runs=RUNS):
    """Median wall time in ms of each (argv, env) in `commands`, taken in
    turns: each round runs every command once, the order reversed every
    other round, so a machine whose load changes during the run weighs on
    all of them alike. A command given as None gets None."""
    live = [(i, c) for i, c in enumerate(commands) if c is not None]
    samples = {i: [] for i, _ in live}
    for round_ in range(runs):
        for i, (argv, env) in live if round_ % 2 == 0 else reversed(live):
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            samples[i].append(time.perf_counter() - start)
    return [statistics.median(samples[i]) * 1000 if i in samples else None for i in range(len(commands))]


def start_engine(binary, env, home, tmp):
    """`switchboard run --headless` on `home`, paused; (process, None), or
    (None, why) when it cannot start or pause."""
    log = open(os.path.join(tmp, "engine.stderr"), "w+")
    engine = subprocess.Popen([binary, "run", "--headless"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    paused = subprocess.run([binary, "pause"], env=env, capture_output=True, text=True)
    why = None
    if paused.returncode != 0:
        why = "`switchboard pause` failed: " + (paused.stderr.strip() or f"exit {paused.returncode}")
    else:
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(home, "PAUSED")):
            if engine.poll() is not None:
                log.seek(0)
                why = f"the engine exited ({engine.returncode}): " + log.read().strip()[-300:]
                break
            if time.monotonic() > deadline:
                why = "the engine did not pause within 20 s"
                break
            time.sleep(0.05)
    if why is None:
        return engine, None
    stop_engine(binary, env, home, engine)
    return None, why


def stop_engine(binary, env, home, engine):
    """Ends the engine as tests do: a drain, which ends a paused engine
    with nothing running (then the signals, if it does not), and its
    private tmux server."""
    if engine.poll() is None:
        subprocess.run([binary, "drain"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            engine.wait(timeout=30)
        except subprocess.TimeoutExpired:
            engine.terminate()
            try:
                engine.wait(timeout=5)
            except subprocess.TimeoutExpired:
                engine.kill()
                engine.wait()
    socket = os.path.join(home, "tmux", "server.sock")
    if os.path.exists(socket):
        subprocess.run(["tmux", "-S", socket, "kill-server"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def settle(binary, env, jobs):
    """Waits (up to 2 min) until the paused engine has told each of `jobs`
    queued jobs its wait, so its catching up is not in the next figure."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = subprocess.run([binary, "jobs", "--json"], env=env, capture_output=True, check=True).stdout
        told = [j for j in json.loads(out) if (j.get("reason") or "").startswith("paused")]
        if len(told) >= jobs:
            return
        time.sleep(0.2)
    print(f"(the engine had not told all {jobs} jobs their wait after 2 min; measured anyway)")


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

        repo = os.path.join(tmp, "api")
        os.makedirs(repo)
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        subprocess.run(
            ["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "--allow-empty", "-m", "init"],
            check=True,
        )
        # Two homes fed the same work: one with its engine running (paused),
        # one with none.
        homes = {}
        for name in ("engine", "bare"):
            home = os.path.join(tmp, name)
            env = dict(os.environ, SWITCHBOARD_HOME=home, NO_COLOR="1")
            subprocess.run([binary, "project", "add", "api", repo], env=env, check=True, stdout=subprocess.DEVNULL)
            homes[name] = (home, env)
        engine, why = start_engine(binary, homes["engine"][1], homes["engine"][0], tmp)
        engine_env = homes["engine"][1] if engine else None
        bare_env = homes["bare"][1]
        try:
            def row(what, argv, pu_argv, runs=RUNS):
                """(what, engine running, no engine, pueue), the three taken
                in turns; the engine's figure is None without one."""
                return (what, *side_by_side(
                    [(argv, engine_env) if engine_env else None, (argv, bare_env), (pu_argv, None)], runs
                ))

            queued = 0

            def settled():
                if engine_env:
                    settle(binary, engine_env, queued)

            sb_add = [binary, "dispatch", "api", "echo", "hello"]
            pu_add = p + ["add", "--", "echo", "hello"]
            sb_list = [binary, "jobs", "--json"]
            pu_list = p + ["status", "--json"]
            rows = []
            rows.append(row("add one task, empty queue", sb_add, pu_add))
            queued += RUNS
            settled()
            rows.append(row("list as JSON, ~40 queued", sb_list, pu_list))
            # Fill all to QUEUED (the fill itself is not measured).
            for _ in range(QUEUED - RUNS):
                subprocess.run(pu_add, check=True, stdout=subprocess.DEVNULL)
            lines = "".join(
                '{"type":"task","project":"api","prompt":"echo hello %d"}\n' % i for i in range(QUEUED - RUNS)
            )
            for env in (engine_env, bare_env):
                if env:
                    subprocess.run([binary, "ingest", "-"], env=env, input=lines.encode(), check=True, stdout=subprocess.DEVNULL)
            queued = QUEUED
            settled()
            rows.append(row(f"add one task, {QUEUED} queued", sb_add, pu_add))
            queued += RUNS
            settled()
            rows.append(row(f"list as JSON, {QUEUED} queued", sb_list, pu_list, 20))
        finally:
            if engine:
                if engine.poll() is not None:
                    why = f"the engine exited during the run ({engine.returncode})"
                    engine = None
                else:
                    stop_engine(binary, engine_env, homes["engine"][0], engine)
    finally:
        daemon.terminate()
        daemon.wait()
    version = subprocess.run([pueue, "--version"], capture_output=True, text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        loadavg = " ".join(f.read().split()[:3])
    print(f"switchboard: {binary}; {version}; load average {loadavg}")
    if engine:
        print("switchboard's engine ran (paused) beside pueue's daemon (paused); 'no engine' is a second home without one")
    else:
        print(f"switchboard's engine could not run: {why}; the goals are checked on the no-engine figures")

    def ms(figure):
        return f"{figure:9.1f} ms" if figure is not None else f"{'-':>12}"

    def ratio(figure, pu):
        return f"{figure / pu:7.2f}" if figure is not None else f"{'-':>7}"

    print(f"{'what':32} {'sb engine':>12} {'sb no engine':>13} {'pueue':>10} {'ratio':>7} {'ratio':>7}")
    print(f"{'':32} {'(paused)':>12} {'':>13} {'(paused)':>10} {'engine':>7} {'none':>7}")
    for what, with_engine, bare, pu in rows:
        print(f"{what:32} {ms(with_engine)} {ms(bare):>13} {pu:7.1f} ms {ratio(with_engine, pu)} {ratio(bare, pu)}")
    # The goals: on the engine-running figures, else the no-engine ones.
    column = 1 if engine else 2
    basis = "engine running" if engine else "no engine"
    empty, full = rows[0], rows[2]
    print(f"switchboard dispatch ({basis}), {QUEUED} queued over empty: {full[column] / empty[column]:.2f}")
    goals = [
        ("dispatch no slower than pueue add, empty queue", empty[column] <= empty[3]),
        (f"dispatch at most 1/3 of pueue add, {QUEUED} queued", full[column] * 3 <= full[3]),
    ]
    for what, ok in goals:
        print(f"goal ({basis}): {what}: {'met' if ok else 'NOT MET'}")
    return all(ok for _, ok in goals)


if __name__ == "__main__":
    main()
