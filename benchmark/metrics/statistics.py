"""Aggregation over images, folds and seeds: mean, standard deviation, a seeded percentile-bootstrap
confidence interval, and a paired comparison of two baselines on the same cases with a verdict in words.

The one implementation of these statistics: ``segrepro aggregate``, the leaderboard's views, the
stress curves and the claims all call ``summarise`` (per group of a tidy table) and
``compare_entries`` / ``paired_comparison`` (two entries on the same cases)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

N_BOOTSTRAP = 10_000  # resamples for every interval segrepro shows
PAIRED_TEST = "Wilcoxon signed-rank, two-sided (scipy.stats.wilcoxon)"
CASE_KEYS = ("dataset", "fold", "seed")
"""What makes two runs of different entries one paired case: the same data, split and seed."""
SUMMARY_COLUMNS = ["mean", "ci_low", "ci_high", "std", "n"]
_GROUPS_AT_ONCE = 256
"""Groups resampled in one matrix product: bounds its memory (256 x N_BOOTSTRAP means, 20 MiB)."""


def _finite(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return v[np.isfinite(v)]


def bootstrap_ci(
    values: np.ndarray | Sequence[float], n_boot: int = N_BOOTSTRAP, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of the finite ``values``: resample them with replacement
    ``n_boot`` times (``numpy.random.default_rng(seed)``), take the ``(1 - level) / 2`` and
    ``(1 + level) / 2`` quantiles of the means. Fewer than two finite values: ``(nan, nan)``."""
    return bootstrap_cis([values], n_boot, level, seed)[0]


def bootstrap_cis(
    groups: Sequence[np.ndarray | Sequence[float]], n_boot: int = N_BOOTSTRAP, level: float = 0.95, seed: int = 0
) -> list[tuple[float, float]]:
    """``bootstrap_ci`` of each group, for many groups at once (a leaderboard view has ~1,000).

    The seed is fixed, so groups of the same size are resampled with the same draws: those are made
    once per size, as a count matrix (how often each value is drawn in each resample), and the
    resampled means of all such groups are one matrix product."""
    clean = [_finite(g) for g in groups]
    out = [(float("nan"), float("nan"))] * len(clean)
    alpha = (1.0 - level) / 2.0
    for n in sorted({v.size for v in clean if v.size >= 2}):
        same_size = [i for i, v in enumerate(clean) if v.size == n]
        draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
        counts = np.bincount((draws + n * np.arange(n_boot)[:, None]).ravel(), minlength=n * n_boot)
        for start in range(0, len(same_size), _GROUPS_AT_ONCE):
            which = same_size[start : start + _GROUPS_AT_ONCE]
            means = np.stack([clean[i] for i in which]) @ counts.reshape(n_boot, n).T / n
            low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=1)
            for i, lo, hi in zip(which, low, high, strict=True):
                out[i] = (float(lo), float(hi))
    return out


def summarise(frame: pd.DataFrame, by: list[str], value: str = "value", ci: bool = True) -> pd.DataFrame:
    """Per group of ``by``: mean, bootstrap CI (``bootstrap_cis``; left out without ``ci``), std (ddof 1)
    and count of the finite ``value``s (NaN ignored), indexed by the groups in order of first appearance."""
    kept = frame[np.isfinite(frame[value].to_numpy(dtype=np.float64))]
    grouped = kept.groupby(by, sort=False, observed=True)[value]
    table = grouped.agg(mean="mean", std="std", n="count")
    if not ci:
        return table[["mean", "std", "n"]]
    values = kept[value].to_numpy(dtype=np.float64)
    positions = grouped.indices  # group -> row positions in ``kept``
    ci = dict(zip(positions, bootstrap_cis([values[i] for i in positions.values()]), strict=True))
    table["ci_low"] = [ci[k][0] for k in table.index]
    table["ci_high"] = [ci[k][1] for k in table.index]
    return table[SUMMARY_COLUMNS]


