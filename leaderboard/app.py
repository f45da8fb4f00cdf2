"""segrepro leaderboard (Streamlit). Start with ``segrepro leaderboard``.

Reads run records from ``results/reference/runs/`` (the reproductions committed to this repository)
and ``results/runs/`` (yours), every ``baselines/*/published.csv`` + ``methods.csv``, and stress
tables ``results/stress/<dataset>/stress.csv``; the results folder is ``SEGREPRO_RESULTS_DIR``
(default ``results``), the paper packages' folder ``SEGREPRO_PUBLISHED_DIR`` (default the installed
``segrepro.baselines``). It reads files only and never executes anything from them. Run records come
through ``segrepro.results``: the tables ``segrepro aggregate`` stored, brought up to date with records
added since. Loading is cached on the files' names, sizes and mtimes, so a new or changed file is
picked up on the next rerun. Only the open tab is computed. Every value read from a file is shown as
text (``views.plain``), never as Markdown or HTML; a run page shows a capped part of its record; each
view draws inside its own guard, so an unexpected error is one line on the page (details in the
server's log) and never a traceback.
"""

from __future__ import annotations

import html
import itertools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from plotly.subplots import make_subplots

from segrepro import claims, paths
from segrepro.leaderboard import access, data, views

NUMBER = st.column_config.NumberColumn(format="%.4f")
STAT_COLUMNS = {c: NUMBER for c in ("mean", "ci_low", "ci_high", "std", "share", "published", "published_std", "delta")}
INSTANCE_NUMBER_COLUMNS = {c: NUMBER for c in (*views.INSTANCE_METRICS, "pq_ci_low", "pq_ci_high")}
SUBMIT_ANCHOR = "how-to-submit-a-method"
MISSING = "—"  # what a table cell without a value shows (never the text "None")
OVERLAY_LIMIT = 24  # prediction overlays a run page shows at most
OVERLAY_PIXELS = 4096 * 4096  # a larger overlay is named as a problem instead of decoded
LOG = logging.getLogger("segrepro.leaderboard")
GROUP_TEXT = ["class", *views.GROUP]  # the text columns of the per-class chart
# ``?view=<key>`` opens that tab, so each view can be linked to (``?run=<source>:<run id>`` opens a run).
# (A comment, not a docstring: Streamlit's "magic" would print a bare string of the page script.)
VIEWS = {
    "rankings": "Rankings",
    "per-class": "Per class",
    "published": "Reproduced vs published",
    "stress": "Stress curves",
    "claims": "Claims",
    "runs": "Runs",
}
FILTERS = {  # which sidebar filters each view applies (said on the view itself)
    "rankings": "dataset, metric, class, paper, tier and runs",
    "per-class": "dataset, metric, paper, tier and runs (every class is shown)",
    "published": "paper, tier and runs; every dataset, class and metric of the published tables is shown",
    "stress": "runs; dataset, metric and class start at the sidebar's and can be changed here (a sweep has no "
    "paper or tier filter)",
    "claims": "paper and tier; a claim is judged on its paper's datasets and every dataset where both sides ran",
    "runs": "dataset, paper, tier and runs",
}
PALETTE = px.colors.qualitative.Safe + px.colors.qualitative.Dark24  # colour-blind safe first, then many more


@st.cache_data(show_spinner="Loading run records…", max_entries=4)
def _results(key: str, _folders: data.Folders) -> data.Results:
    """Every run record; ``key`` (digest of the folders and files' names, sizes, mtimes) is the whole cache key."""
    return data.load_results(_folders)


@st.cache_data(show_spinner=False, max_entries=4)
def _without_stale(key: str, _results: data.Results) -> data.Results:
    return views.without_stale(_results)


@st.cache_data(show_spinner=False, max_entries=4)
def _tables(key: str, _folders: data.Folders) -> data.Tables:
    return data.load_tables(_folders)


