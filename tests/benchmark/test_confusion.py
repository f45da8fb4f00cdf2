"""Confusion-derived scores against scikit-learn on many random masked cases."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import jaccard_score, precision_recall_fscore_support

from segrepro.metrics import confusion_matrix, counts_from_matrix, scores_from_counts


@pytest.mark.parametrize("seed", range(20))
def test_scores_match_sklearn_on_scored_voxels(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    shape = (int(rng.integers(3, 20)), int(rng.integers(3, 20)))
    target = rng.integers(0, k, shape)
    pred = np.where(rng.random(shape) < 0.6, target, rng.integers(0, k, shape))
    mask = rng.random(shape) < rng.uniform(0.2, 1.0)
    t, p = target[mask], pred[mask]
    cm = confusion_matrix(pred, target, k, mask)
    np.testing.assert_array_equal(cm, sk_confusion(t, p, labels=range(k)))
    scores = scores_from_counts(counts_from_matrix(cm))
    prec, rec, f1, _ = precision_recall_fscore_support(t, p, labels=range(k), zero_division=np.nan)
    iou = jaccard_score(t, p, labels=list(range(k)), average=None, zero_division=0)
    present = np.isin(np.arange(k), np.concatenate([t, p]))
    iou = np.where(present, iou, np.nan)  # our convention: undefined, not 0
    np.testing.assert_allclose(scores["precision"], prec, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(scores["recall"], rec, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(scores["dice"], f1, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(scores["iou"], iou, atol=1e-12, equal_nan=True)


def test_class_absent_everywhere_is_nan_and_all_masked_is_empty():
    target = np.zeros((4, 4), int)
    scores = scores_from_counts(counts_from_matrix(confusion_matrix(target, target, 3)))
    assert scores["dice"][0] == 1.0
    assert np.isnan(scores["dice"][2])
    cm = confusion_matrix(target, target, 3, np.zeros((4, 4), bool))
    assert cm.sum() == 0
