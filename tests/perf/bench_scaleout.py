"""Time ``segrepro plan`` on 10,000 run specs, ``run-plan --executor local`` with ``--jobs 1`` against
``--jobs 2`` on the default smoke matrix (params.yaml: 2 datasets x 2 baselines), side by side in one run,
and the Ray executor's overhead per run. Prints a Markdown table with the load average and threads.

    .venv/bin/python tests/perf/bench_scaleout.py [--parts plan,local,ray] [--work DIR]

Each local measurement runs in a fresh results folder of one temporary working directory (the datasets
are prepared once); nothing is written into the repository. Ray's overhead per run: ``run-plan --executor
ray`` on a local cluster of 1 CPU, on the same plan once its runs are done (the jobs-1 folder), so each task
only finds its record: wall time / runs is what Ray adds to every run (scheduling, worker start, the
worker's imports, result transfer), twice (a fresh worker, then a reused one). Rows print as measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SEGREPRO = [sys.executable, "-m", "segrepro.cli"]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cli(*args: str, env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([*SEGREPRO, *args], env=env, cwd=cwd, check=False, capture_output=True)
    return time.perf_counter() - t0


def env_for(work: Path, results: str) -> dict[str, str]:
    return {**os.environ, "SEGREPRO_DATA_DIR": str(work / "data"), "SEGREPRO_RESULTS_DIR": str(work / results)}


def outcomes(work: Path, results: str, plan: str) -> list[dict]:
    text = (work / results / "plans" / f"{plan}.outcomes.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


class Rows(list):
    """The table's rows, each printed as soon as it is measured (a long benchmark stopped early keeps them)."""

    def append(self, row: tuple[str, str, str]) -> None:
        super().append(row)
        print("| " + " | ".join(row) + " |", flush=True)


def prepare(work: Path) -> dict[str, str]:
    """params.yaml and its datasets prepared in ``work`` (once; a reused ``--work`` folder keeps them)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    env = env_for(work, "results")
    for name in params["datasets"]:
        subprocess.run([*SEGREPRO, "datasets", "prepare", name], env=env, cwd=work, check=True, capture_output=True)
    cli("plan", "--out", "smoke.jsonl", env=env, cwd=work)  # the default smoke matrix
    return env


def measure_plan(work: Path, env: dict[str, str], rows: Rows) -> None:
    folds, seeds = [str(i) for i in range(50)], [str(i) for i in range(50)]
    before = load()
    wall = cli("plan", "--folds", *folds, "--seeds", *seeds, "--out", "big.jsonl", env=env, cwd=work)
    n = len((work / "big.jsonl").read_text().splitlines())
    rows.append((f"`segrepro plan` of {n:,} specs (CLI, process start included)", f"{wall:.2f} s", before))


def measure_local(work: Path, rows: Rows) -> None:
    """``--jobs 1`` then ``--jobs 2`` on the smoke matrix, each into a fresh results folder, side by side."""
    n_smoke = len((work / "smoke.jsonl").read_text().splitlines())
    walls = {}
    for jobs in ("1", "2"):
        before = load()
        results = f"results-jobs{jobs}"
        walls[jobs] = cli("run-plan", "smoke.jsonl", "--jobs", jobs, "--quiet", env=env_for(work, results), cwd=work)
        ok = sum(o["state"] == "done" for o in outcomes(work, results, "smoke.jsonl"))
        threads = max(1, (os.cpu_count() or 1) // int(jobs))
        rows.append(
            (
                f"`run-plan --jobs {jobs}` on the smoke matrix ({n_smoke} runs, {ok} done; "
                f"{threads} torch threads each)",
                f"{walls[jobs]:.1f} s",
                f"{before} -> {load()}",
            )
        )
    rows.append(("ratio jobs 2 / jobs 1", f"{walls['2'] / walls['1']:.2f}", ""))


def measure_ray(work: Path, rows: Rows) -> None:
    """The done runs of the jobs-1 results (all of them after ``measure_local``) as a plan, so each Ray task only
    checks its record: the wall time per run is Ray's overhead (scheduling, worker start, imports, result transfer)."""
    import ray

    from segrepro.cli import main as segrepro_main

    env = env_for(work, "results-jobs1")
    cli("plan", "--out", "now.jsonl", env=env, cwd=work)
    done = [line for line in (work / "now.jsonl").read_text().splitlines() if json.loads(line)["state"] == "done"]
    (work / "done.jsonl").write_text("".join(f"{line}\n" for line in done))
    os.environ.update(env)
    os.chdir(work)
    before = load()
    t0 = time.perf_counter()
    ray.init(num_cpus=1, include_dashboard=False, configure_logging=False, log_to_driver=False)
    rows.append(("`ray.init(num_cpus=1)` (once per run-plan)", f"{time.perf_counter() - t0:.1f} s", before))
    for attempt in ("first (fresh worker)", "second (worker reused)"):
        before = load()
        t0 = time.perf_counter()
        segrepro_main(["run-plan", "done.jsonl", "--executor", "ray", "--quiet", "--allow-failure"])
        wall = time.perf_counter() - t0
        found = outcomes(work, "results-jobs1", "done.jsonl")
        skipped = sum(o["state"] == "skipped" for o in found)
        rows.append(
            (
                f"Ray overhead per run, {attempt}: `run-plan --executor ray` on the {len(found)} done runs "
                f"({skipped} skipped), wall {wall:.2f} s / {len(found)}",
                f"{wall / len(found):.2f} s",
                f"{before} -> {load()}",
            )
        )
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="plan,local,ray", help="comma-separated: plan, local, ray (default all)")
    parser.add_argument(
        "--work", type=Path, help="a working folder to keep (default: a temporary one); ray needs local's results"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    print("\n| measurement | result | load average (1, 5, 15 min) |\n|---|---|---|", flush=True)
    rows = Rows()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = prepare(work)
        if "plan" in parts:
            measure_plan(work, env, rows)
        if "local" in parts:
            measure_local(work, rows)
        if "ray" in parts:
            measure_ray(work, rows)


if __name__ == "__main__":
    main()
