"""The leaderboard's views as plain pandas: every table the page shows, testable without Streamlit.

Statistics are over runs (folds x seeds) of one (dataset, baseline, tier, source): the mean, the
standard deviation and a seeded 95% percentile-bootstrap confidence interval of the mean. Ranks
are computed within a tier only: tiers differ in training budget and are never ranked together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segrepro.claims import SCORE_COLUMNS as CLAIM_SCORE_COLUMNS
from segrepro.claims import Claim
from segrepro.leaderboard.data import SOURCE_MINE, Results
from segrepro.metrics.instances import INSTANCE_CLASS, INSTANCE_METRICS
from segrepro.metrics.statistics import summarise
from segrepro.results import CANONICAL
from segrepro.selection import selected_runs

GROUP = ["tier", "baseline", "paper", "source"]
LOWER_IS_BETTER = frozenset({"hd95", "loss"})
"""Metrics where smaller is better; every other score ranks higher-is-better."""
SPREAD_SIGMAS = 2.0
"""A published number is within the run-to-run spread when it lies within this many standard
deviations (reproduced runs' std, combined with the paper's own std where it prints one)."""

TEXT_LIMIT = 300
"""Characters of one value read from a file that the page shows; the rest is cut with a note."""
ITEM_LIMIT = 50
"""Entries of one list or mapping of a record that the run page shows."""
DEPTH_LIMIT = 6
"""Nesting levels of a record that the run page shows."""
CURVE_POINTS = 2000
"""Points per training curve that the run page draws (evenly spaced over the curve)."""
MARKDOWN_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
"""Every ASCII punctuation character: CommonMark lets each be escaped with a backslash."""

VERDICT_WITHIN = "within spread"
VERDICT_BETTER = "better"
VERDICT_WORSE = "worse"
VERDICT_NOT_COMPARABLE = "not comparable"
VERDICT_UNDETERMINED = "undetermined"
VERDICT_OPEN = "open"
VERDICT_REFERENCE = "reference"
REFERENCE_NOTES = {"inter-rater": "a second annotator scored this"}
"""What each kind of reference row (methods.csv's ``reference``) is: shown beside the ranking, never ranked."""
CONVENTION_FALLBACK = (
    "convention: the run records have no block scored in the paper's convention (recorded before it was "
    "scored), so their canonical scores are shown"
)


def shorten(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters not shown)"


def plain(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A value read from a file as Markdown that shows exactly its text: never a link, an image, HTML,
    a directive or a formula (a ``run_id`` of ``![x](http://host/t.png)`` must not make browsers fetch
    anything). Line breaks become spaces and every ASCII punctuation character is escaped."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", shorten(" ".join(str(value).split()), limit))


def capped(value: Any, depth: int = 0) -> Any:
    """A copy of part of a record small enough to show whole: strings, lists and mappings cut to the
    page's limits, each cut saying what was left out, so a huge record never goes whole into the page."""
    if isinstance(value, (dict, list)) and depth >= DEPTH_LIMIT:
        return f"… nested deeper than {DEPTH_LIMIT} levels; not shown"
    if isinstance(value, dict):
        out = {shorten(str(k)): capped(v, depth + 1) for k, v in list(value.items())[:ITEM_LIMIT]}
        if len(value) > ITEM_LIMIT:
            out["…"] = f"{len(value) - ITEM_LIMIT:,} more entries not shown"
        return out
    if isinstance(value, list):
        items = [capped(v, depth + 1) for v in value[:ITEM_LIMIT]]
        return items + ([f"… {len(value) - ITEM_LIMIT:,} more items not shown"] if len(value) > ITEM_LIMIT else [])
    return shorten(value) if isinstance(value, str) else value


def select_runs(
    runs: pd.DataFrame,
    datasets: Sequence[str] | None = None,
    papers: Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The runs matching every filter given (None = no filter on that field)."""
    keep = np.ones(len(runs), dtype=bool)
    for col, allowed in (("dataset", datasets), ("paper", papers), ("tier", tiers), ("source", sources)):
        if allowed is not None:
            keep &= runs[col].isin(list(allowed)).to_numpy()
    return runs[keep]


def without_stale(results: Results) -> Results:
    """``results`` without the stale runs (made by an older recipe than their entry's current one) and
    their scores: what the statistics use unless stale runs are asked for. Runs whose recipe is
    unknown (records made before they carried a recipe hash) are kept."""
    stale = results.runs["stale"].to_numpy(dtype=bool)
    if not stale.any():
        return results
    return _with_runs(results, results.runs[~stale])


def seed_selected(results: Results) -> Results:
    """``results`` without the runs their entry's seed selection leaves out (paper 003's paper tier: the best
    10 of 15 seeds by validation), by ``segrepro.selection.selected_runs``, as ``segrepro aggregate`` counts
    them; failed runs stay (counted, unscored)."""
    runs = selected_runs(results.runs, results.recipes)
    return results if len(runs) == len(results.runs) else _with_runs(results, runs)


def _with_runs(results: Results, runs: pd.DataFrame) -> Results:
    scores = results.scores[results.scores["key"].isin(runs["key"])]
    shares = results.shares[results.shares["key"].isin(runs["key"])]
    return Results(runs, scores, shares, results.problems, results.notes, results.recipes)


def newest_dataset(runs: pd.DataFrame) -> str | None:
    """The dataset of the user's most recently started run (of any run when the user has none yet): where
    the page opens, so the runs ``make benchmark`` just made are in view."""
    if runs.empty:
        return None
    mine = runs[runs["source"] == SOURCE_MINE]
    pool = mine if len(mine) else runs
    started = pd.to_datetime(pool["started"], errors="coerce", utc=True)
    if started.notna().any():
        return str(pool.loc[started.idxmax(), "dataset"])
    return str(pool["dataset"].iloc[-1])


def options(results: Results, dataset: str | None = None) -> dict[str, list[str]]:
    """Values the filters offer: datasets, papers, tiers, sources, and (for ``dataset``) classes and metrics."""
    runs = results.runs
    out = {col: sorted(runs[col].dropna().unique().tolist()) for col in ("dataset", "paper", "tier", "source")}
    keys = runs.loc[runs["dataset"] == dataset, "key"] if dataset is not None else runs["key"]
    scores = results.scores[results.scores["key"].isin(keys)]
    classes = [c for c in pd.unique(scores["class"]) if c != "mean"]
    out["class"] = ["mean", *classes] if len(scores) else []
    out["metric"] = sorted(pd.unique(scores["metric"]).tolist())
    return out


def scores_for(
    results: Results, runs: pd.DataFrame, metric: str, classes: Sequence[str] | None, convention: str = CANONICAL
) -> pd.DataFrame:
    """Scores of ``runs`` for one metric (and optionally some classes), joined to their run fields
    (dataset, fold, seed among them): one entry's rows of one class are what
    ``statistics.compare_entries`` pairs with another entry's."""
    s = results.scores
    keep = s["key"].isin(runs["key"]) & (s["metric"] == metric) & (s["convention"] == convention)
    if classes is not None:
        keep &= s["class"].isin(list(classes))
    cols = ["key", "run_id", "dataset", *GROUP, "fold", "seed"]
    merged = s.loc[keep, ["key", "class", "value"]].merge(runs[cols], on="key", how="inner")
    for col in ("key", "class", *GROUP):
        merged[col] = merged[col].astype(str)
    return merged


def _run_counts(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    r = runs.assign(**{c: runs[c].astype(str) for c in by})
    return r.groupby(by).agg(
        runs=("key", "size"),
        failed=("status", lambda s: int((s != "ok").sum())),
        folds=("fold", "nunique"),
        seeds=("seed", "nunique"),
    )


def rankings(results: Results, runs: pd.DataFrame, dataset: str, metric: str, cls: str = "mean") -> pd.DataFrame:
    """One row per (tier, baseline, paper, source) on ``dataset``: rank within its tier, mean, CI, std.

    ``runs`` is the already filtered run table; failed runs are counted but have no score."""
    runs = runs[runs["dataset"] == dataset]
    cols = ["tier", "rank", "baseline", "paper", "source", "mean", "ci_low", "ci_high", "std", "n", "runs", "failed"]
    if runs.empty:
        return pd.DataFrame(columns=[*cols, "folds", "seeds"])
    scores = scores_for(results, runs, metric, [cls])
    counts = _run_counts(runs, GROUP)
    if scores.empty:
        table = counts.reset_index().assign(mean=math.nan, ci_low=math.nan, ci_high=math.nan, std=math.nan, n=0)
    else:
        table = counts.join(summarise(scores, GROUP), how="left").reset_index()
    table["n"] = table["n"].fillna(0).astype(int)
    ascending = metric in LOWER_IS_BETTER
    table["rank"] = table.groupby("tier")["mean"].rank(method="min", ascending=ascending).astype("Int64")
    table = table.sort_values(["tier", "rank", "baseline"], na_position="last", kind="stable")
    return table[[*cols, "folds", "seeds"]].reset_index(drop=True)


REFERENCE_COLUMNS = ["reference", "paper", "table", "method", "class", "metric", "value"]


def reference_lines(published: pd.DataFrame, dataset: str, metric: str) -> pd.DataFrame:
    """The published reference numbers (methods.csv's ``reference``: e.g. a second annotator) on ``dataset``
    for ``metric``, as fractions, one row per class: shown beside a ranking, never ranked in it."""
    if published.empty or "reference" not in published:
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    rows = published[
        (published["reference"].fillna("") != "") & (published["dataset"] == dataset) & (published["metric"] == metric)
    ]
    out = rows.assign(
        value=rows["value"].astype(float) / rows["scale"].astype(float),
        reference=rows["reference"].map(REFERENCE_NOTES),
    )
    return out[REFERENCE_COLUMNS].sort_values(["paper", "table", "class"]).reset_index(drop=True)


INSTANCE_COLUMNS = ["tier", "rank", "baseline", "paper", "source", *INSTANCE_METRICS, "pq_ci_low", "pq_ci_high", "n"]


def instances(results: Results, runs: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The instance metrics on ``dataset``: one row per (tier, baseline, paper, source) whose runs carry them,
    with the mean over runs of each pooled P05, RQ, SQ and PQ, PQ's 95% CI and the runs counted, ranked
    within its tier by PQ. Empty where no run has them (a dataset without instance labels, or entries
    that make no instances)."""
    runs = runs[runs["dataset"] == dataset]
    parts = [scores_for(results, runs, m, [INSTANCE_CLASS]).assign(metric=m) for m in INSTANCE_METRICS]
    scores = pd.concat(parts, ignore_index=True)
    if runs.empty or scores["value"].notna().sum() == 0:
        return pd.DataFrame(columns=INSTANCE_COLUMNS)
    stats = summarise(scores, [*GROUP, "metric"])
    table = stats["mean"].unstack("metric").reindex(columns=list(INSTANCE_METRICS))
    pq = stats.xs("pq", level="metric") if "pq" in stats.index.get_level_values("metric") else None
    for col in ("ci_low", "ci_high", "n"):
        table[f"pq_{col}"] = pq[col] if pq is not None else math.nan
    table = table.rename(columns={"pq_n": "n"}).reset_index()
    table["n"] = table["n"].fillna(0).astype(int)
    table["rank"] = table.groupby("tier")["pq"].rank(method="min", ascending=False).astype("Int64")
    table = table.sort_values(["tier", "rank", "baseline"], na_position="last", kind="stable")
    return table[INSTANCE_COLUMNS].reset_index(drop=True)


def per_class(results: Results, runs: pd.DataFrame, dataset: str, metric: str) -> pd.DataFrame:
    """One row per (tier, baseline, paper, source, class): mean, CI, std, and the class's share of
    the scored test voxels (rarest classes first), because the minority classes are the point."""
    runs = runs[runs["dataset"] == dataset]
    cols = [*GROUP, "class", "share", "mean", "ci_low", "ci_high", "std", "n"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    scores = scores_for(results, runs, metric, None)
    scores = scores[scores["class"] != "mean"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    table = summarise(scores, [*GROUP, "class"]).reset_index()
    shares = results.shares[results.shares["key"].isin(runs["key"])]
    share = shares.groupby("class")["share"].mean() if not shares.empty else pd.Series(dtype=float)
    table["share"] = table["class"].map(share)
    table["n"] = table["n"].astype(int)
    table = table.sort_values(["tier", "share", "class", "baseline"], na_position="last", kind="stable")
    return table[cols].reset_index(drop=True)


def _differences(row: Mapping[str, Any]) -> list[str]:
    """Every reason a reproduction is not comparable with the published number (none: comparable)."""
    reasons = []
    if row["run_dataset"] != row["dataset"]:
        reasons.append(f"dataset substitute: reproduced on {row['run_dataset']}")
    if not row["convention_ok"]:
        reasons.append(CONVENTION_FALLBACK)
    return reasons


def _tier_note(tier: str) -> str:
    """Why a number from a tier other than ``paper`` is marked with its tier (empty for tier ``paper``)."""
    if tier == "paper":
        return ""
    return f"tier {tier}: a smaller budget than the paper's full recipe (tier paper), so the delta shows the distance"


def _verdict(row: Mapping[str, Any]) -> tuple[str, str]:
    """(verdict, why) for one published number (a row of the merged table) against its reproduction.

    A run of another tier than ``paper`` still gets its delta judged against the spread, with the
    verdict marked by its tier (``worse (quick tier)``), so the distance stays visible."""
    if row.get("reference"):
        return VERDICT_REFERENCE, f"{REFERENCE_NOTES[row['reference']]}: a reference, not a method to reproduce"
    if not row["baseline"]:
        return VERDICT_OPEN, "no registered baseline for this method (methods.csv)"
    if not isinstance(row["tier"], str):
        if row["has_runs"]:
            return VERDICT_OPEN, f"runs of {row['baseline']} on {row['run_dataset']} score no {row['metric']} here"
        return VERDICT_OPEN, f"no successful run of {row['baseline']} on {row['run_dataset']} yet"
    note = _tier_note(row["tier"])
    reasons = _differences(row)
    if reasons:
        return VERDICT_NOT_COMPARABLE, "; ".join([*reasons, note] if note else reasons)
    verdict, why = _spread_verdict(row)
    return (f"{verdict} ({row['tier']} tier)", f"{why}; {note}") if note else (verdict, why)


def _spread_verdict(row: Mapping[str, Any]) -> tuple[str, str]:
    """Within spread, better, worse or undetermined: the delta against 2 sd of the runs (and the paper's std)."""
    sd_runs = row["std"] if row["n"] > 1 and np.isfinite(row["std"]) else None
    sd_pub = row["published_std"] if np.isfinite(row["published_std"]) else None
    if sd_runs is None and sd_pub is None:
        return VERDICT_UNDETERMINED, "one run and no published std: the run-to-run spread is unknown"
    half = SPREAD_SIGMAS * math.hypot(sd_runs or 0.0, sd_pub or 0.0)
    delta = row["delta"]
    if abs(delta) <= half:
        return VERDICT_WITHIN, f"|delta| {abs(delta):.4f} <= {SPREAD_SIGMAS:g} sd ({half:.4f})"
    better = delta < 0 if row["metric"] in LOWER_IS_BETTER else delta > 0
    why = f"|delta| {abs(delta):.4f} > {SPREAD_SIGMAS:g} sd ({half:.4f})"
    return (VERDICT_BETTER if better else VERDICT_WORSE), why


PVR_COLUMNS = [  # what a reader needs first (which number, the verdict) leads
    "paper",
    "table",
    "dataset",
    "method",
    "class",
    "metric",
    "tier",
    "source",
    "scored_as",
    "published",
    "mean",
    "ci_low",
    "ci_high",
    "delta",
    "verdict",
    "why",
    "baseline",
    "published_std",
    "std",
    "n",
    "run_dataset",
]


def published_vs_reproduced(
    published: pd.DataFrame, results: Results, substitutes: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Every published number beside its reproduction(s), as fractions (printed value / ``scale``).

    A number matches runs of its method's baseline (``methods.csv``) on its dataset (or on the
    dataset named for it in ``substitutes``), with the same class name and metric; one row per
    (number, tier, source) with runs, or one ``open`` row when nothing matches yet. When the
    baseline's paper convention differs from the canonical one, the runs' block for that convention
    is used if they carry one; otherwise their canonical block is shown and the row is not
    comparable. ``scored_as`` names the block(s) the reproduced numbers come from."""
    substitutes = dict(substitutes or {})
    if published.empty:
        return pd.DataFrame(columns=PVR_COLUMNS)
    pub = published.drop(columns=["value", "std"]).assign(
        published=published["value"].astype(float) / published["scale"].astype(float),
        published_std=published["std"].astype(float) / published["scale"].astype(float),
        run_dataset=published["dataset"].map(lambda d: substitutes.get(d, d)),
    )
    stats = _reproductions(results, pub)
    merged = pub.merge(stats, on=["run_dataset", "baseline", "class", "metric"], how="left")
    ok = results.runs[results.runs["status"] == "ok"]
    tried = set(zip(ok["dataset"].astype(str), ok["baseline"].astype(str), strict=True))
    merged["has_runs"] = [k in tried for k in zip(merged["run_dataset"], merged["baseline"], strict=True)]
    merged["delta"] = merged["mean"] - merged["published"]
    verdicts = [_verdict(row) for row in merged.to_dict("records")]
    merged["verdict"] = [v for v, _ in verdicts]
    merged["why"] = [w for _, w in verdicts]
    merged["n"] = merged["n"].fillna(0).astype(int)
    merged["is_open"] = merged["verdict"] == VERDICT_OPEN  # reproduced numbers first, open ones after
    order = ["is_open", "paper", "table", "method", "class", "metric", "tier", "source"]
    return merged.sort_values(order, kind="stable")[PVR_COLUMNS].reset_index(drop=True)


def _reproductions(results: Results, pub: pd.DataFrame) -> pd.DataFrame:
    """Stats per (run_dataset, baseline, class, metric, tier, source) of the successful runs that
    published numbers may match. Per run, the block of the baseline's own paper convention is
    used where the record carries one (``convention_ok``), else the canonical block."""
    keys = ["dataset", "baseline", "class", "metric", "tier", "source"]
    columns = [*keys, "mean", "ci_low", "ci_high", "std", "n", "convention_ok", "scored_as"]
    runs = results.runs
    wanted = runs[
        (runs["status"] == "ok") & runs["baseline"].isin(pub["baseline"]) & runs["dataset"].isin(pub["run_dataset"])
    ]
    cols = ["key", "dataset", "baseline", "tier", "source", "convention"]
    s = results.scores
    scores = s[s["key"].isin(wanted["key"]) & s["class"].isin(pub["class"]) & s["metric"].isin(pub["metric"])]
    scores = scores.merge(wanted[cols].rename(columns={"convention": "paper_convention"}), on="key")
    if scores.empty:
        return pd.DataFrame(columns=columns).rename(columns={"dataset": "run_dataset"})
    for col in ("key", "class", "metric", "convention", "dataset", "baseline", "tier", "source", "paper_convention"):
        scores[col] = scores[col].astype(str)
    scores["own"] = scores["convention"] == scores["paper_convention"]
    scores = scores[(scores["convention"] == CANONICAL) | scores["own"]]
    scores = scores.sort_values("own", kind="stable").drop_duplicates(["key", "class", "metric"], keep="last")
    grouped = scores.groupby(keys)
    stats = summarise(scores, keys).join(
        grouped.agg(convention_ok=("own", "all"), scored_as=("convention", lambda c: ", ".join(sorted(set(c)))))
    )
    return stats.reset_index()[columns].rename(columns={"dataset": "run_dataset"})


PUBLISHED_CHART_COLUMNS = ["label", "class", "metric", "kind", "value", "spread"]


def published_chart(table: pd.DataFrame) -> pd.DataFrame:
    """The reproduced rows of ``published_vs_reproduced`` as tidy points for a chart: per (method, tier,
    source, class, metric) the published value with the paper's std and the reproduced mean with the
    runs' std (0 where one run or no printed std)."""
    done = table[table["mean"].notna()]
    if done.empty:
        return pd.DataFrame(columns=PUBLISHED_CHART_COLUMNS)
    label = done["method"] + " (table " + done["table"].astype(str) + ", " + done["tier"] + ", " + done["source"] + ")"
    common = {"label": label, "class": done["class"], "metric": done["metric"]}
    published = pd.DataFrame(
        {**common, "kind": "published", "value": done["published"], "spread": done["published_std"]}
    )
    reproduced = pd.DataFrame({**common, "kind": "reproduced", "value": done["mean"], "spread": done["std"]})
    out = pd.concat([published, reproduced], ignore_index=True)
    out["spread"] = out["spread"].fillna(0.0)
    return out[PUBLISHED_CHART_COLUMNS]


def ratio_label(ratio: float) -> str:
    """A foreground/background ratio written as the CLI takes it: ``1:100`` below 1, ``2:1`` above."""
    if not np.isfinite(ratio) or ratio <= 0:
        return str(ratio)
    return f"1:{1 / ratio:.4g}" if ratio < 1 else f"{ratio:.4g}:1"


def claim_scores(results: Results, claims: Sequence[Claim]) -> pd.DataFrame:
    """The page's scores that ``claims`` compare, as ``segrepro.claims``' score table: block ``paper`` is
    each run's own paper convention (canonical for a canonical entry), block ``canonical`` the canonical
    scores; a run of yours replaces a reference run with the same dataset, baseline, tier, fold and seed."""
    entries = {e for c in claims for e in c.entries()}
    runs = results.runs
    ok = runs[(runs["status"] == "ok") & runs["baseline"].isin(entries)]
    cols = ["key", "dataset", "baseline", "tier", "fold", "seed", "convention"]
    s = results.scores
    s = s[
        s["key"].isin(ok["key"])
        & s["metric"].isin({m for c in claims for m in c.metrics})
        & s["class"].isin({k for c in claims for k in c.class_names()})
    ]
    merged = s.merge(ok[cols].rename(columns={"convention": "own"}), on="key")
    if merged.empty:
        return pd.DataFrame(columns=CLAIM_SCORE_COLUMNS)
    for col in ("convention", "own", "dataset", "baseline", "tier", "class", "metric"):
        merged[col] = merged[col].astype(str)
    paper = merged[merged["convention"] == merged["own"]].assign(block="paper")
    canonical = merged[merged["convention"] == CANONICAL].assign(block="canonical")
    out = pd.concat([paper, canonical], ignore_index=True)
    order = {k: i for i, k in enumerate(ok["key"])}  # reference runs come first, then yours
    out = out.sort_values("key", key=lambda k: k.map(order), kind="stable")
    keys = ["dataset", "baseline", "tier", "fold", "seed", "block", "class", "metric"]
    return out.drop_duplicates(keys, keep="last")[CLAIM_SCORE_COLUMNS].reset_index(drop=True)


def stress_curves(stress: pd.DataFrame, dataset: str, cls: str, metric: str) -> pd.DataFrame:
    """Mean score per (source, baseline, ratio) for one class and metric (several rows of the same
    ratio, e.g. seeds, are averaged, with a bootstrap CI over them), sorted by ratio for plotting
    against a log axis; ``label`` writes the ratio as the CLI does (1:N)."""
    sub = stress[(stress["dataset"] == dataset) & (stress["class"] == cls) & (stress["metric"] == metric)]
    cols = ["source", "baseline", "ratio", "label", "achieved_ratio", "mean", "ci_low", "ci_high", "n"]
    if sub.empty:
        return pd.DataFrame(columns=cols)
    sub = sub.assign(value=sub["value"].astype(float), achieved_ratio=sub["achieved_ratio"].astype(float))
    stats = summarise(sub, ["source", "baseline", "ratio"])
    achieved = sub.groupby(["source", "baseline", "ratio"])["achieved_ratio"].mean()
    table = stats.join(achieved).reset_index()
    table["n"] = table["n"].astype(int)
    table["label"] = [ratio_label(float(r)) for r in table["ratio"]]
    return table.sort_values(["source", "baseline", "ratio"])[cols].reset_index(drop=True)


def provenance(record: Mapping[str, Any]) -> pd.DataFrame:
    """A run's provenance as (field, value) rows: what was run, on what data and code, where."""
    prov = record.get("provenance", {})
    dataset = record.get("dataset", {})
    baseline = record.get("baseline", {})
    rows = [
        ("run id", record.get("run_id")),
        ("status", record.get("status") + (f" ({record['reason']})" if record.get("reason") else "")),
        ("dataset", dataset.get("name")),
        ("data hash", dataset.get("data_hash")),
        ("baseline", f"{baseline.get('id')} (paper {baseline.get('paper')})"),
        ("convention", baseline.get("convention", CANONICAL)),
        ("tier", record.get("tier")),
        ("fold", record.get("fold")),
        ("seed", record.get("seed")),
        ("parameters", record.get("n_parameters")),
        ("best iteration", record.get("best_iteration")),
        ("git commit", (prov.get("git_commit") or "unknown") + (" (dirty work tree)" if prov.get("git_dirty") else "")),
        ("command", prov.get("command")),
        ("device", prov.get("device")),
        ("threads", prov.get("threads")),
        ("cpu", prov.get("cpu")),
        ("deterministic", prov.get("deterministic")),
        ("started", prov.get("started")),
        ("finished", prov.get("finished")),
        ("wall time (s)", prov.get("wall_time_s")),
        ("peak memory (MiB)", prov.get("peak_memory_mb")),
    ]
    versions = sorted((prov.get("versions") or {}).items())
    rows += [(f"version: {k}", v) for k, v in versions[:ITEM_LIMIT]]
    if len(versions) > ITEM_LIMIT:
        rows.append(("versions", f"{len(versions) - ITEM_LIMIT:,} more not shown"))
    values = [(shorten(k), "" if v is None else shorten(str(v))) for k, v in rows]
    return pd.DataFrame(values, columns=["field", "value"])


def curves(record: Mapping[str, Any]) -> pd.DataFrame:
    """Training curves as tidy rows (curve, iteration, value): ``train_loss`` and ``val_score``; a curve
    longer than ``CURVE_POINTS`` keeps that many evenly spaced points (the first and the last among them)."""
    rows = []
    for name, points in list((record.get("curves") or {}).items())[:ITEM_LIMIT]:
        points = points or []
        if len(points) > CURVE_POINTS:
            points = [points[i] for i in np.linspace(0, len(points) - 1, CURVE_POINTS).round().astype(int)]
        for point in points:
            if len(point) >= 2 and point[1] is not None:
                rows.append((shorten(name), int(point[0]), float(point[1])))
    return pd.DataFrame(rows, columns=["curve", "iteration", "value"])
