"""Time ``segrepro plan`` on 10,000 run specs, ``run-plan --executor local`` with ``--jobs 1`` against
``--jobs 2`` on the default smoke matrix (params.yaml: 2 datasets x 2 baselines), side by side in one run,
and the Ray executor's overhead per run. Prints a Markdown table with the load average and threads.

    .venv/bin/python tests/perf/bench_scaleout.py

Each measurement runs in a fresh results folder of one temporary working directory (the datasets are
prepared once); nothing is written into the repository. Ray's overhead per run is the wall time of
``run-plan --executor ray`` (after ``ray.init``) minus the seconds each run spent inside its task
(``RunResult.seconds``, measured in the worker after its imports), divided by the number of runs, on a
local cluster of 1 CPU (one task at a time, so the difference is pure overhead: scheduling, worker start,
imports, result transfer).
"""

from __future__ import annotations

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


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        (work / "params.yaml").write_text(yaml.safe_dump(params))
        env = env_for(work, "results")
        for name in params["datasets"]:
            subprocess.run([*SEGREPRO, "datasets", "prepare", name], env=env, cwd=work, check=True, capture_output=True)

        folds, seeds = [str(i) for i in range(50)], [str(i) for i in range(50)]
        args = ["plan", "--folds", *folds, "--seeds", *seeds, "--out", "big.jsonl"]
        before = load()
        wall = cli(*args, env=env, cwd=work)
        n = len((work / "big.jsonl").read_text().splitlines())
        rows.append((f"`segrepro plan` of {n:,} specs (CLI, process start included)", f"{wall:.2f} s", before))

        cli("plan", "--out", "smoke.jsonl", env=env, cwd=work)  # the default smoke matrix
        n_smoke = len((work / "smoke.jsonl").read_text().splitlines())
        walls = {}
        for jobs in ("1", "2"):
            before = load()
            results = f"results-jobs{jobs}"
            walls[jobs] = cli(
                "run-plan", "smoke.jsonl", "--jobs", jobs, "--quiet", env=env_for(work, results), cwd=work
            )
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

        import ray

        from segrepro.cli import main as segrepro_main

        os.environ.update(env_for(work, "results-ray"))
        os.chdir(work)
        before = load()
        t0 = time.perf_counter()
        ray.init(num_cpus=1, include_dashboard=False, configure_logging=False, log_to_driver=False)
        init = time.perf_counter() - t0
        t0 = time.perf_counter()
        segrepro_main(["run-plan", "smoke.jsonl", "--executor", "ray", "--quiet"])
        wall = time.perf_counter() - t0
        ray.shutdown()
        done = outcomes(work, "results-ray", "smoke.jsonl")
        inside = sum(o["seconds"] for o in done)
        rows.append(("`ray.init(num_cpus=1)` (once per run-plan)", f"{init:.1f} s", before))
        rows.append(
            (
                f"Ray overhead per run ({len(done)} runs, {sum(o['state'] == 'done' for o in done)} done): "
                f"(wall {wall:.1f} s - in-task {inside:.1f} s) / {len(done)}",
                f"{(wall - inside) / len(done):.2f} s",
                f"{before} -> {load()}",
            )
        )
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")  # fmt: skip
    print("\n| measurement | result | load average (1, 5, 15 min) |\n|---|---|---|")
    for what, result, when in rows:
        print(f"| {what} | {result} | {when} |")


if __name__ == "__main__":
    main()
