"""Masked confusion counts and the per-class scores derived from them.

Every score comes from per-class TP/FP/FN/TN counts (the nnU-Net lesson: keep raw counts per case
and class, derive the rest), so per-image, per-slice and pooled conventions are just different sums.
A score whose denominator is zero (e.g. a class absent from both prediction and ground truth) is
NaN here; the convention decides what NaN counts as (see ``conventions``).
"""

from __future__ import annotations

import numpy as np

CONFUSION_METRICS = ("precision", "recall", "tnr", "dice", "iou", "balanced_accuracy", "youden_j", "mcc")
"""Per-class one-vs-rest scores, in the order run records and tables list them."""

_CHUNK = 1 << 16
"""Voxels per step of the counting loop: small enough that every temporary stays in the CPU cache."""


def _check_shapes(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None) -> None:
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} != target shape {target.shape}")
    if mask is not None and mask.shape != target.shape:
        raise ValueError(f"mask shape {mask.shape} != target shape {target.shape}")


def confusion_matrix(
    pred: np.ndarray, target: np.ndarray, n_classes: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """``(K, K)`` int64 matrix, rows = ground truth, columns = prediction, over scored voxels only.

    The fast path of the engine: one pass over the inputs in cache-sized chunks, no int64 copy of
    the volume, no one-hot tensors. Labels outside ``[0, K)`` raise ``ValueError``.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    _check_shapes(pred, target, mask)
    _check_labels(pred, target, n_classes)
    return _matrix(pred, target, mask, n_classes)


def counts_from_matrix(cm: np.ndarray) -> np.ndarray:
    """``(K, 4)`` counts per class: TP, FP, FN, TN."""
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return np.stack([tp, fp, fn, tn], axis=1)


def _check_labels(pred: np.ndarray, target: np.ndarray, n_classes: int) -> None:
    """Class ids must be integers in ``[0, n_classes)``: anything else would be counted silently wrong."""
    for name, arr in (("prediction", pred), ("target", target)):
        arr = np.asarray(arr)
        if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} holds {arr.dtype} values; class ids must be integers")
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n_classes):
            raise ValueError(
                f"{name} has class ids in [{int(arr.min())}, {int(arr.max())}], outside [0, {n_classes - 1}]"
            )


def _flat_codes_counts(t: np.ndarray, p: np.ndarray, m: np.ndarray | None, n_classes: int) -> np.ndarray:
    """``(K*K,)`` joint counts of ``t * K + p`` over the voxels where ``m``; 1-D inputs, ids already checked.

    Each chunk gets the code ``t * K + p + 1`` (0 on masked voxels) in uint8 when it fits, then a
    few equality passes (K*K <= 16) or a bincount; every step is a plain ufunc on cached memory.
    """
    kk = n_classes * n_classes
    dtype = np.uint8 if kk < 255 else np.int64
    out = np.zeros(kk + 1, np.int64)
    code = np.empty(min(_CHUNK, t.size), dtype)
    hit = np.empty(code.size, bool)
    for start in range(0, t.size, _CHUNK):
        stop = min(start + _CHUNK, t.size)
        c, h = code[: stop - start], hit[: stop - start]
        np.multiply(t[start:stop], n_classes, out=c, casting="unsafe")
        np.add(c, p[start:stop], out=c, casting="unsafe")
        np.add(c, 1, out=c, casting="unsafe")
        if m is not None:
            np.multiply(c, m[start:stop].view(np.uint8), out=c, casting="unsafe")
        if kk <= 16:  # a few equality passes beat bincount's cast to intp
            for j in range(1, kk + 1):
                np.equal(c, j, out=h)
                out[j] += np.count_nonzero(h)
        else:
            out += np.bincount(c, minlength=kk + 1)
    return out[1:]


def confusion_counts(
    pred: np.ndarray,
    target: np.ndarray,
    n_classes: int,
    mask: np.ndarray | None = None,
    slice_axis: int | None = None,
) -> np.ndarray:
    """TP, FP, FN, TN per class over scored voxels: ``(K, 4)``, or ``(S, K, 4)`` per 2-D slice along ``slice_axis``."""
    if slice_axis is None:
        return counts_from_matrix(confusion_matrix(pred, target, n_classes, mask))
    pred, target = np.asarray(pred), np.asarray(target)
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    _check_shapes(pred, target, mask)
    _check_labels(pred, target, n_classes)
    p, t = np.moveaxis(pred, slice_axis, 0), np.moveaxis(target, slice_axis, 0)
    m = None if mask is None else np.moveaxis(mask, slice_axis, 0)
    out = np.zeros((t.shape[0], n_classes, 4), np.int64)
    for i in range(t.shape[0]):
        out[i] = counts_from_matrix(_matrix(p[i], t[i], None if m is None else m[i], n_classes))
    return out


def multilabel_counts(decisions: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(K, 4)`` TP, FP, FN, TN per class from per-class binary decisions ``(K, *spatial)`` (multi-label:
    a voxel may be decided for several classes or none) against the class ids ``target``, over scored voxels."""
    decisions, target = np.asarray(decisions, dtype=bool), np.asarray(target)
    if decisions.shape[1:] != target.shape:
        raise ValueError(f"decisions shape {decisions.shape} is not (K, *{target.shape})")
    mask = np.ones(target.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != target.shape:
        raise ValueError(f"mask shape {mask.shape} != target shape {target.shape}")
    d = decisions[:, mask]
    g = target[mask][None] == np.arange(decisions.shape[0])[:, None]
    tp = np.count_nonzero(d & g, axis=1)
    fp = np.count_nonzero(d, axis=1) - tp
    fn = np.count_nonzero(g, axis=1) - tp
    return np.stack([tp, fp, fn, d.shape[1] - tp - fp - fn], axis=1).astype(np.int64)


def _matrix(pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None, n_classes: int) -> np.ndarray:
    t = np.ascontiguousarray(target).reshape(-1)
    p = np.ascontiguousarray(pred).reshape(-1)
    m = None if mask is None else np.ascontiguousarray(mask).reshape(-1)
    return _flat_codes_counts(t, p, m, n_classes).reshape(n_classes, n_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def scores_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``CONFUSION_METRICS`` from ``(..., K, 4)`` TP/FP/FN/TN counts; NaN where undefined.

    One-vs-rest per class: precision TP/(TP+FP); recall (TPR) TP/(TP+FN); TNR TN/(TN+FP);
    Dice (F1) 2TP/(2TP+FP+FN); IoU (Jaccard) TP/(TP+FP+FN); balanced accuracy (TPR+TNR)/2;
    Youden J TPR+TNR-1; MCC (TP·TN-FP·FN)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)). Computed in float64
    so that pooled counts of billions of voxels neither overflow nor lose precision.
    """
    c = np.asarray(counts, dtype=np.float64)
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    recall = _ratio(tp, tp + fn)
    tnr = _ratio(tn, tn + fp)
    mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": recall,
        "tnr": tnr,
        "dice": _ratio(2 * tp, 2 * tp + fp + fn),
        "iou": _ratio(tp, tp + fp + fn),
        "balanced_accuracy": (recall + tnr) / 2,
        "youden_j": recall + tnr - 1,
        "mcc": _ratio(tp * tn - fp * fn, mcc_den),
    }
