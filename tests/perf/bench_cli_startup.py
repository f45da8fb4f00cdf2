"""Wall time of the CLI commands that must answer fast (target: under 1.5 s each on the reference
machine): ``baselines list``, ``datasets list`` and ``evaluate`` without ``--hd95``.

Each install (a folder a wheel was installed into with ``pip install --no-deps --target``, or
``editable`` for this virtualenv's own install) is timed in turn, interleaved, ``--repeat`` times, so
load from other jobs hits all of them alike. Run from a folder holding ``t.npy`` (a label image).

    python tests/perf/bench_cli_startup.py --install before=/tmp/perf/before --install after=/tmp/perf/after
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "baselines list": ["baselines", "list"],
    "datasets list": ["datasets", "list"],
    "evaluate": ["evaluate", "--target", "t.npy", "--pred", "t.npy", "--n-classes", "3"],
}


def timed(install: str, args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one command; CPU time is what other jobs' load inflates least."""
    env = dict(os.environ)
    if install != "editable":
        env["PYTHONPATH"] = install
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "segrepro.cli", *args], env=env, check=True, capture_output=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="append", required=True, help="NAME=FOLDER or NAME=editable")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    installs = dict(item.split("=", 1) for item in args.install)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    load = os.getloadavg()[0]
    for _ in range(args.repeat):
        for command, argv in COMMANDS.items():
            for name, folder in installs.items():
                times.setdefault((command, name), []).append(timed(folder, argv))
    print(f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; {args.repeat} runs; seconds")
    print(f"{'command':16s} {'install':8s} {'wall median':>11s} {'min':>6s} {'max':>6s} {'cpu median':>10s}")
    for (command, name), values in times.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(
            f"{command:16s} {name:8s} {statistics.median(walls):11.2f} {min(walls):6.2f} {max(walls):6.2f}"
            f" {statistics.median(cpus):10.2f}"
        )


if __name__ == "__main__":
    main()
