"""ROC AUC per class from probabilities: exact (sort-based) and streaming (histograms), both masked.

The AUC is the probability that a random positive voxel scores above a random negative one, ties
counting one half (the Mann-Whitney statistic; scikit-learn's trapezoidal ``roc_auc_score`` is the
same number). ``roc_auc`` computes it exactly by sorting. ``HistogramAUC`` accumulates, per class,
histograms of the scores of positive and negative voxels over any number of chunks or volumes, so
a whole test set never has to be held or sorted at once.

Error bound of the histogram AUC (checked by the tests): the bins are monotone in the score, so
every positive/negative pair in *different* bins is ordered exactly as by the scores; only pairs in
the *same* bin are unresolved, and the estimate counts each as 1/2 where the truth is 0, 1/2 or 1.
Hence ``|AUC_hist - AUC_exact| <= 0.5 * sum_b pos_b * neg_b / (P * N)``, which ``compute`` returns
with the estimate, computed from the histograms themselves (no assumption on the scores).
The bins follow the float32 bits of the score (see ``HistogramAUC``), so they are finest near 0,
where the scores of a rare class crowd.
"""

from __future__ import annotations

import numpy as np

_CHUNK = 1 << 22


def _scored(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    values = np.asarray(values)
    if mask is None:
        return values.reshape(-1)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != values.shape:
        raise ValueError(f"mask shape {mask.shape} != shape {values.shape}")
    return values[mask]


def roc_auc(scores: np.ndarray, labels: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Exact ROC AUC of ``scores`` for the binary ``labels`` over voxels where ``mask``; NaN without both kinds.

    Sort positives and negatives separately; each positive counts the negatives strictly below it
    plus half of those equal to it (two binary searches), so ties count exactly as in scikit-learn.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.shape != labels.shape:
        raise ValueError(f"scores shape {scores.shape} != labels shape {labels.shape}")
    s, y = _scored(scores, mask), _scored(labels, mask).astype(bool)
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    pos, neg = np.sort(s[y]), np.sort(s[~y])
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    below = np.searchsorted(neg, pos, side="left").sum(dtype=np.int64)
    not_above = np.searchsorted(neg, pos, side="right").sum(dtype=np.int64)
    return float((int(below) + int(not_above)) / (2.0 * pos.size * neg.size))


def roc_auc_per_class(probs: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(K,)`` exact one-vs-rest AUC from channel-first ``probs (K, *spatial)`` and class ids ``target``."""
    probs = np.asarray(probs)
    _check_probs_shape(probs, target)
    return np.array([roc_auc(probs[k], np.asarray(target) == k, mask) for k in range(probs.shape[0])])


def _check_probs_shape(probs: np.ndarray, target: np.ndarray) -> None:
    if probs.shape[1:] != np.shape(target):
        raise ValueError(f"probabilities shape {probs.shape} is not (K, *{np.shape(target)})")


def histogram_auc(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC and its error bound from ``(..., B)`` histograms of positives and negatives over monotone bins."""
    pos, neg = np.asarray(pos, dtype=np.float64), np.asarray(neg, dtype=np.float64)
    n_pos, n_neg = pos.sum(axis=-1), neg.sum(axis=-1)
    neg_below = np.cumsum(neg, axis=-1) - neg
    wins = (pos * (neg_below + 0.5 * neg)).sum(axis=-1)
    ties = (pos * neg).sum(axis=-1)
    pairs = n_pos * n_neg
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where(pairs > 0, wins / pairs, np.nan)
        bound = np.where(pairs > 0, 0.5 * ties / pairs, np.nan)
    return auc, bound


class HistogramAUC:
    """Streaming per-class ROC AUC: ``update`` with each volume (or chunk), ``compute`` at the end.

    Bins are the top ``1 + 8 + mantissa_bits`` bits of each float32 score: monotone in the score,
    relative resolution 2**-mantissa_bits near 0 (where a rare class's scores crowd) and absolute
    2**-(mantissa_bits + 1) near 1. Memory is ``2 * K * n_bins`` int64 counts (about 8.3 MB per class
    at the default 12 bits), independent of the number of voxels. Scores must lie in ``[0, 1]``.
    """

    def __init__(self, n_classes: int, mantissa_bits: int = 12) -> None:
        if not 1 <= mantissa_bits <= 16:
            raise ValueError("mantissa_bits must be in [1, 16]")
        self.n_classes = n_classes
        self._shift = 23 - mantissa_bits
        self.n_bins = (0x3F800000 >> self._shift) + 1  # the bin of 1.0 is the last
        self.pos = np.zeros((n_classes, self.n_bins), np.int64)
        self.neg = np.zeros((n_classes, self.n_bins), np.int64)

    def update(self, probs: np.ndarray, target: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Add one volume: channel-first ``probs (K, *spatial)``, class ids ``target``, optional validity ``mask``."""
        probs = np.asarray(probs)
        target = np.asarray(target)
        if probs.shape[0] != self.n_classes:
            raise ValueError(f"probabilities have {probs.shape[0]} channels, expected {self.n_classes}")
        _check_probs_shape(probs, target)
        t = _scored(target, mask)
        for k in range(self.n_classes):
            self.update_binary(k, _scored(probs[k], mask), t == k)

    def update_binary(self, k: int, scores: np.ndarray, positive: np.ndarray) -> None:
        """Add flat ``scores`` of class ``k`` with their boolean ``positive`` labels (already masked)."""
        scores = np.ascontiguousarray(scores, dtype=np.float32).reshape(-1)
        positive = np.ascontiguousarray(positive, dtype=bool).reshape(-1)
        key = np.empty(min(_CHUNK, scores.size), np.int32)
        for start in range(0, scores.size, _CHUNK):
            s = scores[start : start + _CHUNK]
            lo, hi = float(s.min()), float(s.max())
            if not (lo >= 0.0 and hi <= 1.0):  # also rejects NaN
                raise ValueError(f"scores must be probabilities in [0, 1]; found values in [{lo}, {hi}]")
            b = key[: s.size]
            np.bitwise_and(s.view(np.int32), 0x7FFFFFFF, out=b)  # -0.0 bins with 0.0
            np.right_shift(b, self._shift, out=b)
            b += np.multiply(positive[start : start + _CHUNK], self.n_bins, dtype=np.int32)
            both = np.bincount(b, minlength=2 * self.n_bins)
            self.neg[k] += both[: self.n_bins]
            self.pos[k] += both[self.n_bins :]

    def merge(self, other: HistogramAUC) -> None:
        """Add another accumulator's counts (e.g. from a parallel worker)."""
        if other.pos.shape != self.pos.shape:
            raise ValueError("cannot merge histograms of different shapes")
        self.pos += other.pos
        self.neg += other.neg

    def compute(self) -> tuple[np.ndarray, np.ndarray]:
        """``(K,)`` AUC estimates and ``(K,)`` error bounds; NaN for a class without positives or negatives."""
        return histogram_auc(self.pos, self.neg)
