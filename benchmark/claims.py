"""The claims ledger: each paper's headline claims as data (``baselines/<paper>/claims.yaml``) and a verdict
per claim, dataset and tier from the run records.

A claim compares entry ``a`` with entry ``b`` (or with each entry of a set) on one or more (metric, class)
pairs, in a direction. Each comparison pairs the runs of both sides that share tier, fold and seed, and
asks whether ``a - b`` lies in the claimed direction: a one-sided Wilcoxon signed-rank test at level
``alpha``, reported with a seeded bootstrap CI of the mean paired difference. Verdicts:

- *holds*: every comparison of the claim is significant in the claimed direction (an intersection-union
  test: requiring all of them keeps the claim's error rate at ``alpha`` with no correction);
- *does not hold*: a comparison with enough pairs is not (the detail says whether the other side is ahead);
- *undetermined*: fewer pairs than the test needs to ever reach ``p < alpha`` (the detail says how many more),
  none included: the dataset has runs here, at a tier where the claim's entries have not all run;
- *not testable here*: nothing ran on that dataset here (its data is missing, or it was never run).

A claim of *no significant gain* (paper 003's grain filter) has direction ``not higher``: a comparison holds
when, with enough pairs for the test to ever reach ``p < alpha``, ``a`` is not significantly above ``b``
(the same one-sided test, read the other way; absence of a significant gain, not proof of equality).

It runs on the paper's datasets and, marked as a transfer, on every other dataset where ``a`` and one of
``b`` have runs. A transfer reads each claim class under the dataset's own name where the claims file maps
it (``transfer_classes``: paper 003's *cell membrane* is ``drosophila-vnc``'s *membrane*). A claim on class
``mean`` reads the convention's mean over the run's foreground classes, unless it names the classes the
paper averages (``mean_of``: paper 004's mean DSC is over mitochondria and endolysosomes); then it is the
mean of those, each read under its name on the dataset, so a stand-in's extra classes do not enter it.

The scores come from the results layer as the leaderboard reads them
(``leaderboard.views.claim_scores``), for the page and for ``segrepro claims`` alike.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from segrepro.errors import UserError
from segrepro.metrics.confusion import CONFUSION_METRICS
from segrepro.metrics.statistics import bootstrap_ci
from segrepro.yaml_files import read_yaml

KNOWN_METRICS = frozenset(
    {*CONFUSION_METRICS, "auc", "pq", "sq", "rq", "p05", "detected", "under_detected", "missed", "hd95"}
)
"""Every score a run record can hold (confusion scores, AUC, instance metrics, HD95)."""
HOLDS, DOES_NOT_HOLD, UNDETERMINED, NOT_TESTABLE = "holds", "does not hold", "undetermined", "not testable here"
NO_GAIN = "not higher"
VERDICTS = (HOLDS, DOES_NOT_HOLD, UNDETERMINED, NOT_TESTABLE)
TEST = "one-sided Wilcoxon signed-rank test of paired runs (same tier, fold, seed)"
PAIR_KEYS = ["tier", "fold", "seed"]
SCORE_COLUMNS = ["dataset", "baseline", *PAIR_KEYS, "block", "class", "metric", "value"]
VERDICT_COLUMNS = [
    "paper",
    "claim",
    "dataset",
    "transfer",
    "tier",
    "verdict",
    "test",
    "n_pairs",
    "needed",
    "held",
    "mean_difference",
    "ci_low",
    "ci_high",
    "p_value",
    "published_effect",
    "detail",
]
COMPARISON_COLUMNS = [
    "paper",
    "claim",
    "dataset",
    "transfer",
    "tier",
    "metric",
    "class",
    "a",
    "b",
    "outcome",
    "n_pairs",
    "mean_difference",
    "ci_low",
    "ci_high",
    "p_value",
]


@dataclass(frozen=True)
class Claim:
    """One claim of one paper (a row of ``claims.yaml``); lists are tuples, a single name a 1-tuple."""

    paper: str
    id: str
    quote: str
    source: str
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]
    classes: tuple[str, ...]
    a: str
    b: tuple[str, ...]
    direction: str
    effect: float | None = None
    scale: float = 1.0
    effect_note: str = ""
    convention: str = "paper"
    transfer_classes: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per transfer dataset, the dataset's name of a claim class (``{dataset: {paper class: its class}}``)."""
    mean_of: tuple[str, ...] = ()
    """The classes whose mean class ``mean`` is (empty: the convention's mean over every foreground class)."""

    @property
    def published_effect(self) -> float | None:
        """The printed effect ``a - b`` as a fraction (printed value / ``scale``), if the paper prints one."""
        return None if self.effect is None else self.effect / self.scale

    def comparisons(self, dataset: str = "") -> list[tuple[str, str, str]]:
        """``(metric, class, b)`` for every comparison the claim makes, each class under its name on ``dataset``."""
        names = self.classes_on(dataset)
        return [(m, names[c], b) for m in self.metrics for c in self.classes for b in self.b]

    def classes_on(self, dataset: str, classes: Sequence[str] | None = None) -> dict[str, str]:
        """Each claim class (or each of ``classes``) and the name it is read under on ``dataset`` (its own
        unless mapped there)."""
        mapped = self.transfer_classes.get(dataset, {})
        return {c: mapped.get(c, c) for c in (self.classes if classes is None else classes)}

    def class_names(self) -> set[str]:
        """Every name a claim class (or a class of ``mean_of``) is read under, on any dataset."""
        return {*self.classes, *self.mean_of, *(n for m in self.transfer_classes.values() for n in m.values())}

    def entries(self) -> tuple[str, ...]:
        return (self.a, *self.b)


