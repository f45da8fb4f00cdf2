"""Confusion counts and every per-class score against scikit-learn on many random masked cases."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, jaccard_score, matthews_corrcoef, precision_recall_fscore_support
from sklearn.metrics import confusion_matrix as sk_confusion

from segrepro.metrics import (
    CONFUSION_METRICS,
    confusion_counts,
    confusion_matrix,
    counts_from_matrix,
    scores_from_counts,
)


def random_case(seed, shape=None, k=None):
    rng = np.random.default_rng(seed)
    k = k or int(rng.integers(2, 19))  # up to 18 classes: covers the uint8 equality, uint8 bincount and int64 paths
    shape = shape or tuple(int(s) for s in rng.integers(2, 16, int(rng.integers(1, 4))))
    used = int(rng.integers(1, k + 1))  # classes >= used are absent: empty classes
    target = rng.integers(0, used, shape).astype(rng.choice([np.uint8, np.int16, np.int64]))
    pred = np.where(rng.random(shape) < 0.6, target, rng.integers(0, used, shape)).astype(target.dtype)
    mask = rng.random(shape) < rng.choice([0.0, 0.3, 1.0, rng.uniform()])  # all-masked cases included
    return rng, k, target, pred, None if seed % 5 == 0 else mask


def sklearn_scores(t, p, k):
    """One-vs-rest scores from scikit-learn on the scored voxels, NaN where the denominator is zero."""
    out = {m: np.full(k, np.nan) for m in CONFUSION_METRICS}
    if t.size == 0:
        return out
    prec, rec, f1, _ = precision_recall_fscore_support(t, p, labels=range(k), zero_division=np.nan)
    out["precision"], out["recall"], out["dice"] = prec, rec, f1
    iou = jaccard_score(t, p, labels=list(range(k)), average=None, zero_division=0)
    out["iou"] = np.where(np.isin(np.arange(k), np.concatenate([t, p])), iou, np.nan)
    for c in range(k):
        yt, yp = t == c, p == c
        if (~yt).any():
            out["tnr"][c] = precision_recall_fscore_support(~yt, ~yp, average="binary", zero_division=np.nan)[1]
        if yt.any() and (~yt).any():
            out["balanced_accuracy"][c] = balanced_accuracy_score(yt, yp)
            out["youden_j"][c] = balanced_accuracy_score(yt, yp, adjusted=True)
        tp, fp, fn, tn = (yt & yp).sum(), (~yt & yp).sum(), (yt & ~yp).sum(), (~yt & ~yp).sum()
        if min(tp + fp, tp + fn, tn + fp, tn + fn) > 0:  # sklearn returns 0 where MCC is undefined; we say NaN
            out["mcc"][c] = matthews_corrcoef(yt, yp)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_every_score_matches_sklearn_on_scored_voxels(seed):
    _, k, target, pred, mask = random_case(seed)
    keep = np.ones(target.shape, bool) if mask is None else mask
    t, p = target[keep].astype(int), pred[keep].astype(int)
    cm = confusion_matrix(pred, target, k, mask)
    np.testing.assert_array_equal(cm, sk_confusion(t, p, labels=range(k)) if t.size else np.zeros((k, k)))
    counts = confusion_counts(pred, target, k, mask)
    np.testing.assert_array_equal(counts, counts_from_matrix(cm))
    assert counts.sum(axis=1).tolist() == [t.size] * k
    ours, ref = scores_from_counts(counts), sklearn_scores(t, p, k)
    assert set(ours) == set(CONFUSION_METRICS)
    for metric in CONFUSION_METRICS:
        np.testing.assert_allclose(ours[metric], ref[metric], atol=1e-12, equal_nan=True, err_msg=metric)


@pytest.mark.parametrize("seed", range(10))
def test_per_slice_counts_are_each_slice_counted_alone(seed):
    _, k, target, pred, mask = random_case(seed, shape=(5, 9, 7))
    axis = seed % 3
    per_slice = confusion_counts(pred, target, k, mask, slice_axis=axis)
    assert per_slice.shape == (target.shape[axis], k, 4)
    for i in range(target.shape[axis]):
        p, t, m = (None if a is None else np.take(a, i, axis=axis) for a in (pred, target, mask))
        np.testing.assert_array_equal(per_slice[i], confusion_counts(p, t, k, m))
    np.testing.assert_array_equal(per_slice[..., :3].sum(0), confusion_counts(pred, target, k, mask)[:, :3])


def test_chunked_counting_on_a_volume_larger_than_one_chunk():
    _, k, target, pred, mask = random_case(3, shape=(70, 64, 33), k=3)
    mask = np.random.default_rng(0).random(target.shape) < 0.7
    t, p = target[mask].astype(int), pred[mask].astype(int)
    np.testing.assert_array_equal(confusion_matrix(pred, target, k, mask), sk_confusion(t, p, labels=range(k)))


def test_absent_class_is_nan_and_all_masked_is_empty():
    target = np.zeros((4, 4), int)
    scores = scores_from_counts(confusion_counts(target, target, 3))
    assert scores["dice"][0] == 1.0 and np.isnan(scores["dice"][2]) and np.isnan(scores["mcc"][0])
    assert confusion_matrix(target, target, 3, np.zeros((4, 4), bool)).sum() == 0


@pytest.mark.parametrize(
    ("pred", "message"),
    [(np.full((3, 3), 3), r"outside \[0, 2\]"), (np.full((3, 3), -1), "outside"), (np.zeros((3, 3)), "integers")],
)
def test_labels_that_do_not_fit_are_refused(pred, message):
    with pytest.raises(ValueError, match=message):
        confusion_counts(pred, np.zeros((3, 3), int), 3)
    with pytest.raises(ValueError, match="shape"):
        confusion_counts(np.zeros((3, 4), int), np.zeros((3, 3), int), 3)


def test_scores_are_vectorised_over_leading_axes_and_do_not_overflow():
    counts = np.random.default_rng(1).integers(0, 10**10, (6, 5, 4))  # pooled counts of 1e10 voxels
    batched = scores_from_counts(counts)
    for i in range(6):
        single = scores_from_counts(counts[i])
        for metric in CONFUSION_METRICS:
            np.testing.assert_array_equal(batched[metric][i], single[metric])
    tp, fp, fn, tn = (counts[..., j].astype(object) for j in range(4))
    exact = [
        float(x)
        for x in ((tp * tn - fp * fn) / np.sqrt(((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).astype(float))).ravel()
    ]
    np.testing.assert_allclose(batched["mcc"].ravel(), exact, rtol=1e-9)
