"""``segrepro aggregate``: run records -> the results tables and the CSVs users read.

Records are read, validated and flattened by ``segrepro.results``; statistics come from
``segrepro.metrics.statistics``. Written into the output folder:

- ``tables/*.parquet``: runs (with each run's recipe state against its entry's current recipe),
  scores, class shares, raw counts, unusable files and the current recipe hashes: what the
  leaderboard renders;
- ``leaderboard.csv``: one row per (dataset, baseline, paper, tier, source): runs, failures, and mean, std
  and a 95% seeded percentile-bootstrap confidence interval (over folds and seeds) of the canonical
  mean-over-foreground scores, the run ids it covers, and ``n_stale``;
  then, where any record has instance metrics (paper 002's entries on datasets with instance labels), the
  same four statistics of the pooled P05, RQ, SQ and PQ (``p05_mean`` ... ``pq_ci_high``; empty for
  rows whose runs have none);
- ``per_class.csv``: the tidy per-class table (dataset, baseline, paper, tier, source, class, metric, mean,
  std, n); the instance metrics are the rows of class ``cell`` with metric p05, rq, sq or pq.

``source`` keeps apart runs of the same id from different places, as the leaderboard page does: the records
folder's runs are ``reference`` when it is a ``reference/runs`` folder (the committed reproductions), else
``yours``; a verified bundle's are ``submitted``.

Stale runs (a ``recipe_hash`` that differs from their entry's current recipe: made by an older recipe)
are counted in ``n_stale`` and listed in ``run_ids`` but left out of every statistic, like failed runs.
Where an entry's tier has a seed selection (paper 003's best 10 of 15), the statistics cover the runs it
keeps (``segrepro.selection.selected_runs``, the function the leaderboard's views use too).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from segrepro import results
from segrepro.errors import UserError
from segrepro.io import write_text_atomic
from segrepro.metrics.confusion import CONFUSION_METRICS
from segrepro.metrics.instances import INSTANCE_CLASS, INSTANCE_METRICS
from segrepro.metrics.statistics import summarise
from segrepro.selection import registered_selections, selected_runs

KEYS = ["dataset", "baseline", "paper", "tier", "source"]
AGGREGATES = ("mean", "std", "ci_low", "ci_high")


def current_recipes() -> dict[tuple[str, str], str]:
    """``{(baseline id, tier): recipe hash}`` of every registered entry (imports the registry)."""
    from segrepro.baselines import BASELINES

    return {(entry_id, tier): r.hash() for entry_id, entry in BASELINES for tier, r in entry.recipes.items()}


def runs_source(runs_dir: Path) -> str:
    """The source of a records folder's runs: ``reference`` for a ``reference/runs`` folder, else ``yours``."""
    return results.SOURCE_REFERENCE if runs_dir.resolve().parent.name == "reference" else results.SOURCE_MINE


def with_source(tables: results.RunTables, source: str) -> results.RunTables:
    """``tables`` with every run marked as coming from ``source`` (a key of both CSVs)."""
    return replace(tables, runs=tables.runs.assign(source=source))


def scored(tables: results.RunTables, classes: str = "per_class") -> pd.DataFrame:
    """Canonical scores of the runs that count (status ok, not stale, kept by their seed selection), joined
    to their keys: the class ``mean`` only (``classes="mean"``) or every class but it (``"per_class"``)."""
    runs = selected_runs(tables.runs[(tables.runs["status"] == "ok") & ~tables.runs["stale"]], tables.recipes)
    s = tables.scores
    keep = (s["convention"] == results.CANONICAL) & ((s["class"] == "mean") == (classes == "mean"))
    return s[keep].merge(runs[["file", *KEYS]], on="file")


def leaderboard_table(tables: results.RunTables) -> pd.DataFrame:
    runs = tables.runs
    grouped = runs.groupby(KEYS)
    status = grouped.agg(
        n_runs=("file", "size"),
        n_failed=("status", lambda s: int((s != "ok").sum())),
        n_stale=("stale", "sum"),
    )
    ids = grouped["run_id"].agg(lambda s: ";".join(sorted(s))).rename("run_ids")
    means = scored(tables, "mean")
    if not means.empty:
        stats = summarise(means, [*KEYS, "metric"]).unstack("metric")
        stats.columns = [f"{metric}_{agg}" for agg, metric in stats.columns]
        order = [f"{m}_{a}" for m in CONFUSION_METRICS for a in AGGREGATES if f"{m}_{a}" in stats.columns]
        status = status.join(stats[order])
    board = status.join(ids).reset_index()
    board = board[[c for c in board.columns if c != "n_stale"] + ["n_stale"]]  # new columns last: old readers
    return _with_instance_columns(board, tables)


def _with_instance_columns(board: pd.DataFrame, tables: results.RunTables) -> pd.DataFrame:
    """``board`` with the statistics of the pooled instance metrics appended (after every older column),
    when any counted run has them."""
    s = scored(tables)
    s = s[(s["class"] == INSTANCE_CLASS) & s["metric"].isin(INSTANCE_METRICS) & s["value"].notna()]
    if s.empty:
        return board
    stats = summarise(s, [*KEYS, "metric"]).unstack("metric")
    stats.columns = [f"{metric}_{agg}" for agg, metric in stats.columns]
    order = [f"{m}_{a}" for m in INSTANCE_METRICS for a in AGGREGATES]  # all four, even one no run has
    keys = stats.reindex(columns=order).reset_index().astype(dict.fromkeys(KEYS, str))
    return board.astype(dict.fromkeys(KEYS, str)).merge(keys, on=KEYS, how="left")


def per_class_table(tables: results.RunTables) -> pd.DataFrame:
    return summarise(scored(tables), [*KEYS, "class", "metric"], ci=False).reset_index()


def aggregate(
    runs_dir: Path,
    out_dir: Path,
    recipes: dict[tuple[str, str], str] | None = None,
    submissions: Path | None = None,
) -> tuple[pd.DataFrame, results.RunTables]:
    """Write ``tables/``, ``leaderboard.csv`` and ``per_class.csv`` into ``out_dir``; return the board
    and the tables (their ``problems``: files left out). ``recipes``: current recipe hashes
    (default: from the registry). The records of the verified bundles in ``submissions`` join the CSVs
    (not ``tables/``, which keeps ``runs_dir``'s records; the leaderboard reads the bundles itself)."""
    recipes = current_recipes() if recipes is None else recipes
    selections = registered_selections()
    tables = results.load(runs_dir, out_dir / "tables", recipes, with_counts=True, required=True, selections=selections)
    tables = with_source(tables, runs_source(runs_dir))
    if submissions is not None:
        submitted = results.load_submissions(submissions, recipes, selections)
        tables = results.combine(tables, with_source(submitted, results.SOURCE_SUBMITTED))
    if tables.runs.empty:
        first = tables.problems[0] if tables.problems else None
        bad = f" ({len(tables.problems)} file(s) left out, first {first.path}: {first.message})" if first else ""
        raise UserError(f"no valid run records in {runs_dir}{bad}; run: segrepro run --dataset ... --baseline ...")
    board = leaderboard_table(tables)
    write_text_atomic(out_dir / "leaderboard.csv", board.to_csv(index=False))
    write_text_atomic(out_dir / "per_class.csv", per_class_table(tables).to_csv(index=False))
    return board, tables
