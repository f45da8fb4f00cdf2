"""Evaluation engine: confusion counts per case and class, and every score derived from them."""

from segrepro.metrics.confusion import (
    CONFUSION_METRICS,
    confusion_matrix,
    counts_from_matrix,
    scores_from_counts,
)
from segrepro.metrics.summary import pooled_summary, summarize_counts

__all__ = [
    "CONFUSION_METRICS",
    "confusion_matrix",
    "counts_from_matrix",
    "pooled_summary",
    "scores_from_counts",
    "summarize_counts",
]
