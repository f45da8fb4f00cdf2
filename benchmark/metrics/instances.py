"""Instance metrics: panoptic quality with IoU > 0.5 matching (paper 002) and connected-component
detection per 2-D slice (paper 003), both masked.

Masked voxels are removed from both the ground truth and the prediction before instances are
formed, so an object is judged only on its scored part. Counts (TP, FP, FN, summed IoU; detected,
under-detected, missed) are additive over images, so pooled scores are sums of per-image counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

MATCH_IOU = 0.5
INSTANCE_METRICS = ("p05", "rq", "sq", "pq")
INSTANCE_CLASS = "cell"
"""The class under which the score tables (``segrepro.results``, ``segrepro.claims``) file a record's pooled
instance metrics: paper 002's instances are cells (cell profiles in drosophila-vnc-cells), and its published
tables and claims name them ``cell``. No semantic score block holds these metric names, so they never clash."""
DETECTED_RECALL = 0.80
MISSED_RECALL = 0.10


@dataclass(frozen=True)
class InstanceCounts:
    """Matching of ground-truth to predicted instances at IoU > 0.5: TP, FP, FN and the TP IoUs summed."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    iou_sum: float = 0.0

    def __add__(self, other: InstanceCounts) -> InstanceCounts:
        return InstanceCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.iou_sum + other.iou_sum)

    def scores(self) -> dict[str, float]:
        """PQ = SQ x RQ (Kirillov et al. 2019); SQ mean IoU of matches; RQ = F1 of detection; P05 = TP/(TP+FP).

        ``p05`` is read as the plain precision of the IoU > 0.5 matching [reconstruction: paper 002
        names it "precision (P05)" without a formula]. NaN where a denominator is zero.
        """
        tp, fp, fn = self.tp, self.fp, self.fn
        den = tp + 0.5 * fp + 0.5 * fn
        nan = float("nan")
        return {
            "pq": self.iou_sum / den if den > 0 else nan,
            "sq": self.iou_sum / tp if tp > 0 else nan,
            "rq": tp / den if den > 0 else nan,
            "p05": tp / (tp + fp) if tp + fp > 0 else nan,
        }


class InstanceEvaluation:
    """P05, RQ, SQ, PQ between predicted instances and the dataset's instance labels (not components of a
    class map, which merge touching cells), per image and pooled over the images (sums of counts)."""

    def __init__(self) -> None:
        self.counts: dict[str, InstanceCounts] = {}

    def add(self, volume_id: str, truth: np.ndarray, pred: np.ndarray, mask: np.ndarray | None) -> InstanceCounts:
        self.counts[volume_id] = match_instances(truth, pred, mask)
        return self.counts[volume_id]

    @staticmethod
    def _block(c: InstanceCounts) -> dict[str, float | int | None]:
        scores = {k: (None if np.isnan(v) else float(v)) for k, v in c.scores().items()}
        return {**scores, "tp": c.tp, "fp": c.fp, "fn": c.fn}

    def record(self) -> dict:
        """The run record's ``metrics.instances`` block (NaN written as null)."""
        pooled = sum(self.counts.values(), InstanceCounts())
        return {
            "matching": f"IoU > {MATCH_IOU} against the dataset's instance labels, masked voxels removed",
            "pooled": self._block(pooled),
            "per_image": {vid: self._block(c) for vid, c in self.counts.items()},
        }