@dataclass(frozen=True)
class Estimate:
    """Mean over cases with its spread: sample std (ddof 1) and a percentile-bootstrap CI; NaN cases left out."""

    mean: float
    std: float
    ci_low: float
    ci_high: float
    n: int
    level: float

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(values: np.ndarray, n_boot: int = N_BOOTSTRAP, level: float = 0.95, seed: int = 0) -> Estimate:
    """Mean, std and bootstrap CI of the finite ``values`` (one per image, fold or seed)."""
    v = _finite(values)
    nan = float("nan")
    if v.size == 0:
        return Estimate(nan, nan, nan, nan, 0, level)
    lo, hi = bootstrap_ci(v, n_boot, level, seed)
    return Estimate(float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else nan, lo, hi, int(v.size), level)


@dataclass(frozen=True)
class PairedComparison:
    """``a - b`` on the same cases: mean difference, its bootstrap CI, the Wilcoxon signed-rank p-value, a verdict."""

    metric: str
    name_a: str
    name_b: str
    n: int
    mean_difference: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float
    verdict: str
    test: str = PAIRED_TEST

    def to_dict(self) -> dict:
        return asdict(self)


def paired_comparison(
    a: np.ndarray,
    b: np.ndarray,
    name_a: str = "A",
    name_b: str = "B",
    metric: str = "score",
    higher_is_better: bool = True,
    n_boot: int = N_BOOTSTRAP,
    level: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Compare two baselines scored on the same cases (``a[i]`` and ``b[i]`` are one case).

    A difference is called only when both the bootstrap CI of the mean difference excludes 0 and
    the two-sided Wilcoxon signed-rank test has p < 1 - level; otherwise the verdict says the data
    cannot tell the two apart. Cases where either score is NaN are dropped in pairs.
    """
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"paired comparison needs the same cases: {a.size} scores vs {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    n, nan = int(d.size), float("nan")
    if n < 2:
        verdict = f"too few paired cases ({n}) to compare {name_a} and {name_b} on {metric}"
        return PairedComparison(metric, name_a, name_b, n, nan, nan, nan, nan, level, verdict)
    from scipy.stats import (
        wilcoxon,
    )  # here, not at the top: importing scipy.stats takes ~1 s the leaderboard need not pay

    lo, hi = bootstrap_ci(d, n_boot, level, seed)
    p = 1.0 if not np.any(d) else float(wilcoxon(d).pvalue)
    mean = float(d.mean())
    detail = (
        f"mean difference {name_a} - {name_b} = {mean:+.4g} ({level:.0%} CI {lo:+.4g} to {hi:+.4g}), "
        f"Wilcoxon p = {p:.3g}, n = {n} paired cases"
    )
    if (lo > 0 or hi < 0) and p < 1 - level:
        better, worse = (name_a, name_b) if (mean > 0) == higher_is_better else (name_b, name_a)
        verdict = f"{better} is better than {worse} on {metric}: {detail}"
    else:
        verdict = f"no clear difference between {name_a} and {name_b} on {metric}: {detail}"
    return PairedComparison(metric, name_a, name_b, n, mean, lo, hi, p, level, verdict)


def compare_entries(
    a: pd.DataFrame, b: pd.DataFrame, on: tuple[str, ...] = CASE_KEYS, value: str = "value", **options: Any
) -> PairedComparison:
    """``paired_comparison`` of two entries' scores (one row per run in ``a`` and in ``b``), paired on
    ``on``, by default dataset, fold and seed; cases that only one side has are left out. Returns the
    number of pairs, the mean difference a - b, its bootstrap CI, the p-value of ``PAIRED_TEST`` and a
    verdict; ``options`` are ``paired_comparison``'s (``name_a``, ``name_b``, ``metric``,
    ``higher_is_better``, ``n_boot``, ``level``, ``seed``)."""
    keys = list(on)
    for side, frame in (("a", a), ("b", b)):
        repeated = frame.duplicated(keys)
        if repeated.any():
            case = ", ".join(f"{k}={v}" for k, v in zip(keys, frame.loc[repeated, keys].iloc[0], strict=True))
            name = options.get(f"name_{side}", side)
            raise ValueError(f"{name} has more than one score for the case {case}: pair one run per case")
    pairs = a[[*keys, value]].merge(b[[*keys, value]], on=keys, suffixes=("_a", "_b"))
    return paired_comparison(pairs[f"{value}_a"].to_numpy(), pairs[f"{value}_b"].to_numpy(), **options)
