"""Whole evaluations: predictions against their ground truth, one pair or pooled over several
(``segrepro evaluate``), and the metric block of a run record accumulated over the test volumes one at a
time (``RunEvaluation``)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segrepro.errors import UserError
from segrepro.metrics.auc import HistogramAUC, roc_auc_per_class
from segrepro.metrics.confusion import confusion_counts
from segrepro.metrics.conventions import CANONICAL, Convention
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


MAX_CLASSES = 4096
"""``evaluate`` refuses more classes: the joint class histogram alone needs 16 x K^2 bytes (256 MiB here)."""


def check_n_classes(n_classes: int) -> None:
    """Refuse a class count before any allocation, with the memory it would need."""
    if n_classes < 2:
        raise UserError(f"--n-classes must be at least 2, not {n_classes}")
    if n_classes > MAX_CLASSES:
        need = 16 * n_classes**2 / 2**30
        raise UserError(
            f"--n-classes {n_classes} is above the limit of {MAX_CLASSES} "
            f"(the confusion counts alone would need {need:.1f} GiB)"
        )


@dataclass
class ImageParts:
    """What one (target, prediction) pair contributes to a score: per-unit counts (2-D slices or the
    whole image), the exact AUC per unit (per-image conventions) or the scored voxels' scores (pooled
    AUC), instance and detection counts, and HD95."""

    units: np.ndarray
    unit_auc: np.ndarray | None = None
    scored_probs: np.ndarray | None = None
    scored_target: np.ndarray | None = None
    instances: list[InstanceCounts] | None = None
    detection: list[DetectionCounts] | None = None
    hd95: np.ndarray | None = None


def image_parts(
    target: np.ndarray,
    pred: np.ndarray,
    n_classes: int,
    probs: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    convention: Convention = CANONICAL,
    instances: bool = False,
    hd95: bool = False,
) -> ImageParts:
    """Score one pair as far as it can be alone; ``summarize`` turns one or several into scores."""
    if (instances or hd95) and np.ndim(target) == 0:
        raise UserError("--instances and --hd95 need arrays of at least one dimension, not single values")
    parts = ImageParts(unit_counts(pred, target, n_classes, mask, convention))
    if probs is not None and convention.per_image:
        parts.unit_auc = unit_auc(probs, target, mask, convention)
    elif probs is not None:
        scored = np.ones(np.shape(target), bool) if mask is None else np.asarray(mask, bool)
        parts.scored_probs, parts.scored_target = probs[:, scored], np.asarray(target)[scored]
    if instances:
        axis = 0 if _by_slice(convention, target) else None
        parts.instances = semantic_instance_counts(pred, target, n_classes, mask, axis)
        parts.detection = component_detection(pred, target, n_classes, mask, slice_axis=0)
    if hd95:
        from segrepro.metrics.distance import hd95_per_class  # MONAI (and torch): seconds to import, so only here

        parts.hd95 = hd95_per_class(pred, target, n_classes, mask)
    return parts


def _instance_scores(counts: Sequence[InstanceCounts] | Sequence[DetectionCounts]) -> dict[str, np.ndarray]:
    per_class = [c.scores() for c in counts]
    return {m: np.array([s[m] for s in per_class]) for m in per_class[0]}


def _summed(per_image: Sequence[Sequence], zero: InstanceCounts | DetectionCounts) -> list:
    """Per class, the counts of every image added up."""
    return [sum(per_class, zero) for per_class in zip(*per_image, strict=True)]


def summarize(
    images: Sequence[ImageParts],
    n_classes: int,
    convention: Convention = CANONICAL,
    include_background: bool | None = None,
) -> dict:
    """``{"per_class": {"<id>": {metric: value}}, "mean": {metric: value}}`` over one or several images.

    Confusion scores and the exact AUC follow ``convention`` (pooled counts and voxels, or per
    image then averaged); instance and detection counts are summed over the images; HD95 is the
    mean over the images where it is defined."""
    units = np.concatenate([i.units for i in images])
    scores = convention.scores(units)
    if images[0].unit_auc is not None:
        kept = convention.kept(units)
        auc = np.concatenate([i.unit_auc for i in images])
        scores["auc"] = convention.average(auc[kept]) if kept.any() else np.full(n_classes, np.nan)
    elif images[0].scored_probs is not None:
        probs = np.concatenate([i.scored_probs for i in images], axis=1)
        scores["auc"] = convention.fill(roc_auc_per_class(probs, np.concatenate([i.scored_target for i in images])))
    if images[0].instances is not None:
        scores.update(_instance_scores(_summed([i.instances for i in images], InstanceCounts())))
        scores.update(_instance_scores(_summed([i.detection for i in images], DetectionCounts())))
    if images[0].hd95 is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a class without a distance in any image: NaN
            scores["hd95"] = np.nanmean(np.stack([i.hd95 for i in images]), axis=0)
    return summary_block(scores, [str(k) for k in range(n_classes)], convention, include_background)


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

    Confusion scores and (with ``probs``, channel first) the exact AUC follow ``convention``;
    with ``instances``, PQ/SQ/RQ/P05 of connected components matched at IoU > 0.5 (per 2-D slice
    under a slice convention, else in the array's own dimension) and the paper-003 detection
    fractions per 2-D slice along axis 0; with ``hd95``, MONAI's HD95 in voxels.
    """
    parts = image_parts(target, pred, n_classes, probs, mask, convention, instances, hd95)
    return summarize([parts], n_classes, convention, include_background)