# --- reading and checking claims files ---------------------------------------------------------------


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads(files("segrepro").joinpath("schemas/claims.schema.json").read_text())
    )


def claim_files(root: Path) -> list[Path]:
    """Every paper package's ``claims.yaml`` under ``root`` (the ``baselines/`` folder)."""
    return sorted(root.glob("*/claims.yaml"))


def _names(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _unknown(path: Path, where: str, field: str, names: Iterable[str], known: Collection[str] | None) -> None:
    if known is None:
        return
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UserError(f"{path}: {where}: unknown {field} {name!r}{hint}")


def load_claims(
    path: Path, entries: Collection[str] | None = None, datasets: Collection[str] | None = None
) -> list[Claim]:
    """The claims of one file, checked: schema, unique ids, and (where ``entries`` / ``datasets`` are
    given) every entry, dataset and metric known, and each ``transfer_classes`` dataset and class. Any
    problem is a one-line ``UserError`` naming the file, the claim and the field."""
    doc = read_yaml(path)
    error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise UserError(f"{path}: {where}: {error.message[:200]}")
    claims, seen = [], set()
    transfer_classes = doc.get("transfer_classes", {})
    _unknown(path, "transfer_classes", "dataset", transfer_classes, datasets)
    named = {c for raw in doc["claims"] for c in (*_names(raw["class"]), *raw.get("mean_of", ()))}
    paper_datasets = {d for raw in doc["claims"] for d in raw["datasets"]}
    for dataset, mapping in transfer_classes.items():
        if dataset in paper_datasets:
            raise UserError(f"{path}: transfer_classes: {dataset!r} is a paper dataset; map only other datasets")
        _unknown(path, "transfer_classes", "claim class", mapping, named)
    for raw in doc["claims"]:
        cid = raw["id"]
        if cid in seen:
            raise UserError(f"{path}: claim id {cid!r} is used twice")
        seen.add(cid)
        classes = _names(raw["class"])
        mean_of = tuple(raw.get("mean_of", ()))
        if mean_of and "mean" not in classes:
            raise UserError(f"{path}: claim {cid!r}: mean_of is given, but class 'mean' is not compared")
        claim = Claim(
            paper=str(doc["paper"]),
            id=cid,
            quote=raw["quote"],
            source=raw["source"],
            datasets=tuple(raw["datasets"]),
            metrics=_names(raw["metric"]),
            classes=classes,
            a=raw["a"],
            b=_names(raw["b"]),
            direction=raw["direction"],
            effect=raw.get("effect"),
            scale=float(raw.get("scale", 1.0)),
            effect_note=raw.get("effect_note", ""),
            convention=raw.get("convention", "paper"),
            transfer_classes={
                d: {c: n for c, n in m.items() if c in classes or c in mean_of} for d, m in transfer_classes.items()
            },
            mean_of=mean_of,
        )
        if claim.a in claim.b:
            raise UserError(f"{path}: claim {cid!r}: entry {claim.a!r} is compared with itself")
        _unknown(path, f"claim {cid!r}", "entry", claim.entries(), entries)
        _unknown(path, f"claim {cid!r}", "dataset", claim.datasets, datasets)
        _unknown(path, f"claim {cid!r}", "metric", claim.metrics, KNOWN_METRICS)
        claims.append(claim)
    return claims


def load_all_claims(
    root: Path, entries: Collection[str] | None = None, datasets: Collection[str] | None = None
) -> list[Claim]:
    """The claims of every paper package under ``root``; a claim id must be unique within its paper."""
    return [c for path in claim_files(root) for c in load_claims(path, entries, datasets)]


# --- verdicts ---------------------------------------------------------------------------------------


def min_pairs(alpha: float) -> int:
    """The fewest pairs with which the exact one-sided Wilcoxon test can reach ``p < alpha``: all n
    differences of one sign give its smallest p-value, 2^-n."""
    return math.floor(math.log2(1 / alpha)) + 1


@dataclass(frozen=True)
class Outcome:
    """One comparison of paired runs: ``a - b`` in the claimed direction or not."""

    outcome: str
    n: int
    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float


def compare(a: np.ndarray, b: np.ndarray, direction: str, alpha: float = 0.05) -> Outcome:
    """The paired test of one comparison: ``a[i]`` and ``b[i]`` are the same tier, fold and seed."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    d = d[np.isfinite(d)]
    n, nan = int(d.size), math.nan
    if n < min_pairs(alpha):
        mean = float(d.mean()) if n else nan
        return Outcome(UNDETERMINED, n, mean, nan, nan, nan)
    lo, hi = bootstrap_ci(d, level=1 - alpha)
    alternative = "less" if direction == "lower" else "greater"
    p = 1.0 if not np.any(d) else float(wilcoxon(d, alternative=alternative).pvalue)
    significant = p < alpha
    held = not significant if direction == NO_GAIN else significant
    return Outcome(HOLDS if held else DOES_NOT_HOLD, n, float(d.mean()), lo, hi, p)


def _series(scores: pd.DataFrame, claim: Claim) -> dict[tuple, dict[tuple, float]]:
    """The claim's scores (its block, metrics, classes and entries) per (dataset, tier, baseline, metric,
    class), each a ``{(fold, seed): value}``: grouped once, so a comparison is a lookup."""
    keep = (
        (scores["block"] == claim.convention)
        & scores["metric"].isin(claim.metrics)
        & scores["class"].isin(claim.class_names())
        & scores["baseline"].isin(claim.entries())
    )
    out: dict[tuple, dict[tuple, float]] = {}
    cols = ["dataset", "tier", "baseline", "metric", "class", "fold", "seed", "value"]
    for *key, fold, seed, value in scores.loc[keep, cols].itertuples(index=False):
        out.setdefault(tuple(key), {})[(fold, seed)] = value
    if claim.mean_of:
        _mean_of(out, claim)
    return out


def _mean_of(series: dict[tuple, dict[tuple, float]], claim: Claim) -> None:
    """Replace each ``mean`` series by the mean of the claim's ``mean_of`` classes (under their names on its
    dataset) on the runs that have all of them; where a class is missing there is no mean."""
    for key in [k for k in series if k[4] == "mean"]:
        dataset, tier, baseline, metric, _ = key
        names = claim.classes_on(dataset, claim.mean_of).values()
        parts = [series.get((dataset, tier, baseline, metric, n), {}) for n in names]
        runs = set.intersection(*(set(p) for p in parts))
        series[key] = {run: float(np.mean([p[run] for p in parts])) for run in runs}


def _paired(series: dict[tuple, dict[tuple, float]], key: tuple, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    """The scores of ``a`` and ``b`` on the same (fold, seed), in pairs (``key``: dataset, tier, metric, class)."""
    dataset, tier, metric, cls = key
    left = series.get((dataset, tier, a, metric, cls), {})
    right = series.get((dataset, tier, b, metric, cls), {})
    both = sorted(left.keys() & right.keys())
    return np.array([left[k] for k in both], dtype=float), np.array([right[k] for k in both], dtype=float)


def _verdict_row(claim: Claim, tier: str, found: list[dict], alpha: float) -> dict:
    """Combine the comparisons of one claim on one dataset and tier into its verdict."""
    needed = min_pairs(alpha)
    failed = [c for c in found if c["outcome"] == DOES_NOT_HOLD]
    short = [c for c in found if c["outcome"] == UNDETERMINED]
    held = sum(c["outcome"] == HOLDS for c in found)
    verdict = DOES_NOT_HOLD if failed else UNDETERMINED if short else HOLDS
    # The comparison shown: the one that decides the verdict, i.e. the least supported.
    shown = max(failed or short or found, key=lambda c: (-c["n_pairs"], np.nan_to_num(c["p_value"], nan=2.0)))
    what = f"{claim.a} vs {shown['b']} on {shown['metric']} of {shown['class']}"
    if verdict == UNDETERMINED:
        seen = f" (mean difference so far {shown['mean_difference']:+.4f})" if shown["n_pairs"] else ""
        detail = (
            f"{shown['n_pairs']} paired run(s) for {what}{seen}; the test needs at least {needed} to reach "
            f"p < {alpha:g}: run {needed - shown['n_pairs']} more fold(s) or seed(s) of both at tier {tier}"
        )
    else:
        ahead = shown["mean_difference"] > 0 if claim.direction == "higher" else shown["mean_difference"] < 0
        detail = (
            f"{what}: mean difference {shown['mean_difference']:+.4f} ({1 - alpha:.0%} bootstrap CI "
            f"{shown['ci_low']:+.4f} to {shown['ci_high']:+.4f}), p = {shown['p_value']:.3g}, n = {shown['n_pairs']}"
        )
        if verdict == DOES_NOT_HOLD and claim.direction == NO_GAIN:
            detail += "; a is significantly ahead"
        elif verdict == DOES_NOT_HOLD:
            detail += "; a is ahead but not significantly" if ahead else "; the difference goes the other way"
    if len(found) > 1:
        detail += f" ({held} of {len(found)} comparisons hold)"
    return {
        "verdict": verdict,
        "n_pairs": min(c["n_pairs"] for c in found),
        "held": f"{held}/{len(found)}",
        **{k: shown[k] for k in ("mean_difference", "ci_low", "ci_high", "p_value")},
        "detail": detail,
    }


def _datasets(claim: Claim, runs: pd.DataFrame) -> list[tuple[str, bool]]:
    """The paper's datasets, then (as transfers) every other dataset where ``a`` and one of ``b`` ran."""
    ran = runs.groupby("dataset")["baseline"].agg(set)
    transfer = sorted(
        d for d, entries in ran.items() if d not in claim.datasets and claim.a in entries and entries & set(claim.b)
    )
    return [(d, False) for d in claim.datasets] + [(d, True) for d in transfer]