@st.cache_data(show_spinner=False, max_entries=4)
def _claim_verdicts(key: str, _results: data.Results, _tables: data.Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every claim's verdicts and comparisons; cached on the files' digests (a bootstrap per comparison)."""
    return claims.judge(_tables.claims, views.claim_scores(_results, _tables.claims))


def _applies(view: str) -> None:
    st.caption(f"Filters applied here: {FILTERS[view]}.")


@st.cache_data(show_spinner=False, max_entries=16)
def _reproduced(
    keys: tuple[str, ...],
    papers: tuple[str, ...] | None,
    substitutes: tuple[tuple[str, str], ...],
    _results: data.Results,
    _tables: data.Tables,
) -> pd.DataFrame:
    """The reproduced-vs-published table; cached on the files' digests and the choices (a bootstrap per
    matched group takes ~1.5 s for 600 published numbers on 10,000 runs, and every widget reruns the page)."""
    published = _tables.published
    published = published[published["paper"].isin(papers)] if papers else published
    return views.published_vs_reproduced(published, _results, dict(substitutes))


def _table(table: pd.DataFrame, key: str, **kwargs: Any) -> None:
    """One table, its missing values shown as ``MISSING``."""
    st.dataframe(table, hide_index=True, placeholder=MISSING, key=key, **kwargs)


def _plot_text(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table`` with its text ``columns`` escaped for Plotly, which reads ``<b>``, ``<a href>``... in
    labels as markup and shows ``&lt;``, ``&gt;`` and ``&amp;`` as the characters: file values stay text."""
    escaped = {c: table[c].map(lambda v: html.escape(str(v), quote=False), na_action="ignore") for c in columns}
    return table.assign(**escaped)


def _guarded(view: str, draw: Callable[..., None], *args: Any) -> None:
    """Draw one part of the page; an unexpected error there becomes one line (the traceback goes to the
    server's log only, since it shows server paths), and the rest of the page still draws."""
    try:
        draw(*args)
    except Exception as exc:  # the boundary itself: Streamlit's stop/rerun are BaseExceptions and pass
        LOG.exception("the leaderboard's %s could not be drawn", view)
        st.error(f"The {view} could not be drawn ({type(exc).__name__}); the server's log has the details.")


