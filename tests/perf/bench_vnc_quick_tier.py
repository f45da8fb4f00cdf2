"""Accuracy per CPU-minute of paper 001's quick tier on Drosophila VNC, from the committed reference records.

The runs themselves are the benchmark (``segrepro run --dataset drosophila-vnc --baseline ID --tier quick
--fold F``, one at a time); this reads their records and prints, per run: its recipe hash, torch threads,
wall time, CPU-minutes (wall x threads: an upper bound, the threads are not always busy), mean IoU in the
paper's convention (percent, five classes) and mean IoU per CPU-minute, so that a change of the recipe can
be judged on accuracy per minute against these rows. Stale records (another recipe) are marked.

    .venv/bin/python tests/perf/bench_vnc_quick_tier.py [--runs results/reference/runs]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from segrepro.baselines.registry import get_baseline
from segrepro.results import read_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=Path("results/reference/runs"))
    args = parser.parse_args()
    records, _ = read_records(args.runs)
    rows = [
        r
        for r in records
        if r["dataset"]["name"] == "drosophila-vnc" and r["tier"] == "quick" and r["status"] == "ok"
        and r["baseline"]["id"].startswith("fujii2021-")
    ]  # fmt: skip
    print("| run | recipe | threads | wall (min) | CPU-min | load at start | mean IoU (%) | IoU points per CPU-min |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: r["run_id"]):
        prov, entry = r["provenance"], get_baseline(r["baseline"]["id"])
        current = entry.recipe("quick").hash()
        recipe = r.get("recipe_hash") or "unknown"
        state = recipe if recipe == current else f"{recipe} (not the current recipe)"
        wall = prov["wall_time_s"] / 60
        cpu = wall * prov["threads"]
        iou = 100 * r["metrics"]["paper"]["mean"]["iou"]  # the fujii2021 convention: five classes
        load = prov.get("load_average", {}).get("start", "n/a")
        cells = (
            r["run_id"],
            state,
            prov["threads"],
            f"{wall:.1f}",
            f"{cpu:.1f}",
            load,
            f"{iou:.2f}",
            f"{iou / cpu:.2f}",
        )
        print("| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
