"""Masked confusion counts and the per-class scores derived from them.

Every score comes from per-class TP/FP/FN/TN counts (the nnU-Net lesson: keep raw counts per case
and class, derive the rest), so per-image and pooled conventions are just different sums.
A class whose score is undefined (zero denominator, e.g. absent from both prediction and ground
truth) scores NaN; aggregation decides what NaN means (see ``conventions``).
"""

from __future__ import annotations

import numpy as np

CONFUSION_METRICS = ("precision", "recall", "dice", "iou")


def confusion_matrix(
    pred: np.ndarray, target: np.ndarray, n_classes: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """``(K, K)`` int64 matrix, rows = ground truth, columns = prediction, over scored voxels only."""
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} != target shape {target.shape}")
    t = np.asarray(target).ravel().astype(np.int64)
    p = np.asarray(pred).ravel().astype(np.int64)
    if mask is not None:
        if mask.shape != target.shape:
            raise ValueError(f"mask shape {mask.shape} != target shape {target.shape}")
        keep = np.asarray(mask).ravel().astype(bool)
        t, p = t[keep], p[keep]
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def counts_from_matrix(cm: np.ndarray) -> np.ndarray:
    """``(K, 4)`` counts per class: TP, FP, FN, TN."""
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return np.stack([tp, fp, fn, tn], axis=1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = num.astype(np.float64)
    den = den.astype(np.float64)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def scores_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, Dice/F1 and IoU from ``(K, 4)`` counts; NaN where undefined."""
    tp, fp, fn, _tn = (counts[:, i] for i in range(4))
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
    }
