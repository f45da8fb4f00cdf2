"""Time the leaderboard on 10,000 run records: loading (parse + schema validation) and building the views.

Writes N synthetic, schema-valid records shaped like the protocol's (6 datasets x 20 baselines x 3
tiers x folds/seeds, 5 classes, the 9 scores of a run record, a paper-convention block for half the
baselines, raw counts for 20 test images each) and a published table into a temporary folder,
then times each step, and the whole page through Streamlit's testing API: its first open with no
cache (parses everything), reruns (in-memory cache), and the first open after a restart (the
parsed-record cache on disk). All in one process, so module imports count only in the first open.
Prints a Markdown table.

    .venv/bin/python tests/perf/bench_leaderboard.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))

from fixture_data import METHODS_HEADER, PUBLISHED_HEADER, make_record, write_csv, write_record

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
        cache = results / ".cache" / "leaderboard"  # where the page keeps it (data.default_folders)
        folders = data.Folders(((data.SOURCE_MINE, results / "runs"),), published, (), cache)
        rows: list[tuple[str, float]] = []
        timed(
            "file signature (stat every record) and its digest", lambda: data.digest(data.runs_signature(folders)), rows
        )
        res = timed(
            "load: parse + validate every record, write the cache (first time)",
            lambda: data.load_results(folders),
            rows,
        )
        timed("load: files unchanged, all from the parsed-record cache", lambda: data.load_results(folders), rows)
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
        os.environ["SEGREPRO_RESULTS_DIR"], os.environ["SEGREPRO_PUBLISHED_DIR"] = str(results), str(published)
        import streamlit as st
        from streamlit.testing.v1 import AppTest

        app = str(Path(__file__).resolve().parents[2] / "leaderboard" / "app.py")
        shutil.rmtree(cache)
        at = AppTest.from_file(app, default_timeout=600)
        timed("whole page, first open, no cache yet (parse + validate everything)", at.run, rows)
        assert not at.exception, at.exception
        timed("whole page, rerun (in-memory cache hit)", at.run, rows)
        timed(
            "whole page, rerun after choosing another metric",
            at.sidebar.selectbox(key="metric").select("iou").run,
            rows,
        )
        st.cache_data.clear()  # as in a restarted server: nothing in memory, the parsed-record cache on disk
        at = AppTest.from_file(app, default_timeout=600)
        timed("whole page, first open after a server restart (parsed-record cache)", at.run, rows)
        assert not at.exception, at.exception
    print(
        f"{args.runs} run records ({size / 2**20:.0f} MiB of JSON; {len(res.scores)} score rows), "
        f"{len(tables.published)} published numbers; written in {setup:.0f} s."
    )
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs visible, Python {platform.python_version()}.\n")
    print("| step | seconds |\n|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
