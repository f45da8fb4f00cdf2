"""Exact AUC against scikit-learn to 1e-6, and the histogram AUC within its documented bound."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from segrepro.metrics import HistogramAUC, roc_auc, roc_auc_per_class
from segrepro.metrics.auc import histogram_auc


def random_scores(seed, n=None):
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(2, 3000))
    y = rng.random(n) < rng.uniform(0.01, 0.9)
    s = np.clip(rng.normal(0.3 + 0.3 * y * rng.uniform(), 0.2), 0, 1)
    if seed % 3 == 0:
        s = np.round(s * 20) / 20  # many ties
    if seed % 4 == 1:
        s = s**8  # crowded near 0, like a rare class
    mask = None if seed % 2 else rng.random(n) < 0.8
    return rng, s.astype(np.float32), y, mask


@pytest.mark.parametrize("seed", range(40))
def test_exact_auc_matches_sklearn(seed):
    _, s, y, mask = random_scores(seed)
    keep = np.ones(s.shape, bool) if mask is None else mask
    ours = roc_auc(s, y, mask)
    if len(np.unique(y[keep])) < 2:
        assert np.isnan(ours)
    else:
        assert abs(ours - roc_auc_score(y[keep], s[keep])) < 1e-6


@pytest.mark.parametrize("seed", range(40))
def test_histogram_auc_is_within_its_bound_of_the_exact_value(seed):
    _, s, y, mask = random_scores(seed)
    keep = np.ones(s.shape, bool) if mask is None else mask
    h = HistogramAUC(2, mantissa_bits=int(seed % 12) + 1)  # coarse bins too, so the bound is exercised
    h.update_binary(1, s[keep], y[keep])
    auc, bound = h.compute()
    exact = roc_auc(s, y, mask)
    if np.isnan(exact):
        assert np.isnan(auc[1])
    else:
        assert abs(auc[1] - exact) <= bound[1] + 1e-12
        assert bound[1] <= 0.5


def test_bound_is_tight_and_zero_when_bins_separate():
    # all pairs in one bin, all positives above: error exactly equals the bound
    auc, bound = histogram_auc(np.array([0, 5, 0]), np.array([0, 3, 0]))
    assert auc == 0.5 and bound == 0.5
    auc, bound = histogram_auc(np.array([0, 0, 5]), np.array([3, 0, 0]))
    assert auc == 1.0 and bound == 0.0


def test_streaming_over_volumes_equals_one_pass_and_merge_adds():
    rng = np.random.default_rng(0)
    k, shape = 3, (4, 20, 20)
    target = rng.integers(0, k, shape)
    probs = rng.dirichlet(np.ones(k), shape).transpose(3, 0, 1, 2).astype(np.float32)
    mask = rng.random(shape) < 0.7
    whole = HistogramAUC(k)
    whole.update(probs, target, mask)
    parts, other = HistogramAUC(k), HistogramAUC(k)
    parts.update(probs[:, :2], target[:2], mask[:2])
    other.update(probs[:, 2:], target[2:], mask[2:])
    parts.merge(other)
    np.testing.assert_array_equal(parts.pos, whole.pos)
    np.testing.assert_array_equal(parts.neg, whole.neg)
    auc, bound = whole.compute()
    exact = roc_auc_per_class(probs, target, mask)
    assert np.all(np.abs(auc - exact) <= bound + 1e-12) and np.all(bound < 1e-3)
    for c in range(k):
        assert abs(exact[c] - roc_auc_score(target[mask] == c, probs[c][mask])) < 1e-6


def test_masked_voxels_change_nothing():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 2, (30, 30))
    probs = rng.random((2, 30, 30)).astype(np.float32)
    mask = rng.random((30, 30)) < 0.5
    probs2 = np.where(mask, probs, rng.random(probs.shape).astype(np.float32))
    target2 = np.where(mask, target, 1 - target)
    np.testing.assert_array_equal(roc_auc_per_class(probs, target, mask), roc_auc_per_class(probs2, target2, mask))
    h1, h2 = HistogramAUC(2), HistogramAUC(2)
    h1.update(probs, target, mask)
    h2.update(probs2, target2, mask)
    np.testing.assert_array_equal(h1.pos, h2.pos)


def test_all_masked_and_single_class_are_nan():
    h = HistogramAUC(2)
    h.update(np.full((2, 4, 4), 0.5, np.float32), np.zeros((4, 4), int), np.zeros((4, 4), bool))
    assert np.isnan(h.compute()[0]).all()
    assert np.isnan(roc_auc(np.ones(5), np.ones(5, bool)))


@pytest.mark.parametrize("bad", [np.nan, -0.1, 1.5])
def test_histogram_refuses_scores_outside_unit_interval(bad):
    s = np.array([0.1, bad, 0.4], np.float32)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        HistogramAUC(1).update_binary(0, s, np.array([True, False, True]))


def test_negative_zero_bins_with_zero():
    h = HistogramAUC(1)
    h.update_binary(0, np.array([-0.0, 0.0, 1.0], np.float32), np.array([False, False, True]))
    assert h.neg[0, 0] == 2 and h.pos[0, -1] == 1
