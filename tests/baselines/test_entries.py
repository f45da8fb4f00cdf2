"""Every registered entry, walked from the registry (no list by hand): it builds at every tier,
trains one step without NaNs, and its loss ignores masked voxels in value and gradient."""

import pytest
import torch

from segrepro.baselines import BASELINES
from segrepro.entry import BaselineEntry, count_parameters

ENTRIES = [entry for _, entry in BASELINES if entry.method is None]  # networks (methods: their own tests)
IDS = [entry.id for entry in ENTRIES]
N_CLASSES = 4


def small_input(dims: int, channels: int) -> torch.Tensor:
    shape = (2, channels, 32, 32) if dims == 2 else (2, channels, 16, 16, 16)  # batch 2: V-Net's 1-voxel bottleneck
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_card_is_complete(entry):
    card = entry.card()
    assert card["citation"] and card["model"] and card["loss"]
    assert set(card["recipes"]) >= {"smoke", "quick"}


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
@pytest.mark.parametrize("tier", ["smoke", "quick"])
def test_forward_backward_every_cpu_tier(entry, tier):
    classes = [str(k) for k in range(N_CLASSES)]
    k = len(entry.training_classes(classes))  # the target_transform hook may train on other classes
    for dims in entry.spatial_dims:
        torch.manual_seed(0)
        model = entry.build_model(classes, dims, tier)
        assert count_parameters(model) > 0
        x = small_input(dims, entry.preprocess.channels)
        model.train()
        out = model(x)
        target = torch.randint(0, k, (x.shape[0], *x.shape[2:]))
        mask = torch.ones(target.shape)
        loss = entry.loss()(out, target, mask)
        assert torch.isfinite(loss)
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        model.eval()
        with torch.no_grad():
            logits = model(x)
        probs = entry.probabilities(logits)
        assert probs.shape == (x.shape[0], k, *x.shape[2:])
        pred = entry.decide(probs)
        assert pred.shape == target.shape and int(pred.max()) < k


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_decide_each_agrees_with_decide(output):
    """Per-class decisions: the class map's class is always among them; sigmoid channels may overlap."""
    entry = BaselineEntry("t", "t", "t", "t", model=None, loss=None, recipes={}, output=output, threshold=0.5)
    torch.manual_seed(0)
    logits = torch.randn(2, N_CLASSES - (output == "sigmoid"), 6, 6) * 3
    probs = entry.probabilities(logits)
    each, pred = entry.decide_each(probs), entry.decide(probs)
    assert each.shape == probs.shape and each.dtype == torch.bool
    assert each.gather(1, pred[:, None]).all()
    assert torch.equal(each[:, 0], pred == 0)
    if output == "softmax":
        assert (each.sum(1) == 1).all()
    else:
        assert (each[:, 1:].sum(1) > 1).any()  # some pixels decided for two classes: multi-label
        assert torch.equal(each[:, 1:], probs[:, 1:] > 0.5)