def pooled_instance_scores(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """P05, RQ, SQ, PQ pooled over the test images, from a run record's ``metrics`` (empty when the record has
    no instance block: its entry makes no instances or its dataset has no instance labels)."""
    pooled = (metrics.get("instances") or {}).get("pooled") or {}
    return {m: pooled[m] for m in INSTANCE_METRICS if m in pooled}


def _masked(labels: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    labels = np.asarray(labels)
    if mask is None:
        return labels
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != labels.shape:
        raise ValueError(f"mask shape {mask.shape} != labels shape {labels.shape}")
    return np.where(mask, labels, 0)


def match_instances(gt: np.ndarray, pred: np.ndarray, mask: np.ndarray | None = None) -> InstanceCounts:
    """Match instance label maps (0 = background, any other id = one instance) at IoU > 0.5.

    A match above 0.5 is unique on both sides, so no assignment problem arises: every (gt, pred)
    pair with IoU > 0.5 is a true positive.
    """
    gt, pred = np.asarray(gt), np.asarray(pred)
    if gt.shape != pred.shape:
        raise ValueError(f"ground-truth shape {gt.shape} != prediction shape {pred.shape}")
    g = _masked(gt, mask).reshape(-1)
    p = _masked(pred, mask).reshape(-1)
    g_ids, g_inv = np.unique(g, return_inverse=True)
    p_ids, p_inv = np.unique(p, return_inverse=True)
    g_area = np.bincount(g_inv)
    p_area = np.bincount(p_inv)
    g_bg = g_ids[0] == 0 if g_ids.size else False
    p_bg = p_ids[0] == 0 if p_ids.size else False
    n_gt = g_ids.size - int(g_bg)
    n_pred = p_ids.size - int(p_bg)
    both = (g != 0) & (p != 0)
    pairs, inter = np.unique(g_inv[both].astype(np.int64) * p_ids.size + p_inv[both], return_counts=True)
    gi, pi = np.divmod(pairs, p_ids.size)
    iou = inter / (g_area[gi] + p_area[pi] - inter)
    hit = iou > MATCH_IOU
    tp = int(hit.sum())
    return InstanceCounts(tp=tp, fp=n_pred - tp, fn=n_gt - tp, iou_sum=float(iou[hit].sum()))


def _structure(ndim: int, slice_axis: int | None) -> np.ndarray:
    """Full connectivity (8 in 2-D, 26 in 3-D); with ``slice_axis``, connections only within each 2-D slice."""
    s = np.ones((3,) * ndim, bool)
    if slice_axis is not None:
        s = np.zeros((3,) * ndim, bool)
        index = [slice(None)] * ndim
        index[slice_axis] = 1
        s[tuple(index)] = True
    return s


def components(binary: np.ndarray, slice_axis: int | None = None) -> tuple[np.ndarray, int]:
    """Connected components with full connectivity (8 in 2-D, 26 in 3-D), or per 2-D slice along ``slice_axis``."""
    from scipy import ndimage  # here, not at the top: `segrepro evaluate` without --instances stays fast

    binary = np.asarray(binary, dtype=bool)
    return ndimage.label(binary, structure=_structure(binary.ndim, slice_axis))


def drop_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    """``labels`` with every label of fewer than ``min_size`` voxels set to 0 (ids kept)."""
    labels = np.asarray(labels)
    sizes = np.bincount(labels.reshape(-1))
    small = sizes < min_size
    small[0] = False
    return np.where(small[labels], 0, labels)


def semantic_instance_counts(
    pred: np.ndarray,
    target: np.ndarray,
    n_classes: int,
    mask: np.ndarray | None = None,
    slice_axis: int | None = None,
) -> list[InstanceCounts]:
    """Per class, the connected components of ``target == k`` matched to those of ``pred == k`` (scored voxels only)."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} != target shape {target.shape}")
    scored = _scored_mask(target.shape, mask)
    out = []
    for k in range(n_classes):
        g, _ = components((target == k) & scored, slice_axis)
        p, _ = components((pred == k) & scored, slice_axis)
        out.append(match_instances(g, p))
    return out


def _scored_mask(shape: tuple[int, ...], mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        return np.ones(shape, bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != shape:
        raise ValueError(f"mask shape {mask.shape} != labels shape {shape}")
    return mask


@dataclass(frozen=True)
class DetectionCounts:
    """Ground-truth components by the fraction of their voxels the prediction recovers (paper 003)."""

    detected: int = 0
    under_detected: int = 0
    missed: int = 0

    def __add__(self, other: DetectionCounts) -> DetectionCounts:
        return DetectionCounts(
            self.detected + other.detected,
            self.under_detected + other.under_detected,
            self.missed + other.missed,
        )

    def scores(self) -> dict[str, float]:
        """Fractions of the ground-truth components (paper 003's table 2 prints them in percent)."""
        n = self.detected + self.under_detected + self.missed
        if n == 0:
            return {"detected": float("nan"), "under_detected": float("nan"), "missed": float("nan")}
        return {"detected": self.detected / n, "under_detected": self.under_detected / n, "missed": self.missed / n}


def component_detection(
    pred: np.ndarray,
    target: np.ndarray,
    n_classes: int,
    mask: np.ndarray | None = None,
    slice_axis: int | None = 0,
) -> list[DetectionCounts]:
    """Per class, each ground-truth component (8-connected per 2-D slice along ``slice_axis``; a 2-D
    input is one slice) is detected if recall > 0.80, missed if recall < 0.10, under-detected otherwise.

    Recall of a component = its scored voxels predicted as its class / its scored voxels.
    ``slice_axis=None`` on a 3-D input uses 26-connected 3-D components instead.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} != target shape {target.shape}")
    if target.ndim == 2:
        slice_axis = None
    scored = _scored_mask(target.shape, mask)
    out = []
    for k in range(n_classes):
        lab, n = components((target == k) & scored, slice_axis)
        if n == 0:
            out.append(DetectionCounts())
            continue
        size = np.bincount(lab.reshape(-1), minlength=n + 1)[1:]
        hit = np.bincount(lab.reshape(-1), weights=(pred == k).reshape(-1), minlength=n + 1)[1:]
        recall = hit / size
        detected = int((recall > DETECTED_RECALL).sum())
        missed = int((recall < MISSED_RECALL).sum())
        out.append(DetectionCounts(detected, n - detected - missed, missed))
    return out
