"""Time ``segrepro aggregate`` and the leaderboard on 10,000 run records.

Writes N synthetic, schema-valid records shaped like the protocol's (6 datasets x 20 baselines x 3
tiers x folds/seeds, 5 classes, the 9 scores of a run record, a paper-convention block for half the
baselines, raw counts for 20 test images each) and a published table into a temporary folder,
then times: ``aggregate`` (parse + validate every record, write the Parquet tables and the CSVs),
loading the page's data from those tables, the views, and the whole page through Streamlit's testing
API in a fresh Python process, as a freshly started server (Streamlit imported and its one-off
component scan done, as at a server's start; the page's own imports and everything after them
timed): its first open after ``aggregate``, a rerun, a rerun after choosing another metric. Last,
for comparison, the first open with no tables at all (every record parsed by the page). Prints a
Markdown table.

    .venv/bin/python tests/perf/bench_leaderboard.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))

from fixture_data import METHODS_HEADER, PUBLISHED_HEADER, make_record, write_csv, write_record

from segrepro import results as results_layer
from segrepro.aggregate import aggregate
from segrepro.leaderboard import data, views

CLASSES = ("background", "c1", "c2", "c3", "c4")
METRICS = ("precision", "recall", "tnr", "dice", "iou", "balanced_accuracy", "youden_j", "mcc", "auc")


def write_runs(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    combos = [(d, b, t) for d in range(6) for b in range(20) for t in ("smoke", "quick", "paper")]
    for i in range(n):
        d, b, tier = combos[i % len(combos)]
        rep = i // len(combos)
        scores = {c: {m: float(rng.uniform(0.2, 0.95)) for m in METRICS} for c in CLASSES}
        own = b % 2 == 1  # half the baselines score in a paper convention of their own, as records do
        record = make_record(
            f"dataset-{d}",
            f"baseline-{b:02d}",
            f"{b % 5:03d}",
            tier,
            rep % 5,
            rep // 5,
            scores,
            CLASSES,
            convention=f"paper-{b % 5}" if own else "canonical",
            paper_scores={c: {m: v * 0.9 for m, v in s.items()} for c, s in scores.items()} if own else None,
        )
        record["metrics"]["counts_per_image"] = {
            f"img{j:03d}": rng.integers(0, 10_000, size=(len(CLASSES), 4)).tolist() for j in range(20)
        }
        write_record(folder, record)


def timed(label: str, fn, rows: list) -> object:
    t0 = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - t0))
    return out


APP = Path(__file__).resolve().parents[2] / "leaderboard" / "app.py"
FRESH_SERVER = """
import json, sys, time
from streamlit.testing.v1 import AppTest
AppTest.from_string("import streamlit as st").run()  # a server's start: Streamlit scans its components once
times = []
at = AppTest.from_file(sys.argv[1], default_timeout=600)
for step in (at.run, lambda: at.run(), lambda: at.sidebar.selectbox(key="metric").select("iou").run()):
    t0, c0 = time.perf_counter(), time.process_time()
    step()
    times.append((time.perf_counter() - t0, time.process_time() - c0))
    assert not at.exception, at.exception
print(json.dumps(times))
"""


def fresh_server(results: Path, published: Path) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of the first open, a rerun and a rerun after another metric, in a new Python
    process (Streamlit imported first). CPU time (all threads) tells what wall time would be on an idle
    machine: the page runs on one thread, so on a shared CPU the wall time is mostly waiting."""
    env = {**os.environ, "SEGREPRO_RESULTS_DIR": str(results), "SEGREPRO_PUBLISHED_DIR": str(published)}
    out = subprocess.run(
        [sys.executable, "-c", FRESH_SERVER, str(APP)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results, published = root / "results", root / "published"
        t0 = time.perf_counter()
        write_runs(results / "runs", args.runs)
        write_csv(
            published / "p000" / "published.csv",
            PUBLISHED_HEADER,
            [
                ("000", "5", f"dataset-{d}", f"M{b}", c, "dice", "80.0", "")
                for d in range(6)
                for b in range(20)
                for c in CLASSES
            ],
        )
        write_csv(
            published / "p000" / "methods.csv",
            METHODS_HEADER,
            [("5", f"M{b}", f"baseline-{b:02d}", "100") for b in range(20)],
        )
        setup = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (results / "runs").glob("*.json"))
        folders = data.Folders(((data.SOURCE_MINE, results / "runs"),), published, (), tables=True)
        rows: list[tuple[str, float]] = []
        timed(
            "file signature (stat every record) and its digest", lambda: data.digest(data.runs_signature(folders)), rows
        )
        # The records' baselines are not registered: no current recipe hashes (the registry import is not timed).
        timed(
            "`aggregate`: parse + validate every record, write tables/*.parquet and the two CSVs",
            lambda: aggregate(results / "runs", results, recipes={}),
            rows,
        )
        tables_size = sum(p.stat().st_size for p in results_layer.tables_dir(results / "runs").glob("*.parquet"))
        res = timed("load: the page's data from the stored tables", lambda: data.load_results(folders), rows)
        tables = timed("load + validate published tables", lambda: data.load_tables(folders), rows)
        timed(
            "view: rankings (one dataset, metric, class)",
            lambda: views.rankings(res, res.runs, "dataset-0", "dice", "mean"),
            rows,
        )
        timed(
            "view: per class (one dataset, metric)", lambda: views.per_class(res, res.runs, "dataset-0", "dice"), rows
        )
        timed(
            "view: reproduced vs published (600 numbers)",
            lambda: views.published_vs_reproduced(tables.published, res),
            rows,
        )
        labels = (
            "whole page, first open after `aggregate`, fresh server process",
            "whole page, rerun (in-memory cache hit)",
            "whole page, rerun after choosing another metric",
        )
        page = list(zip(labels, fresh_server(results, published), strict=True))
        shutil.rmtree(results_layer.tables_dir(results / "runs"))
        label = "whole page, first open with no tables (the page parses every record, stores the tables)"
        page.append((label, fresh_server(results, published)[0]))
    print(
        f"{args.runs} run records ({size / 2**20:.0f} MiB of JSON; {len(res.scores)} score rows; "
        f"{tables_size / 2**20:.1f} MiB of Parquet tables), {len(tables.published)} published numbers; "
        f"written in {setup:.0f} s."
    )
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs visible, Python {platform.python_version()}.\n")
    print("| step | seconds |\n|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")
    print("\n| page (Streamlit testing API, fresh process) | wall seconds | CPU seconds |\n|---|---|---|")
    for label, (wall, cpu) in page:
        print(f"| {label} | {wall:.2f} | {cpu:.2f} |")
    print(f"\nLoad average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.")


if __name__ == "__main__":
    main()
