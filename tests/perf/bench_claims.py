"""Time the claims ledger on 10,000 run records: the score table the page builds for it and the verdicts.

Writes the synthetic records of ``bench_leaderboard.py`` (6 datasets x 20 baselines x 3 tiers x folds/seeds)
and a claims file of 6 claims (three A-vs-B, one A against a set of 6 on 2 metrics x 3 classes, one on
several datasets, one on a dataset without runs), loads the records as the page does, then times
``views.claim_scores`` and ``claims.judge`` (the Claims view's work, cached afterwards). Prints a Markdown table.

    .venv/bin/python tests/perf/bench_claims.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_leaderboard import write_runs

from segrepro import claims
from segrepro.leaderboard import data, views

CLAIMS = """
paper: "000"
claims:
  - {id: a, quote: q, source: s, datasets: [dataset-0], metric: dice, class: mean, a: baseline-00, b: baseline-01,
     direction: higher}
  - {id: b, quote: q, source: s, datasets: [dataset-1], metric: iou, class: c1, a: baseline-02, b: baseline-03,
     direction: higher}
  - {id: c, quote: q, source: s, datasets: [dataset-2], metric: auc, class: c4, a: baseline-04, b: baseline-05,
     direction: lower}
  - {id: d, quote: q, source: s, datasets: [dataset-3], metric: [auc, dice], class: [c2, c3, c4], a: baseline-06,
     b: [baseline-07, baseline-08, baseline-09, baseline-10, baseline-11, baseline-12], direction: higher}
  - {id: e, quote: q, source: s, datasets: [dataset-4, dataset-5], metric: dice, class: mean, a: baseline-13,
     b: baseline-14, direction: higher}
  - {id: f, quote: q, source: s, datasets: [private-data], metric: dice, class: mean, a: baseline-15,
     b: baseline-16, direction: higher}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    n = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_runs(root / "runs", n)
        (root / "pub" / "p000").mkdir(parents=True)
        (root / "pub" / "p000" / "claims.yaml").write_text(CLAIMS)
        folders = data.Folders((("reference", root / "runs"),), root / "pub", ())
        results, tables = data.load_results(folders), data.load_tables(folders)
        assert not tables.problems, tables.problems
        t0 = time.perf_counter()
        scores = views.claim_scores(results, tables.claims)
        t1 = time.perf_counter()
        verdicts, comparisons = claims.judge(tables.claims, scores)
        t2 = time.perf_counter()
    print(f"{n} run records, {len(scores)} score rows, {len(verdicts)} verdicts from {len(comparisons)} comparisons\n")
    print("| step | seconds |\n|---|---:|")
    print(f"| views.claim_scores (the page's score table) | {t1 - t0:.2f} |")
    print(f"| claims.judge (every verdict) | {t2 - t1:.2f} |")
    print(f"| total | {t2 - t0:.2f} |")
    print("\nverdicts:", dict(verdicts["verdict"].value_counts()))


if __name__ == "__main__":
    main()
