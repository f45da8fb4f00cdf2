"""Reproduced vs published as a Markdown table, for the README's reproduction sections and for anyone
who would rather paste a table than open the page: the same numbers as the leaderboard's *Reproduced vs
published* view (``views.published_vs_reproduced``), so a table in a document traces back to the records
it was made from.

A paper whose data is not here can be shown beside a *stand-in*: ``stand_ins`` names the datasets its
numbers are reproduced on instead (each published number takes the first of them where its baseline ran:
paper 004's SM rows run on ``synthetic-3d-sm``, the others on ``synthetic-3d-nosm``) and ``classes`` reads
each published class from a class of those datasets; the published ``mean`` is then the mean over the mapped
classes of each run (the paper's classes), not the run's own mean over all of its classes. Such rows are
never judged against the paper's: their verdict says *not comparable* (a dataset substitute)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from segrepro.errors import UserError
from segrepro.leaderboard import data, views
from segrepro.selection import registered_selections, selections_table


def comparison(
    runs: Sequence[Path],
    paper: str,
    dataset: str | None = None,
    tier: str | None = None,
    stand_ins: Sequence[str] = (),
    classes: Mapping[str, str] | None = None,
    metrics: Sequence[str] = (),
) -> pd.DataFrame:
    """The published numbers of ``paper`` (on ``dataset``, when given) that have runs (of ``tier``, when
    given) in the record folders ``runs``, beside their reproduction, in the published table's order;
    reproduced on ``stand_ins`` instead of the published dataset when given, with the published class
    ``p`` read from the runs' class ``classes[p]``; only the numbers of ``metrics``, when given. Stale runs
    (made by an older recipe than their entry's) and the seeds an entry's seed selection leaves out (the
    registered entries' selections) are left out, as on the page."""
    folders = data.Folders(
        runs=tuple((data.SOURCE_REFERENCE, folder) for folder in runs), published=data.published_root(), stress=()
    )
    tables = data.load_tables(folders)
    published = tables.published[tables.published["paper"].astype(str) == paper]
    if published.empty:
        papers = ", ".join(sorted(tables.published["paper"].astype(str).unique())) or "none"
        raise UserError(f"paper {paper!r} has no published table; papers with one: {papers}")
    if stand_ins and dataset is None:
        raise UserError("a stand-in dataset (--on) replaces one published dataset: name it with --dataset")
    if dataset is not None:
        published = published[published["dataset"] == dataset]
        if published.empty:
            raise UserError(f"paper {paper} publishes no numbers on {dataset!r}")
    unknown = sorted(set(metrics) - set(published["metric"]))
    if unknown:
        have = ", ".join(sorted(published["metric"].unique()))
        raise UserError(f"paper {paper} publishes no {', '.join(unknown)} here; its metrics: {have}")
    loaded = views.without_stale(data.load_results(folders))
    results = views.seed_selected(replace(loaded, recipes=selections_table(registered_selections())))
    if classes:
        results = with_published_classes(results, published, classes)
    if stand_ins:
        table = _on_stand_ins(published, results, dataset, stand_ins)
    else:
        table = views.published_vs_reproduced(published, results)
    table = table[table["verdict"] != views.VERDICT_OPEN]
    if tier is not None:
        table = table[table["tier"] == tier]
    if metrics:
        table = table[table["metric"].isin(metrics)]
    keys = zip(published["method"], published["class"], published["metric"], strict=True)
    order = {key: i for i, key in enumerate(keys)}
    position = [order[key] for key in zip(table["method"], table["class"], table["metric"], strict=True)]
    return table.iloc[sorted(range(len(table)), key=position.__getitem__)].reset_index(drop=True)


def with_published_classes(results: data.Results, published: pd.DataFrame, classes: Mapping[str, str]) -> data.Results:
    """``results`` whose scores of class ``classes[p]`` are named ``p``, the published class; the others
    dropped, and ``mean`` replaced by each run's mean over the mapped classes (per convention and metric)."""
    unknown = sorted(set(classes) - set(published["class"]) - {"mean"})
    if unknown or "mean" in classes:
        names = ", ".join(sorted(set(published["class"]) - {"mean"}))
        raise UserError(f"--class names a published class ({names}), not {', '.join(unknown) or 'mean'}")
    rename = {run: pub for pub, run in classes.items()}
    scores = results.scores[results.scores["class"].isin(rename)]
    scores = scores.assign(**{"class": scores["class"].map(rename)})
    keys = ["key", "convention", "metric"]
    mean = scores.groupby(keys, observed=True)["value"].agg(["mean", "count"]).reset_index()
    mean = mean[mean["count"] == len(classes)].drop(columns="count").rename(columns={"mean": "value"})
    scores = pd.concat([scores, mean.assign(**{"class": "mean"})], ignore_index=True)[data.SCORE_COLUMNS]
    return data.Results(results.runs, scores, results.shares, results.problems, results.notes)


def _on_stand_ins(
    published: pd.DataFrame, results: data.Results, dataset: str, stand_ins: Sequence[str]
) -> pd.DataFrame:
    """Each published number beside the runs of its baseline on the first of ``stand_ins`` where it ran."""
    ok = results.runs[results.runs["status"] == "ok"]
    ran = set(zip(ok["dataset"].astype(str), ok["baseline"].astype(str), strict=True))
    where = [next((d for d in stand_ins if (d, b) in ran), None) for b in published["baseline"]]
    parts = [
        views.published_vs_reproduced(published[[w == d for w in where]], results, {dataset: d})
        for d in stand_ins
        if d in where
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=views.PVR_COLUMNS)


def _percent(value: float, spread: float | None = None) -> str:
    text = f"{100 * value:.2f}"
    return text if spread is None or not math.isfinite(spread) else f"{text} ± {100 * spread:.2f}"


def to_markdown(table: pd.DataFrame) -> str:
    """One row per (method, class, metric): the published value ± the paper's std, the mean ± std over runs
    (folds x seeds), their number, the delta and the verdict, in percent. The published table, the metric
    and the dataset the runs are on get their own columns where the rows come from more than one table
    (paper 003's FS-1 and FS-2), hold more than one metric, or are on a stand-in."""
    tables = table["table"].nunique() > 1
    metrics = table["metric"].nunique() > 1
    stand_in = bool((table["run_dataset"] != table["dataset"]).any())
    columns = ["method", *(["table"] * tables), "class", *(["metric"] * metrics), "published", "reproduced"]
    columns += ["on"] * stand_in
    columns += ["runs", "delta", "verdict"]
    rule = {"published": "---:", "reproduced": "---:", "runs": "---:", "delta": "---:"}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule.get(c, "---") for c in columns) + "|"]
    for row in table.to_dict("records"):
        name = str(row["class"])
        cells = (
            str(row["method"]),
            *([str(row["table"])] * tables),
            f"**{name}**" if name == "mean" else name,
            *([str(row["metric"])] * metrics),
            _percent(row["published"], row["published_std"]),
            _percent(row["mean"], row["std"] if row["n"] > 1 else None),
            *([str(row["run_dataset"])] * stand_in),
            str(row["n"]),
            f"{round(100 * row['delta'], 2) + 0.0:+.2f}",  # + 0.0: no '-0.00'
            str(row["verdict"]),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
