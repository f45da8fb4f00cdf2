"""Turn per-class scores into the ``{"per_class": ..., "mean": ...}`` block of run records and of
``segrepro evaluate``; JSON has no NaN, so an undefined score is stored as null."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from segrepro.metrics.confusion import scores_from_counts
from segrepro.metrics.conventions import CANONICAL, Convention


def clean_value(x: float) -> float | None:
    """A finite float, or None for NaN/inf (JSON has no NaN)."""
    return None if x is None or not math.isfinite(float(x)) else float(x)


def summary_block(
    scores: Mapping[str, np.ndarray],
    class_names: Sequence[str],
    convention: Convention = CANONICAL,
    include_background: bool | None = None,
) -> dict:
    """Per-class scores ``{metric: (K,)}`` by class name, and their mean over classes as ``convention`` says."""
    per_class = {name: {m: clean_value(v[k]) for m, v in scores.items()} for k, name in enumerate(class_names)}
    mean = {m: clean_value(convention.class_mean(v, include_background)) for m, v in scores.items()}
    return {"per_class": per_class, "mean": mean}


def summarize_counts(counts: np.ndarray, class_names: Sequence[str]) -> dict:
    """Per-class scores of one ``(K, 4)`` count table and their mean over foreground classes (NaN left out)."""
    return summary_block(scores_from_counts(counts), class_names)


def pooled_summary(counts_per_image: Mapping[str, np.ndarray], class_names: Sequence[str]) -> dict:
    """The canonical convention: counts pooled over every test image, then scored."""
    return summary_block(CANONICAL.scores(np.stack(list(counts_per_image.values()))), class_names)
