"""Aggregate run records into the leaderboard tables.

``results/leaderboard.csv``: one row per (dataset, baseline, tier): runs, failures, and mean, std
and a 95% seeded percentile-bootstrap confidence interval (over folds and seeds) of the canonical
mean-over-foreground scores. ``results/per_class.csv``: the tidy per-class table
(dataset, baseline, tier, class, metric, mean, std, n). Both trace back to the run ids they list.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from segrepro.errors import UserError
from segrepro.io import write_text_atomic
from segrepro.metrics import CONFUSION_METRICS
from segrepro.metrics.statistics import bootstrap_ci
from segrepro.records import validate_record

KEYS = ["dataset", "baseline", "paper", "tier"]


def load_records(runs_dir: Path) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Valid records, and (file, problem) for each file that is not one."""
    records, problems = [], []
    for path in sorted(runs_dir.glob("*.json")):
        try:
            rec = json.loads(path.read_text())
            validate_record(rec)
        except (json.JSONDecodeError, OSError) as exc:
            problems.append((path, f"not readable JSON: {exc}"))
            continue
        except Exception as exc:  # jsonschema.ValidationError and friends
            problems.append((path, f"does not follow the run-record schema: {getattr(exc, 'message', exc)}"))
            continue
        records.append(rec)
    return records, problems


def tidy(records: list[dict]) -> pd.DataFrame:
    """One row per (run, class, metric) of the canonical convention, class ``mean`` included."""
    rows = []
    for r in records:
        base = {
            "run_id": r["run_id"],
            "dataset": r["dataset"]["name"],
            "baseline": r["baseline"]["id"],
            "paper": r["baseline"]["paper"],
            "tier": r["tier"],
            "fold": r["fold"],
            "seed": r["seed"],
            "status": r["status"],
        }
        if r["status"] != "ok":
            rows.append({**base, "class": None, "metric": None, "value": None})
            continue
        canon = r["metrics"]["canonical"]
        for cls, scores in [*canon["per_class"].items(), ("mean", canon["mean"])]:
            for metric, value in scores.items():
                rows.append({**base, "class": cls, "metric": metric, "value": value})
    return pd.DataFrame(
        rows, columns=[*KEYS[:2], "paper", "tier", "run_id", "fold", "seed", "status", "class", "metric", "value"]
    )


def leaderboard_table(df: pd.DataFrame) -> pd.DataFrame:
    runs = df.drop_duplicates("run_id")
    status = runs.groupby(KEYS)["status"].agg(n_runs="size", n_failed=lambda s: int((s != "ok").sum()))
    ids = runs.groupby(KEYS)["run_id"].agg(lambda s: ";".join(sorted(s))).rename("run_ids")
    means = df[(df["class"] == "mean") & (df["status"] == "ok")]
    stats = means.pivot_table(index=KEYS, columns="metric", values="value", aggfunc=["mean", "std"])
    stats.columns = [f"{metric}_{agg}" for agg, metric in stats.columns]
    for metric, group in means.groupby("metric"):
        ci = group.groupby(KEYS)["value"].agg(lambda s: bootstrap_ci(s.to_numpy()))
        stats[f"{metric}_ci_low"] = ci.map(lambda t: t[0])
        stats[f"{metric}_ci_high"] = ci.map(lambda t: t[1])
    aggs = ("mean", "std", "ci_low", "ci_high")
    order = [f"{m}_{a}" for m in CONFUSION_METRICS for a in aggs if f"{m}_{a}" in stats.columns]
    return status.join(stats[order]).join(ids).reset_index()


def per_class_table(df: pd.DataFrame) -> pd.DataFrame:
    ok = df[(df["status"] == "ok") & (df["class"] != "mean")]
    grouped = ok.groupby([*KEYS, "class", "metric"], sort=False)["value"]
    return grouped.agg(mean="mean", std="std", n="count").reset_index()


def aggregate(runs_dir: Path, out_dir: Path) -> tuple[pd.DataFrame, list[tuple[Path, str]]]:
    """Write ``leaderboard.csv`` and ``per_class.csv`` into ``out_dir``; return the board and problems."""
    records, problems = load_records(runs_dir)
    if not records:
        raise UserError(f"no valid run records in {runs_dir}; run: segrepro run --dataset ... --baseline ...")
    df = tidy(records)
    board = leaderboard_table(df)
    write_text_atomic(out_dir / "leaderboard.csv", board.to_csv(index=False))
    write_text_atomic(out_dir / "per_class.csv", per_class_table(df).to_csv(index=False))
    return board, problems
