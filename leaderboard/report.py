"""Reproduced vs published as a Markdown table, for the README's reproduction sections and for anyone
who would rather paste a table than open the page: the same numbers as the leaderboard's *Reproduced vs
published* view (``views.published_vs_reproduced``), so a table in a document traces back to the records
it was made from."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from segrepro.errors import UserError
from segrepro.leaderboard import data, views
from segrepro.selection import registered_selections, selections_table

COLUMNS = ("method", "class", "published", "reproduced", "runs", "delta", "verdict")


def comparison(runs: Sequence[Path], paper: str, dataset: str | None = None, tier: str | None = None) -> pd.DataFrame:
    """The published numbers of ``paper`` (on ``dataset``, when given) that have runs (of ``tier``, when
    given) in the record folders ``runs``, beside their reproduction, in the published table's order.
    Stale runs (made by an older recipe than their entry's) and the seeds an entry's seed selection leaves
    out (the registered entries' selections) are left out, as on the page."""
    folders = data.Folders(
        runs=tuple((data.SOURCE_REFERENCE, folder) for folder in runs), published=data.published_root(), stress=()
    )
    tables = data.load_tables(folders)
    published = tables.published[tables.published["paper"].astype(str) == paper]
    if published.empty:
        papers = ", ".join(sorted(tables.published["paper"].astype(str).unique())) or "none"
        raise UserError(f"paper {paper!r} has no published table; papers with one: {papers}")
    if dataset is not None:
        published = published[published["dataset"] == dataset]
        if published.empty:
            raise UserError(f"paper {paper} publishes no numbers on {dataset!r}")
    loaded = views.without_stale(data.load_results(folders))
    results = views.seed_selected(replace(loaded, recipes=selections_table(registered_selections())))
    table = views.published_vs_reproduced(published, results)
    table = table[table["verdict"] != views.VERDICT_OPEN]
    if tier is not None:
        table = table[table["tier"] == tier]
    order = {key: i for i, key in enumerate(zip(published["method"], published["class"], strict=True))}
    position = [order[key] for key in zip(table["method"], table["class"], strict=True)]
    return table.iloc[sorted(range(len(table)), key=position.__getitem__)].reset_index(drop=True)


def _percent(value: float, spread: float | None = None) -> str:
    text = f"{100 * value:.2f}"
    return text if spread is None or not math.isfinite(spread) else f"{text} ± {100 * spread:.2f}"


def to_markdown(table: pd.DataFrame) -> str:
    """One row per (method, class): the published value ± the paper's std, the mean ± std over runs
    (folds x seeds), their number, the delta and the verdict, in percent."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---|---|---:|---:|---:|---:|---|"]
    for row in table.to_dict("records"):
        name = str(row["class"])
        cells = (
            str(row["method"]),
            f"**{name}**" if name == "mean" else name,
            _percent(row["published"], row["published_std"]),
            _percent(row["mean"], row["std"] if row["n"] > 1 else None),
            str(row["n"]),
            f"{round(100 * row['delta'], 2) + 0.0:+.2f}",  # + 0.0: no '-0.00'
            str(row["verdict"]),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