def _export(table: pd.DataFrame, name: str, key: str) -> None:
    st.download_button(
        f"Export this table as CSV ({len(table)} rows)",
        table.to_csv(index=False).encode(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
    )


def _problems(problems: list[data.Problem]) -> None:
    if not problems:
        return
    with st.expander(f"{len(problems)} file(s) could not be used and are left out", expanded=True):
        for p in problems:
            st.error(views.plain(f"{p.path}: {p.message}"))


def _position(values: list[str], wanted: str | None) -> int:
    return values.index(wanted) if wanted in values else 0


def _linked_dataset(runs: pd.DataFrame) -> str | None:
    """The dataset of the run named in ``?run=``, so that a link to a run opens with its dataset chosen."""
    wanted = st.query_params.get("run")
    if not wanted or runs.empty:
        return None
    match = runs[_handles(runs) == wanted]
    return str(match["dataset"].iloc[0]) if len(match) else None


def _sidebar(results: data.Results) -> dict:
    """The filters; every view below reads its choices from here."""
    opts = views.options(results)
    st.sidebar.header("Filters")
    start = _linked_dataset(results.runs) or views.newest_dataset(results.runs)  # where your newest runs are
    dataset = st.sidebar.selectbox("Dataset", opts["dataset"], index=_position(opts["dataset"], start), key="dataset")
    per_dataset = views.options(results, dataset)
    metrics = per_dataset["metric"]
    metric = st.sidebar.selectbox("Metric", metrics, index=_position(metrics, "dice"), key="metric")
    cls = st.sidebar.selectbox("Class", per_dataset["class"], key="class", help="`mean` = mean over foreground classes")
    # Empty multiselects mean "all", so a paper, tier or source that appears later is shown too.
    papers = st.sidebar.multiselect("Paper", opts["paper"], key="papers", placeholder="all papers")
    tiers = st.sidebar.multiselect(
        "Tier",
        opts["tier"],
        key="tiers",
        placeholder="all tiers",
        help="smoke (seconds), quick (minutes on a CPU), paper (the paper's recipe). Ranks never mix tiers.",
    )
    sources = st.sidebar.multiselect(
        "Runs",
        opts["source"],
        key="sources",
        placeholder="reference, yours and submitted",
        help=f"`{data.SOURCE_REFERENCE}`: reproductions committed to this repository; `{data.SOURCE_MINE}`: your runs; "
        f"`{data.SOURCE_SUBMITTED}`: verified bundles in results/submissions/ (segrepro submit)",
    )
    n_stale = int(results.runs["stale"].sum())
    stale = st.sidebar.checkbox(
        f"Include stale runs ({n_stale})",
        key="stale",
        disabled=not n_stale,
        help="Stale: made by an older recipe than the entry's current one (its recipe hash differs). Left out of "
        "rankings, per-class and reproduced-vs-published unless ticked; always listed under Runs.",
    )
    st.sidebar.markdown(f"[How to submit a method](#{SUBMIT_ANCHOR})")
    return {
        "stale": stale,
        "dataset": dataset,
        "metric": metric,
        "class": cls,
        "papers": papers or None,
        "tiers": tiers or None,
        "sources": sources or None,
    }


def _rankings(results: data.Results, runs: pd.DataFrame, f: dict, published: pd.DataFrame) -> None:
    st.subheader(views.plain(f"Ranking on {f['dataset']}: {f['metric']} of class {f['class']}"))
    _applies("rankings")
    table = views.rankings(results, runs, f["dataset"], f["metric"], f["class"])
    if table.empty:
        st.info("No runs match the filters.")
        return
    st.caption(
        "Mean over runs (folds x seeds) with a 95% percentile-bootstrap confidence interval "
        "(canonical convention: counts pooled over test images). Ranks are within a tier: "
        "tiers differ in training budget and are not ranked against each other."
    )
    tiers = list(dict.fromkeys(table["tier"]))
    if len(tiers) > 1:
        shown = views.plain(", ".join(tiers))
        st.warning(f"{len(tiers)} tiers shown ({shown}): one ranking per tier, not one across tiers.")
    for tier in tiers:
        st.markdown(f"**Tier {views.plain(tier)}**")
        _table(table[table["tier"] == tier], f"rank-{tier}", column_config=STAT_COLUMNS)
    _export(table, f"ranking_{f['dataset']}_{f['metric']}_{f['class']}", "export-rankings")
    references = views.reference_lines(published, f["dataset"], f["metric"])
    if not references.empty:  # a second annotator's score: a reference line, never a ranked method
        st.markdown("**Reference, not ranked** (published: a second annotator scored the test set)")
        _table(references, "rank-reference", column_config={"value": NUMBER})

    _instances(results, runs, f)


def _instances(results: data.Results, runs: pd.DataFrame, f: dict) -> None:
    """The instance metrics, below the ranking, for a dataset whose runs carry them (paper 002's entries)."""
    table = views.instances(results, runs, f["dataset"])
    if table.empty:
        return
    st.subheader(views.plain(f"Instances on {f['dataset']}: P05, RQ, SQ, PQ"))
    st.caption(
        "Predicted instances matched to the dataset's instance labels at IoU > 0.5 (touching cells stay apart), "
        "counts pooled over each run's test images; mean over runs, PQ with its 95% bootstrap CI. Ranked by PQ "
        "within a tier. Independent of the sidebar's metric and class."
    )
    _table(table, "instances-table", column_config=INSTANCE_NUMBER_COLUMNS)
    _export(table, f"instances_{f['dataset']}", "export-instances")


PATTERNS = ("", "/", "x", ".", "+")
"""Bar patterns per source (reference, yours, ...)."""


@st.cache_data(show_spinner=False, max_entries=32)
def _per_class_figure(table: pd.DataFrame, metric: str) -> go.Figure:
    """Bars per class, one colour per baseline, one pattern per source, one panel per tier, with the 95% CI
    as error bars. Built from plotly's graph objects (plotly express took ~1 s for 20 baselines x 3
    tiers, paid on the first open after every change of the data); cached on the (small) table."""
    tiers = list(dict.fromkeys(table["tier"]))
    classes = list(dict.fromkeys(table["class"]))
    colours = dict(zip(dict.fromkeys(table["baseline"]), itertools.cycle(px.colors.qualitative.Plotly), strict=False))
    patterns = dict(zip(sorted(set(table["source"])), itertools.cycle(PATTERNS), strict=False))
    fig = make_subplots(rows=1, cols=len(tiers), shared_yaxes=True, subplot_titles=[f"tier {t}" for t in tiers])
    for col, tier in enumerate(tiers, start=1):
        for (baseline, source), g in table[table["tier"] == tier].groupby(["baseline", "source"], sort=False):
            fig.add_trace(
                go.Bar(
                    x=g["class"],
                    y=g["mean"],
                    error_y={"type": "data", "array": g["ci_high"] - g["mean"], "arrayminus": g["mean"] - g["ci_low"]},
                    name=f"{baseline} ({source})",
                    legendgroup=f"{baseline} ({source})",
                    showlegend=col == 1,
                    marker={"color": colours[baseline], "pattern": {"shape": patterns[source]}},
                    customdata=g[["share", "n", "std"]].to_numpy(),
                    hovertemplate="%{x}: %{y:.4f}<br>share %{customdata[0]:.3g}, n %{customdata[1]}, "
                    "std %{customdata[2]:.4f}<extra>%{fullData.name}</extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_layout(barmode="group", yaxis_title=f"{metric} (mean, 95% CI)")
    fig.update_xaxes(categoryorder="array", categoryarray=classes)
    return fig


def _per_class(results: data.Results, runs: pd.DataFrame, f: dict) -> None:
    st.subheader(views.plain(f"Per class on {f['dataset']}: {f['metric']}"))
    _applies("per-class")
    table = views.per_class(results, runs, f["dataset"], f["metric"])
    if table.empty:
        st.info("No per-class scores match the filters.")
        return
    st.caption("Classes ordered from the rarest (smallest share of scored test voxels) to the most frequent.")
    st.plotly_chart(_per_class_figure(_plot_text(table, GROUP_TEXT), f["metric"]), key="per-class-chart")
    _table(table, "per-class-table", column_config=STAT_COLUMNS)
    _export(table, f"per_class_{f['dataset']}_{f['metric']}", "export-per-class")


def _published(results: data.Results, tables: data.Tables, keys: tuple[str, ...], f: dict) -> None:
    st.subheader("Reproduced vs published")
    _applies("published")
    published = tables.published
    if published.empty:
        st.info("No published tables found (baselines/<paper>/published.csv).")
        return
    published = published[published["paper"].isin(f["papers"])] if f["papers"] else published
    run_datasets = sorted(results.runs["dataset"].astype(str).unique())
    substitutes = {}
    missing = sorted(set(published["dataset"]) - set(run_datasets))
    if missing and run_datasets:
        with st.expander("Compare with a substitute dataset (numbers on data without runs)"):
            for ds in missing:
                label = f"Runs standing in for {views.plain(ds)}"
                choice = st.selectbox(label, ["(none)", *run_datasets], key=f"sub-{ds}")
                if choice != "(none)":
                    substitutes[ds] = choice
    papers = tuple(f["papers"]) if f["papers"] else None
    table = _reproduced(keys, papers, tuple(sorted(substitutes.items())), results, tables)
    with_runs = table["tier"].notna()
    keep = ~with_runs
    keep |= table["tier"].isin(f["tiers"] or table["tier"]) & table["source"].isin(f["sources"] or table["source"])
    table = table[keep]
    st.caption(
        "Published values divided by the table's scale (fractions). Verdict: within the run-to-run spread "
        f"(|delta| <= {views.SPREAD_SIGMAS:g} sd of the runs, combined with the paper's std where printed), "
        "better, worse, undetermined (one run, no spread), each marked with its tier when that is not `paper` "
        "(e.g. *worse (quick tier)*: a smaller budget than the paper's, the delta shows the distance), not "
        "comparable (dataset substitute, convention) or open (no run yet). `scored_as`: the runs' score block "
        "the reproduced numbers come from, the paper's own convention where the records have it."
    )
    fallback = table["why"].str.contains(views.CONVENTION_FALLBACK, regex=False)
    if fallback.any():
        st.warning(
            f"{int(fallback.sum())} reproduced number(s) come from run records without a block scored in the "
            "paper's convention (made before the metrics engine scored it): their canonical scores are shown "
            "instead, and they are marked not comparable. Re-running those runs adds the block."
        )
    counts = table["verdict"].value_counts()
    st.text(" · ".join(f"{v}: {n}" for v, n in counts.items()))  # text: a verdict names the tier of a record
    verdicts = st.multiselect("Verdicts", list(counts.index), default=list(counts.index), key="verdicts")
    shown = table[table["verdict"].isin(verdicts)]
    chart = views.published_chart(shown)
    if not chart.empty:
        st.plotly_chart(_published_figure(chart), key="pvr-chart")
    # The columns a reader compares first; the export has them all (ci, std, baseline, run dataset).
    order = ["table", "method", "class", "metric", "tier", "published", "mean", "delta", "verdict", "why"]
    config = {**STAT_COLUMNS, "why": st.column_config.TextColumn(width="large")}
    _table(shown, "pvr-table", column_config=config, column_order=order)
    _export(shown, "reproduced_vs_published", "export-pvr")
    open_rows = table[table["verdict"] == views.VERDICT_OPEN]
    if not open_rows.empty:
        st.markdown(f"**Open reproductions** ({len(open_rows)} published numbers with no run yet)")
        cols = ["paper", "table", "dataset", "method", "baseline", "class", "metric", "published", "why"]
        _table(open_rows[cols], "open-table", column_config=STAT_COLUMNS)


@st.cache_data(show_spinner=False, max_entries=16)
def _published_figure(chart: pd.DataFrame) -> go.Figure:
    """Published (circles, the paper's std) against reproduced (diamonds, the runs' std) per class and metric."""
    fig = px.scatter(
        chart,
        x="class",
        y="value",
        color="label",
        symbol="kind",
        symbol_map={"published": "circle-open", "reproduced": "diamond"},
        error_y="spread",
        facet_col="metric",
        facet_col_wrap=2,
        color_discrete_sequence=PALETTE,
        labels={"value": "score (fraction)", "label": "method (table, tier, runs)", "kind": ""},
    )
    fig.update_traces(marker={"size": 10})
    fig.update_yaxes(matches=None)
    return fig


def _stress_figure(curve: pd.DataFrame, metric: str) -> go.Figure:
    """One colour per (baseline, source), a band over seeds where a ratio has several, ratios as 1:N."""
    fig = go.Figure()
    for i, ((baseline, source), sub) in enumerate(curve.groupby(["baseline", "source"], sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        name = baseline if curve["source"].nunique() == 1 else f"{baseline} ({source})"
        banded = sub[sub["n"] > 1]
        if len(banded):
            fig.add_trace(
                go.Scatter(
                    x=[*banded["ratio"], *banded["ratio"][::-1]],
                    y=[*banded["ci_high"], *banded["ci_low"][::-1]],
                    fill="toself",
                    fillcolor=colour,
                    opacity=0.2,
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=sub["ratio"],
                y=sub["mean"],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                line={"color": colour, "dash": "solid" if source == data.SOURCE_REFERENCE else "dash"},
                customdata=sub[["label", "achieved_ratio", "n"]],
                hovertemplate="%{customdata[0]} (achieved %{customdata[1]:.4g}): %{y:.4f}, n = %{customdata[2]}",
            )
        )
    ratios = sorted(set(curve["ratio"]))
    fig.update_xaxes(
        type="log", tickvals=ratios, ticktext=[views.ratio_label(r) for r in ratios], title="target class ratio (fg:bg)"
    )
    fig.update_yaxes(title=metric)
    return fig


def _stress(tables: data.Tables, f: dict) -> None:
    st.subheader("Class-ratio stress curves")
    _applies("stress")
    stress = tables.stress
    stress = stress[stress["source"].isin(f["sources"])] if f["sources"] else stress
    if stress.empty:
        st.info("No stress tables yet (results/stress/<dataset>/stress.csv, written by `segrepro stress`).")
        return
    datasets = sorted(stress["dataset"].unique())
    cols = st.columns(3)
    dataset = cols[0].selectbox("Dataset", datasets, index=_position(datasets, f["dataset"]), key="stress-dataset")
    sub = stress[stress["dataset"] == dataset]
    # Metric and class start at the sidebar's where the table has them (the keys name the sidebar's
    # choice, so a new choice there starts them again); either can then be changed here.
    metrics = sorted(sub["metric"].unique())
    index = _position(metrics, f["metric"])
    metric = cols[1].selectbox("Metric", metrics, index=index, key=f"stress-metric:{f['metric']}")
    classes = sorted(sub.loc[sub["metric"] == metric, "class"].unique())
    cls = cols[2].selectbox("Class", classes, index=_position(classes, f["class"]), key=f"stress-class:{f['class']}")
    curve = views.stress_curves(stress, dataset, cls, metric)
    fig = _stress_figure(curve, metric)
    if (curve["n"] > 1).any():
        st.caption("Bands: 95% bootstrap interval over the repeated runs (seeds) at each ratio.")
    st.plotly_chart(fig, key="stress-chart")
    for source in sorted(set(curve["source"])):
        sweep = tables.sweeps.get((source, dataset))
        if sweep is None:
            st.caption(f"`{source}` sweep: no stress.json beside its table, so the command that made it is unknown.")
        else:
            commit = (sweep.get("git_commit") or "unknown")[:12] + (" (dirty)" if sweep.get("git_dirty") else "")
            made = f"made by {sweep['command']} at commit {commit} on {sweep['device']}, started {sweep['started']}"
            took = f"{sweep['wall_time_s']:.0f} s" if sweep.get("finished") else "not finished (interrupted or running)"
            st.caption(f"`{source}` sweep {views.plain(made)}, {took}.")
    _table(curve, "stress-table", column_config=STAT_COLUMNS)
    _export(curve, f"stress_{dataset}_{metric}_{cls}", "export-stress")


def _claims(results: data.Results, tables: data.Tables, keys: tuple[str, str], f: dict) -> None:
    st.subheader("Claims")
    _applies("claims")
    if not tables.claims:
        st.info("No claims ledger found (baselines/<paper>/claims.yaml).")
        return
    verdicts, comparisons = _claim_verdicts("/".join(keys), results, tables)
    if f["papers"]:
        verdicts = verdicts[verdicts["paper"].isin(f["papers"])]
        comparisons = comparisons[comparisons["paper"].isin(f["papers"])]
    if f["tiers"]:
        verdicts = verdicts[verdicts["tier"].isin([*f["tiers"], ""])]
        comparisons = comparisons[comparisons["tier"].isin(f["tiers"])]
    st.caption(
        f"Each paper's headline claims (claims.yaml) tested on the run records: {claims.TEST} at level 0.05, "
        f"which needs at least {claims.min_pairs(0.05)} pairs. *holds*: every comparison of the claim is "
        "significant in its direction; *does not hold*: one with enough pairs is not; *undetermined*: too few "
        "pairs (the detail says how many more); *not testable here*: no runs on that dataset. `transfer`: a "
        "dataset other than the paper's. `segrepro claims` prints the same."
    )
    st.markdown(" · ".join(f"**{v}**: {n}" for v, n in verdicts["verdict"].value_counts().items()))
    order = ["paper", "claim", "dataset", "transfer", "tier", "verdict", "n_pairs", "held", "mean_difference",
             "p_value", "published_effect", "detail"]  # fmt: skip
    number = st.column_config.NumberColumn(format="%.4f")
    config = {c: number for c in ("mean_difference", "ci_low", "ci_high", "p_value", "published_effect")}
    config["detail"] = st.column_config.TextColumn(width="large")
    _table(verdicts, "claims-table", column_order=order, column_config=config)
    _export(verdicts, "claims", "export-claims")
    quoted = pd.DataFrame(
        [
            (c.paper, c.id, c.quote, c.source, c.a, ", ".join(c.b), ", ".join(c.metrics), ", ".join(c.classes),
             c.direction, c.effect_note)
            for c in tables.claims
            if not f["papers"] or c.paper in f["papers"]
        ],
        columns=["paper", "claim", "quote", "source", "a", "b", "metric", "class", "direction", "effect"],
    )  # fmt: skip
    with st.expander(f"The claims as quoted ({len(quoted)}) and every comparison ({len(comparisons)})"):
        _table(quoted, "claims-quoted")
        _table(comparisons, "claims-comparisons", column_config=config)


def _handles(runs: pd.DataFrame) -> pd.Series:
    """``<source>:<record file name without .json>`` of each run: what ``?run=`` names."""
    return runs["source"].astype(str) + ":" + runs["file"].astype(str).str.removesuffix(".json")


def _remember_run() -> None:
    """Put the chosen run in the URL, so the run's page can be linked to."""
    st.query_params["run"] = st.session_state["run"]


def _runs(runs: pd.DataFrame) -> None:
    st.subheader("Runs")
    _applies("runs")
    if runs.empty:
        st.info("No runs match the filters.")
        return
    handles = _handles(runs)
    table = runs.drop(columns=["key"]).assign(page="?run=" + handles)
    link = st.column_config.LinkColumn("page", display_text="open")
    _table(table, "runs-table", column_config={"page": link})
    _export(table, "runs", "export-runs")
    handles = handles.tolist()
    wanted = st.query_params.get("run")
    index = handles.index(wanted) if wanted in handles else 0
    handle = st.selectbox("Run", handles, index=index, key="run", on_change=_remember_run)
    _run_page(Path(runs.iloc[handles.index(handle)]["key"]))


def _overlay(folder: Path, file: Path) -> np.ndarray | str:
    """One prediction overlay as pixels, or why it is not shown: a file that resolves outside the run's
    folder (a symlink, say) is never opened, nor is one too large; one that does not decode is named."""
    if file.resolve() != folder.parent.resolve() / folder.name / file.name:  # a link on the way
        return "points outside the run's folder; not opened"
    try:
        with Image.open(file) as im:
            if im.width * im.height > OVERLAY_PIXELS:
                return f"{im.width}x{im.height} pixels, larger than the page shows"
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return f"not a readable PNG ({type(exc).__name__})"


def _overlays(path: Path, record: dict) -> None:
    shots = data.overlays(path, record)
    if not shots:
        st.caption("No prediction overlays saved for this run (`segrepro run ... --save-predictions N` saves some).")
        return
    shown, captions = [], []
    for caption, file in shots[:OVERLAY_LIMIT]:
        pixels = _overlay(path.with_suffix(""), file)
        if isinstance(pixels, str):
            st.error(views.plain(f"{file}: {pixels}"))
        else:
            shown.append(pixels)
            captions.append(views.plain(caption))
    if shown:
        st.markdown("**Predictions** (image | ground truth | prediction; masked voxels hatched grey)")
        st.image(shown, caption=captions)
    if len(shots) > OVERLAY_LIMIT:
        st.caption(f"{len(shots) - OVERLAY_LIMIT} more overlays not shown.")


def _run_page(path: Path) -> None:
    record = data.read_record(path)
    if isinstance(record, data.Problem):
        st.error(views.plain(f"{record.path}: {record.message}"))
        return
    st.markdown(f"### {views.plain(record['run_id'])}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Provenance**")
        prov = views.provenance(record)
        _table(prov, "provenance", height=35 * (len(prov) + 1) + 3)  # every row, no scroll
    with right:
        st.markdown("**Recipe**")
        st.json(views.capped(record.get("recipe") or {}), expanded=True)
    curves = views.curves(record)
    if curves.empty:
        st.caption("No training curves in this record.")
    else:
        fig = px.line(_plot_text(curves, ["curve"]), x="iteration", y="value", facet_row="curve", markers=True)
        fig.update_yaxes(matches=None)
        st.plotly_chart(fig, key="curves-chart")
    _overlays(path, record)


SUBMIT = """
A method is a registry entry: a factory returning a `BaselineEntry` (model factory, loss factory
called as `loss(outputs, target, mask)`, output rule, a `Recipe` per tier, paper and citation).

1. In your own package, decorate the factory with `@register_baseline("mylab-method")` and expose it
   through the `segrepro.baselines` entry-point group in your `pyproject.toml`:
   ```toml
   [project.entry-points."segrepro.baselines"]
   mylab-method = "mypkg.entry"
   ```
   (datasets register the same way through `segrepro.datasets`). No fork needed.
2. `pip install -e mypkg`, then check it: `segrepro baselines list`, `segrepro baselines show mylab-method`.
   The test suite's registry walk checks every entry (build, forward, backward, and that masked
   voxels get no weight): run `make test`.
3. Run it under the standard protocol, every fold and a few seeds, at the tier you can afford:
   `segrepro run --dataset NAME --baseline mylab-method --fold F --seed S --tier quick`,
   then `segrepro aggregate`. Your runs appear here, marked `yours`.
4. To compare with a paper, add `published.csv` and `methods.csv` to its package under `baselines/`
   (columns `paper,table,dataset,method,class,metric,value,std` and `table,method,baseline,scale`).
5. Submit: open a pull request with the entry (or a link to your package), and the run records made with
   `SEGREPRO_RESULTS_DIR=results/reference segrepro run ...` for `results/reference/runs/`.
"""


def _admitted() -> bool:
    """Whether this session may see the page: always, unless the server was started with a secret."""
    secret = access.required_secret()
    if secret is None or st.session_state.get("admitted"):
        return True
    given = st.text_input("Access secret", type="password", key="secret", help="Ask whoever runs this page.")
    if given and access.admits(given, secret):
        st.session_state["admitted"] = True
        st.rerun()
    if given:
        st.error("That is not the secret.")
    return False


def _page() -> None:
    folders = data.default_folders()
    keys = (data.digest(data.runs_signature(folders)), data.digest(data.tables_signature(folders)))
    results = _results(keys[0], folders)
    tables = _tables(keys[1], folders)
    _problems(results.problems + tables.problems)
    for note in results.notes:
        st.caption(note)
    runs = results.runs
    n_ref = int((runs["source"] == data.SOURCE_REFERENCE).sum())
    n_stale = int(runs["stale"].sum())
    stale = f" {n_stale} stale (made by an older recipe than their entry's current one)." if n_stale else ""
    st.caption(f"{len(runs)} runs: {n_ref} reference reproductions, {len(runs) - n_ref} yours.{stale}")
    if runs.empty and tables.published.empty and tables.stress.empty:
        st.info(
            f"No results yet in {paths.results_dir()}. Run `dvc repro` or `segrepro run` "
            "(reference reproductions live in results/reference/runs)."
        )
    else:
        f = _sidebar(results)
        if n_stale and not f["stale"]:
            st.warning(
                f"{n_stale} stale run(s) are left out of the statistics (tick *Include stale runs* in the sidebar "
                "to count them); the Runs tab lists them with recipe_state = stale."
            )
        ranked = views.seed_selected(results if f["stale"] else _without_stale(keys[0], results))
        filtered = views.select_runs(ranked.runs, [f["dataset"]], f["papers"], f["tiers"], f["sources"])
        view = st.query_params.get("view", "runs" if st.query_params.get("run") else "rankings")
        # Only the open tab's content runs (a tab switch reruns the page): the first open computes one view.
        tabs = st.tabs(list(VIEWS.values()), default=VIEWS.get(view, VIEWS["rankings"]), key="tab", on_change="rerun")
        with tabs[0]:
            if tabs[0].open and f["dataset"] is not None:
                _guarded("rankings view", _rankings, ranked, filtered, f, tables.published)
        with tabs[1]:
            if tabs[1].open and f["dataset"] is not None:
                _guarded("per-class view", _per_class, ranked, filtered, f)
        with tabs[2]:
            if tabs[2].open:
                _guarded("reproduced-vs-published view", _published, ranked, tables, (*keys, str(f["stale"])), f)
        with tabs[3]:
            if tabs[3].open:
                _guarded("stress view", _stress, tables, f)
        with tabs[4]:
            if tabs[4].open:
                _guarded("claims view", _claims, ranked, tables, keys, f)
        with tabs[5]:
            if tabs[5].open:
                runs_shown = views.select_runs(runs, [f["dataset"]], f["papers"], f["tiers"], f["sources"])
                _guarded("runs view", _runs, runs_shown)


def main() -> None:
    st.set_page_config(page_title="segrepro leaderboard", layout="wide")
    st.title("segrepro leaderboard")
    if not _admitted():
        return
    st.caption(
        "Class-imbalanced microscopy segmentation, reproduced under one protocol. "
        f"[How to submit a method](#{SUBMIT_ANCHOR})"
    )
    _guarded("page", _page)
    st.header("How to submit a method", anchor=SUBMIT_ANCHOR)
    st.markdown(SUBMIT)


main()
