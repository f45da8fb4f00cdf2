"""Turn per-image confusion counts into the run record's metric block."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from segrepro.metrics.confusion import scores_from_counts


def _clean(x: float) -> float | None:
    """JSON has no NaN: an undefined score is stored as null."""
    return None if x is None or not math.isfinite(float(x)) else float(x)


def summarize_counts(counts: np.ndarray, class_names: Sequence[str]) -> dict:
    """Per-class scores and their mean over foreground classes (classes 1..K-1, NaN excluded)."""
    scores = scores_from_counts(counts)
    per_class = {
        name: {metric: _clean(vals[k]) for metric, vals in scores.items()} for k, name in enumerate(class_names)
    }
    mean = {}
    for metric, vals in scores.items():
        fg = vals[1:]
        mean[metric] = _clean(np.nanmean(fg)) if np.isfinite(fg).any() else None
    return {"per_class": per_class, "mean": mean}


def pooled_summary(counts_per_image: Mapping[str, np.ndarray], class_names: Sequence[str]) -> dict:
    """The canonical convention: counts pooled over every test image, then scored."""
    total = np.sum(np.stack(list(counts_per_image.values())), axis=0)
    return summarize_counts(total, class_names)
