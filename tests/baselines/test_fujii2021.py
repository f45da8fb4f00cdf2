"""Paper 001 entries: the four architectures' shapes and gradients at every tier, the losses against
hand-computed values, the mask property of each term, and the published tables."""

import csv
import math
from pathlib import Path

import pytest
import torch

from segrepro.baselines import BASELINES, get_baseline
from segrepro.baselines.fujii2021.entries import ROWS, make_entry
from segrepro.baselines.fujii2021.losses import FujiiLoss, batch_class_weights, dice_loss, iou_loss, weighted_sce
from segrepro.baselines.fujii2021.networks import DoubleUNet, EnsembleUNet, UNet, XNet
from segrepro.entry import count_parameters

PKG = Path(__file__).resolve().parents[2] / "baselines" / "fujii2021"
ARCH_ENTRIES = {
    "unet": "fujii2021-unet-sce-iou",
    "double-unet": "fujii2021-double-unet-sce-iou",
    "ensemble-unet": "fujii2021-ensemble-unet-sce-iou",
    "xnet": "fujii2021-xnet-sce-and-iou",
}
N_OUTPUTS = {"unet": 1, "double-unet": 2, "ensemble-unet": 2, "xnet": 3}
K = 5


def test_eight_rows_registered_with_distinct_ids():
    ids = {make_entry(*row).id for row in ROWS}
    assert len(ids) == 8
    assert ids <= {entry_id for entry_id, _ in BASELINES}


@pytest.mark.parametrize("arch", list(ARCH_ENTRIES))
@pytest.mark.parametrize("tier", ["smoke", "quick"])
def test_shapes_and_gradients_cpu_tiers(arch, tier):
    entry = get_baseline(ARCH_ENTRIES[arch])
    torch.manual_seed(0)
    model = entry.build_model([str(k) for k in range(K)], 2, tier)
    x = torch.randn(2, 1, 48, 64)
    model.train()
    out = model(x)
    outs = out if isinstance(out, tuple) else (out,)
    assert len(outs) == N_OUTPUTS[arch]
    assert all(o.shape == (2, K, 48, 64) for o in outs)
    target = torch.randint(0, K, (2, 48, 64))
    entry.loss()(out, target, torch.ones(2, 48, 64)).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (2, K, 48, 64)


def test_widths_are_comparable_per_tier():
    """Same width per tier; the two-network models have about twice the U-Net's parameters."""
    for tier in ("smoke", "quick", "paper"):
        widths = {get_baseline(e).recipe(tier).model_kwargs["base_channels"] for e in ARCH_ENTRIES.values()}
        assert len(widths) == 1
    unet = count_parameters(UNet(1, K, 2, 8))
    for cls in (DoubleUNet, EnsembleUNet, XNet):
        assert 1.8 < count_parameters(cls(1, K, 2, 8)) / unet < 2.6


def test_paper_width_is_the_classic_unet():
    """Width 64 gives 64-128-256-512 levels and a 1024-channel bottleneck (31M parameters, +-5%)."""
    model = UNet(1, K, 2, 64)
    assert model.encoder.downs[-1].convs.conv_1.conv.out_channels == 1024
    assert count_parameters(model) == pytest.approx(31.0e6, rel=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("arch", list(ARCH_ENTRIES))
def test_paper_tier_one_training_step(arch):
    entry = get_baseline(ARCH_ENTRIES[arch])
    recipe = entry.recipe("paper")
    assert recipe.model_kwargs["base_channels"] == 64 and recipe.batch_size == 8 and recipe.iterations == 36000
    torch.manual_seed(0)
    model = entry.build_model([str(k) for k in range(K)], 2, "paper")
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    x = torch.randn(2, 1, 64, 64)
    target = torch.randint(0, K, (2, 64, 64))
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    loss = entry.loss()(model(x), target, torch.ones(2, 64, 64))
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_xnet_output3_fuses_the_two_decoders():
    model = XNet(1, K, 2, 4).train()
    out1, out2, out3 = model(torch.randn(2, 1, 32, 32))
    fused = model.fuse(torch.cat([out1, out2], dim=1))
    torch.testing.assert_close(out3, fused)
    model.eval()
    torch.testing.assert_close(model(torch.randn(1, 1, 32, 32)).shape, torch.Size([1, K, 32, 32]))


def test_ensemble_predicts_the_mean_softmax():
    model = EnsembleUNet(1, K, 2, 4).eval()
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        mean = sum(torch.softmax(net(x), dim=1) for net in model.nets) / 2
        torch.testing.assert_close(torch.softmax(model(x), dim=1), mean)


# Two classes, three voxels, one masked. Logits chosen so that softmax gives q = (0.8, 0.2) etc.
def tiny() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    q = torch.tensor([[0.8, 0.2], [0.4, 0.6], [0.1, 0.9]])  # voxel x class
    logits = torch.log(q).T.reshape(1, 2, 1, 3)
    target = torch.tensor([[[0, 1, 0]]])
    mask = torch.tensor([[[1.0, 1.0, 0.0]]])
    return logits, target, mask


def test_iou_loss_hand_computed():
    logits, target, mask = tiny()
    g = 1e-5
    # scored voxels 0 (truth 0, q0=.8) and 1 (truth 1, q1=.6)
    # class 0: Σpq = .8, Σp = 1, Σq = .8 + .4 = 1.2; class 1: Σpq = .6, Σp = 1, Σq = .2 + .6 = .8
    iou0 = (0.8 + g) / (1 + 1.2 - 0.8 + g)
    iou1 = (0.6 + g) / (1 + 0.8 - 0.6 + g)
    expected = 1 - (iou0 + iou1) / 2
    assert iou_loss(logits, target, mask).item() == pytest.approx(expected, rel=1e-6)


def test_dice_loss_hand_computed():
    logits, target, mask = tiny()
    g = 1e-5
    d0 = (2 * 0.8 + g) / (1 + 1.2 + g)
    d1 = (2 * 0.6 + g) / (1 + 0.8 + g)
    assert dice_loss(logits, target, mask).item() == pytest.approx(1 - (d0 + d1) / 2, rel=1e-6)


def test_weighted_sce_hand_computed():
    logits = torch.log(torch.tensor([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.5, 0.5]])).T.reshape(1, 2, 1, 4)
    target = torch.tensor([[[0, 0, 1, 1]]])
    mask = torch.tensor([[[1.0, 1.0, 1.0, 0.0]]])
    # scored: two voxels of class 0, one of class 1 -> frequencies 2/3, 1/3 -> weights 1.5, 3
    torch.testing.assert_close(batch_class_weights(target, mask, 2), torch.tensor([1.5, 3.0]))
    expected = (1.5 * -math.log(0.8) + 1.5 * -math.log(0.4) + 3 * -math.log(0.7)) / (1.5 + 1.5 + 3)
    assert weighted_sce(logits, target, mask).item() == pytest.approx(expected, rel=1e-6)