class RunEvaluation:
    """What a run record needs from the test volumes, accumulated one volume at a time.

    Keeps per-image counts (canonical, re-derivable), per-image counts in the paper's convention
    (per 2-D slice where it says so), a streaming histogram AUC pooled over the test set, and, for
    per-image conventions, the exact AUC of each image.
    """

    def __init__(self, n_classes: int, convention: Convention) -> None:
        self.n_classes = n_classes
        self.convention = convention
        self.counts: dict[str, np.ndarray] = {}
        self._units: list[np.ndarray] = []
        self._unit_auc: list[np.ndarray] = []
        self._hist = HistogramAUC(n_classes)

    def add(
        self, volume_id: str, probs: np.ndarray, pred: np.ndarray, target: np.ndarray, mask: np.ndarray | None
    ) -> np.ndarray:
        """Score one test volume; returns its canonical ``(K, 4)`` counts."""
        counts = confusion_counts(pred, target, self.n_classes, mask)
        self.counts[volume_id] = counts
        conv = self.convention
        self._units.append(unit_counts(pred, target, self.n_classes, mask, conv) if conv.slices else counts[None])
        self._hist.update(probs, target, mask)
        if conv.per_image:
            self._unit_auc.append(unit_auc(probs, target, mask, conv))
        return counts

    def record_metrics(self, class_names: Sequence[str]) -> dict:
        """The run record's ``metrics`` block: canonical and paper-convention summaries, with AUC."""
        conv = self.convention
        auc, bound = self._hist.compute()
        canonical = CANONICAL.scores(np.stack(list(self.counts.values())))
        units = np.concatenate(self._units)
        paper = conv.scores(units)
        if conv.per_image:
            kept = conv.kept(units)
            per_unit = np.concatenate(self._unit_auc)[kept]
            paper["auc"] = conv.average(per_unit) if kept.any() else np.full(self.n_classes, np.nan)
        else:
            paper["auc"] = conv.fill(auc)
        return {
            "canonical": summary_block({**canonical, "auc": auc}, class_names),
            "counts_per_image": {vid: c.tolist() for vid, c in self.counts.items()},
            "paper_convention": conv.name,
            "paper": summary_block(paper, class_names, conv),
            "auc_error_bound": {name: clean_value(b) for name, b in zip(class_names, bound, strict=True)},
        }