def judge(claims: Sequence[Claim], scores: pd.DataFrame, alpha: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(verdicts, comparisons)``: one verdict per claim, dataset and tier (tiers are never paired with
    each other), and every comparison behind it. ``scores`` has ``SCORE_COLUMNS`` (``views.claim_scores``)."""
    runs = scores[["dataset", "baseline", "tier"]].drop_duplicates()
    verdicts, comparisons = [], []
    for claim in claims:
        series = _series(scores, claim)
        for dataset, transfer in _datasets(claim, runs):
            here = runs[runs["dataset"] == dataset]
            base = {"paper": claim.paper, "claim": claim.id, "dataset": dataset, "transfer": transfer}
            if here.empty:
                detail = (
                    f"nothing ran on {dataset} here (its data is missing, or it was never run): segrepro datasets "
                    f"fetch {dataset}, then segrepro run --dataset {dataset} --baseline {claim.a} ..., and each of b"
                )
                verdicts.append({**base, "tier": "", "verdict": NOT_TESTABLE, "n_pairs": 0, "detail": detail})
                continue
            classes_here = set(scores.loc[scores["dataset"] == dataset, "class"])
            names = claim.classes_on(dataset)
            absent = [c for c, name in names.items() if name not in classes_here]
            if len(absent) == len(claim.classes):  # a transfer to data without the claim's classes
                detail = f"{dataset} has none of the claim's classes ({', '.join(claim.classes)}): nothing to pair"
                verdicts.append({**base, "tier": "", "verdict": NOT_TESTABLE, "n_pairs": 0, "detail": detail})
                continue
            read_as = [f"{c} as {n}" for c, n in names.items() if c != n and c not in absent]
            for tier in sorted(here["tier"].unique()):
                found = []
                for metric, cls, b in (c for c in claim.comparisons(dataset) if c[1] in classes_here):
                    a_values, b_values = _paired(series, (dataset, tier, metric, cls), claim.a, b)
                    outcome = compare(a_values, b_values, claim.direction, alpha)
                    row = {**base, "tier": tier, "metric": metric, "class": cls, "a": claim.a, "b": b}
                    found.append({**row, "outcome": outcome.outcome, "n_pairs": outcome.n, **_numbers(outcome)})
                comparisons.extend(found)
                row = _verdict_row(claim, tier, found, alpha)
                if read_as:
                    row["detail"] += f"; read on {dataset}: {', '.join(read_as)}"
                if claim.mean_of and "mean" in claim.classes:
                    row["detail"] += f"; mean of {', '.join(claim.classes_on(dataset, claim.mean_of).values())}"
                if absent:
                    row["detail"] += f"; left out, not classes of {dataset}: {', '.join(absent)}"
                verdicts.append({**base, "tier": tier, **row})
    table = pd.DataFrame(verdicts, columns=VERDICT_COLUMNS)
    table["test"] = np.where(table["verdict"] == NOT_TESTABLE, "", f"{TEST}, alpha {alpha:g}")
    table["needed"] = min_pairs(alpha)
    effects = {(c.paper, c.id): c.published_effect for c in claims}
    table["published_effect"] = [effects[k] for k in zip(table["paper"], table["claim"], strict=True)]
    return table, pd.DataFrame(comparisons, columns=COMPARISON_COLUMNS)


def _numbers(outcome: Outcome) -> dict[str, float]:
    return {
        "mean_difference": outcome.mean_difference,
        "ci_low": outcome.ci_low,
        "ci_high": outcome.ci_high,
        "p_value": outcome.p_value,
    }


def describe(verdicts: pd.DataFrame, alpha: float = 0.05) -> str:
    """The verdicts as text: the test named once, then per claim, dataset and tier its verdict and why."""
    lines = [f"test: {TEST} at alpha {alpha:g}, needing at least {min_pairs(alpha)} pairs"]
    for row in verdicts.to_dict("records"):
        where = row["dataset"] + (" (transfer)" if row["transfer"] else "")
        if row["tier"]:
            where += f", tier {row['tier']}"
        effect = row["published_effect"]
        published = "" if effect is None or pd.isna(effect) else f" (published effect {effect:+.4f})"
        lines.append(f"[{row['verdict']}] paper {row['paper']} {row['claim']} on {where}{published}")
        lines.append(f"    {row['detail']}")
    return "\n".join(lines)
