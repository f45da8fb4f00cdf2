"""Every registered entry, walked from the registry (no list by hand): it builds at every tier,
trains one step without NaNs, and its loss ignores masked voxels in value and gradient."""

import pytest
import torch

from segrepro.baselines import BASELINES
from segrepro.entry import count_parameters

ENTRIES = [entry for _, entry in BASELINES]
IDS = [entry.id for entry in ENTRIES]
N_CLASSES = 4


def small_input(dims: int, channels: int) -> torch.Tensor:
    shape = (2, channels, 32, 32) if dims == 2 else (1, channels, 16, 16, 16)
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_card_is_complete(entry):
    card = entry.card()
    assert card["citation"] and card["model"] and card["loss"]
    assert set(card["recipes"]) >= {"smoke", "quick"}


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
@pytest.mark.parametrize("tier", ["smoke", "quick"])
def test_forward_backward_every_cpu_tier(entry, tier):
    for dims in entry.spatial_dims:
        torch.manual_seed(0)
        model = entry.build_model([str(k) for k in range(N_CLASSES)], dims, tier)
        assert count_parameters(model) > 0
        x = small_input(dims, entry.preprocess.channels)
        model.train()
        out = model(x)
        target = torch.randint(0, N_CLASSES, (x.shape[0], *x.shape[2:]))
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
        assert probs.shape == (x.shape[0], N_CLASSES, *x.shape[2:])
        pred = entry.decide(probs)
        assert pred.shape == target.shape and int(pred.max()) < N_CLASSES