def test_split_and_sum_combinations():
    logits, target, mask = tiny()
    o1, o2, o3 = logits, logits * 0.5, logits * 2
    sce = lambda o: weighted_sce(o, target, mask)  # noqa: E731
    iou = lambda o: iou_loss(o, target, mask)  # noqa: E731
    split = FujiiLoss("iou", split=True)((o1, o2, o3), target, mask)
    torch.testing.assert_close(split, sce(o1) + iou(o2) + sce(o3) + iou(o3))
    summed = FujiiLoss("iou", split=False)((o1, o2, o3), target, mask)
    torch.testing.assert_close(summed, sum(sce(o) + iou(o) for o in (o1, o2, o3)))
    with pytest.raises(ValueError, match="three outputs"):
        FujiiLoss("iou", split=True)((o1, o2), target, mask)


@pytest.mark.parametrize("term", [weighted_sce, iou_loss, dice_loss])
def test_each_term_ignores_masked_voxels(term):
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, K, 10, 10, generator=g)
    target = torch.randint(0, K, (2, 10, 10), generator=g)
    mask = (torch.rand(2, 10, 10, generator=g) > 0.5).float()
    hidden = mask == 0
    logits2 = torch.where(hidden.unsqueeze(1), torch.randn(logits.shape, generator=g) * 10, logits)
    target2 = torch.where(hidden, torch.randint(0, K, target.shape, generator=g), target)
    grads = []
    values = []
    for lg, tg in ((logits, target), (logits2, target2)):
        lg = lg.clone().requires_grad_(True)
        value = term(lg, tg, mask)
        (grad,) = torch.autograd.grad(value, lg)
        values.append(value.detach())
        grads.append(grad)
    torch.testing.assert_close(values[0], values[1])
    torch.testing.assert_close(grads[0], grads[1])
    assert grads[0][hidden.unsqueeze(1).expand_as(grads[0])].abs().max() == 0


def test_published_tables_shape_and_mapping():
    with open(PKG / "published.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["paper", "table", "dataset", "method", "class", "metric", "value", "std"]
    t1 = [r for r in rows if r["table"] == "1"]
    t2 = [r for r in rows if r["table"] == "2"]
    assert len(t1) == 8 * 3 and len(t2) == 8 * 6
    assert {r["dataset"] for r in t1} == {"arabidopsis-cells"} and {r["dataset"] for r in t2} == {"drosophila-vnc"}
    assert {r["class"] for r in t2} == {*get_baseline_classes(), "mean"}
    assert all(r["paper"] == "001" and r["metric"] == "iou" and float(r["std"]) >= 0 for r in rows)
    xnet = {r["class"]: float(r["value"]) for r in t2 if r["method"] == "X-Net(SCE and IoU)"}
    assert xnet["mean"] == pytest.approx(sum(v for c, v in xnet.items() if c != "mean") / 5, abs=0.01)
    with open(PKG / "methods.csv", newline="") as f:
        methods = list(csv.DictReader(f))
    assert list(methods[0]) == ["table", "method", "baseline", "scale"]
    assert {(m["table"], m["method"]) for m in methods} == {(r["table"], r["method"]) for r in rows}
    registered = {entry_id for entry_id, _ in BASELINES}
    assert all(m["baseline"] in registered and m["scale"] == "100" for m in methods)


def get_baseline_classes() -> list[str]:
    from segrepro.datasets import get_dataset

    return get_dataset("drosophila-vnc").card.class_names


@pytest.mark.parametrize("cls", [UNet, DoubleUNet, EnsembleUNet, XNet])
def test_architectures_also_build_in_3d(cls):
    """The entries register 2-D (the paper); the networks take ``spatial_dims=3`` too."""
    model = cls(1, K, 3, 2).train()
    out = model(torch.randn(2, 1, 16, 16, 16))
    outs = out if isinstance(out, tuple) else (out,)
    assert all(o.shape == (2, K, 16, 16, 16) for o in outs)
    sum(o.sum() for o in outs).backward()
    assert model.eval()(torch.randn(1, 1, 16, 16, 16)).shape == (1, K, 16, 16, 16)
