"""The validity-mask property, for every registered loss and every metric: changing predictions
or labels under the mask changes neither the value nor (for losses) the gradient anywhere."""

import numpy as np
import pytest

from segrepro.baselines import BASELINES
from segrepro.entry_checks import mask_problems
from segrepro.metrics import confusion_matrix, counts_from_matrix, scores_from_counts

ENTRIES = [entry for _, entry in BASELINES if entry.method is None]  # networks (methods: their own tests)
K = 4


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
@pytest.mark.parametrize("dims", [2, 3])
def test_loss_ignores_masked_voxels(entry, dims):
    """The check ``segrepro submit`` runs on an outside entry, on every registered one."""
    assert mask_problems(entry, dims) == []


@pytest.mark.parametrize("seed", range(10))
def test_every_confusion_metric_ignores_masked_voxels(seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, K, (20, 20))
    pred = rng.integers(0, K, (20, 20))
    mask = rng.random((20, 20)) > 0.5
    base = scores_from_counts(counts_from_matrix(confusion_matrix(pred, target, K, mask)))
    pred2 = np.where(mask, pred, rng.integers(0, K, pred.shape))
    target2 = np.where(mask, target, rng.integers(0, K, target.shape))
    other = scores_from_counts(counts_from_matrix(confusion_matrix(pred2, target2, K, mask)))
    for metric in base:
        np.testing.assert_array_equal(base[metric], other[metric])
