"""The validity-mask property, for every registered loss and every metric: changing predictions
or labels under the mask changes neither the value nor (for losses) the gradient anywhere."""

import numpy as np
import pytest
import torch

from segrepro.baselines import BASELINES
from segrepro.metrics import confusion_matrix, counts_from_matrix, scores_from_counts

ENTRIES = [entry for _, entry in BASELINES if entry.method is None]  # networks (methods: their own tests)
K = 4


def loss_and_grad(entry, logits, target, mask):
    logits = logits.clone().requires_grad_(True)
    value = entry.loss()(logits, target, mask)
    (grad,) = torch.autograd.grad(value, logits)
    return value.detach(), grad


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
@pytest.mark.parametrize("dims", [2, 3])
def test_loss_ignores_masked_voxels(entry, dims):
    g = torch.Generator().manual_seed(1)
    spatial = (12, 12) if dims == 2 else (6, 6, 6)
    channels = entry.out_channels(K)
    logits = torch.randn((2, channels, *spatial), generator=g)
    target = torch.randint(0, K, (2, *spatial), generator=g)
    mask = (torch.rand((2, *spatial), generator=g) > 0.4).float()
    v1, g1 = loss_and_grad(entry, logits, target, mask)
    hidden = mask == 0
    logits2 = torch.where(hidden.unsqueeze(1), torch.randn(logits.shape, generator=g) * 10, logits)
    target2 = torch.where(hidden, torch.randint(0, K, target.shape, generator=g), target)
    v2, g2 = loss_and_grad(entry, logits2, target2, mask)
    torch.testing.assert_close(v1, v2, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-7)
    assert g1.abs().sum() > 0
    assert (g1 * hidden.unsqueeze(1)).abs().max() == 0


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
