"""Evaluation engine: confusion counts per case and class, every score derived from them, AUC,
instance metrics, the papers' conventions and the statistics that compare runs."""

from segrepro.metrics.auc import HistogramAUC, roc_auc, roc_auc_per_class
from segrepro.metrics.confusion import (
    CONFUSION_METRICS,
    confusion_counts,
    confusion_matrix,
    counts_from_matrix,
    scores_from_counts,
)
from segrepro.metrics.conventions import CANONICAL, CONVENTIONS, Convention, get_convention
from segrepro.metrics.summary import pooled_summary, summarize_counts, summary_block

__all__ = [
    "CANONICAL",
    "CONFUSION_METRICS",
    "CONVENTIONS",
    "Convention",
    "HistogramAUC",
    "confusion_counts",
    "confusion_matrix",
    "counts_from_matrix",
    "get_convention",
    "pooled_summary",
    "roc_auc",
    "roc_auc_per_class",
    "scores_from_counts",
    "summarize_counts",
    "summary_block",
]
