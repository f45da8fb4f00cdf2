"""Whole evaluations: one prediction against its ground truth (``segrepro evaluate``), and the
metric block of a run record accumulated over the test volumes one at a time (``RunEvaluation``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segrepro.metrics.auc import HistogramAUC, roc_auc_per_class
from segrepro.metrics.confusion import confusion_counts, multilabel_counts
from segrepro.metrics.conventions import CANONICAL, Convention
from segrepro.metrics.distance import hd95_per_class
from segrepro.metrics.instances import DetectionCounts, InstanceCounts, component_detection, semantic_instance_counts
from segrepro.metrics.summary import clean_value, summary_block


def _by_slice(convention: Convention, target: np.ndarray) -> bool:
    """A slice convention splits 3-D volumes into 2-D slices; a 2-D image is already one."""
    return convention.slices and np.ndim(target) == 3


def unit_counts(
    pred: np.ndarray, target: np.ndarray, n_classes: int, mask: np.ndarray | None, convention: Convention
) -> np.ndarray:
    """``(S, K, 4)`` counts of the images the convention scores: the 2-D slices, or the volume itself (S = 1)."""
    if _by_slice(convention, target):
        return confusion_counts(pred, target, n_classes, mask, slice_axis=0)
    return confusion_counts(pred, target, n_classes, mask)[None]


def unit_auc(probs: np.ndarray, target: np.ndarray, mask: np.ndarray | None, convention: Convention) -> np.ndarray:
    """``(S, K)`` exact AUC per scored image (2-D slice or volume) and class."""
    if not _by_slice(convention, target):
        return roc_auc_per_class(probs, target, mask)[None]
    return np.stack(
        [
            roc_auc_per_class(probs[:, i], target[i], None if mask is None else mask[i])
            for i in range(np.shape(target)[0])
        ]
    )


def _instance_scores(counts: Sequence[InstanceCounts] | Sequence[DetectionCounts]) -> dict[str, np.ndarray]:
    per_class = [c.scores() for c in counts]
    return {m: np.array([s[m] for s in per_class]) for m in per_class[0]}


def evaluate_arrays(
    target: np.ndarray,
    pred: np.ndarray,
    n_classes: int,
    probs: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    convention: Convention = CANONICAL,
    include_background: bool | None = None,
    instances: bool = False,
    hd95: bool = False,
) -> dict:
    """``{"per_class": {"<id>": {metric: value}}, "mean": {metric: value}}`` for one prediction.

    Confusion scores and (with ``probs``, channel first) the exact AUC follow ``convention`` (a convention
    whose AUC is ``thresholded`` takes it from ``pred``; a multi-label convention counts ``pred`` as one
    decision per voxel, since a class map holds no other);
    with ``instances``, PQ/SQ/RQ/P05 of connected components matched at IoU > 0.5 (per 2-D slice
    under a slice convention, else in the array's own dimension) and the paper-003 detection
    fractions per 2-D slice along axis 0; with ``hd95``, MONAI's HD95 in voxels.
    """
    counts = unit_counts(pred, target, n_classes, mask, convention)
    scores = convention.scores(counts)
    if probs is not None and convention.auc == "roc":
        auc = unit_auc(probs, target, mask, convention)
        scores["auc"] = convention.average(auc, counts) if convention.per_image else convention.fill(auc[0])
    if instances:
        axis = 0 if _by_slice(convention, target) else None
        scores.update(_instance_scores(semantic_instance_counts(pred, target, n_classes, mask, axis)))
        scores.update(_instance_scores(component_detection(pred, target, n_classes, mask, slice_axis=0)))
    if hd95:
        scores["hd95"] = hd95_per_class(pred, target, n_classes, mask)
    return summary_block(scores, [str(k) for k in range(n_classes)], convention, include_background)


class RunEvaluation:
    """What a run record needs from the test volumes, accumulated one volume at a time.

    Keeps per-image counts (canonical, re-derivable), per-image counts in the paper's convention
    (per 2-D slice where it says so; from the per-class ``decisions`` where it is multi-label), a
    streaming histogram AUC pooled over the test set, and, for per-image conventions with a ROC AUC,
    the exact AUC of each image.
    """

    def __init__(self, n_classes: int, convention: Convention) -> None:
        self.n_classes = n_classes
        self.convention = convention
        self.counts: dict[str, np.ndarray] = {}
        self._units: list[np.ndarray] = []
        self._unit_auc: list[np.ndarray] = []
        self._hist = HistogramAUC(n_classes)

    def add(
        self,
        volume_id: str,
        probs: np.ndarray,
        pred: np.ndarray,
        target: np.ndarray,
        mask: np.ndarray | None,
        decisions: np.ndarray | None = None,
    ) -> np.ndarray:
        """Score one test volume; returns its canonical ``(K, 4)`` counts. ``decisions`` ``(K, *spatial)``
        are the entry's per-class decisions (``BaselineEntry.decide_each``), used by multi-label conventions."""
        counts = confusion_counts(pred, target, self.n_classes, mask)
        self.counts[volume_id] = counts
        conv = self.convention
        if conv.multi_label and decisions is not None:
            if conv.slices:
                raise ValueError(f"convention {conv.name} is multi-label and per slice: not supported")
            self._units.append(multilabel_counts(decisions, target, mask)[None])
        else:
            self._units.append(unit_counts(pred, target, self.n_classes, mask, conv) if conv.slices else counts[None])
        self._hist.update(probs, target, mask)
        if conv.per_image and conv.auc == "roc":
            self._unit_auc.append(unit_auc(probs, target, mask, conv))
        return counts

    def record_metrics(self, class_names: Sequence[str]) -> dict:
        """The run record's ``metrics`` block: canonical and paper-convention summaries, with AUC."""
        conv = self.convention
        auc, bound = self._hist.compute()
        canonical = CANONICAL.scores(np.stack(list(self.counts.values())))
        units = np.concatenate(self._units)
        paper = conv.scores(units)
        if conv.auc == "roc":
            paper["auc"] = conv.average(np.concatenate(self._unit_auc), units) if conv.per_image else conv.fill(auc)
        return {
            "canonical": summary_block({**canonical, "auc": auc}, class_names),
            "counts_per_image": {vid: c.tolist() for vid, c in self.counts.items()},
            "paper_convention": conv.name,
            "paper": summary_block(paper, class_names, conv),
            "auc_error_bound": {name: clean_value(b) for name, b in zip(class_names, bound, strict=True)},
        }
