"""Paper 004's pieces: extended AGCWD against hand-computed transforms, eq. 8 against a hand sum, zero-mean
kernels kept after every step, the weight transfer, binary heads, bad input, and a smoke run of every
entry on synthetic-3d."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from segrepro import fit, paths
from segrepro.baselines import BASELINES, get_baseline
from segrepro.baselines.zerovnik2020.agcwd import ExtendedAGCWD, agcwd_mapping, extend
from segrepro.baselines.zerovnik2020.losses import BinaryDice, PaperDice
from segrepro.baselines.zerovnik2020.networks import BinaryHeads, HighRes3DZMNet, highres3dnet, zero_mean_kernels
from segrepro.baselines.zerovnik2020.transfer import last_layer, transfer_all_but_last
from segrepro.datasets import get_dataset, load_prepared
from segrepro.errors import UserError
from segrepro.leaderboard.data import Problem, read_csv_rows
from segrepro.protocol import RunSpec, execute
from segrepro.sampling import PatchSampler, make_train_volume
from segrepro.training import train

ENTRIES = [e for _, e in BASELINES if e.paper == "004"]


# --- extended AGCWD -------------------------------------------------------------------------------------


def test_agcwd_matches_the_hand_computed_transform():
    # Levels 0..3 with counts 1, 2, 3, 4: pdf = .1 .2 .3 .4; alpha = 1 gives pdf_w = .4 * (0, 1/3, 2/3, 1),
    # cdf_w = (0, 1/6, 1/2, 1) and T(l) = 3 (l / 3) ** (1 - cdf_w(l)).
    levels = np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3])
    expected = [0.0, 3 * (1 / 3) ** (5 / 6), 3 * (2 / 3) ** 0.5, 3.0]
    np.testing.assert_allclose(agcwd_mapping(levels, 4, alpha=1.0), expected, rtol=1e-12)


def test_extension_stretches_between_the_std_limits_and_clips():
    values = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    mean, std = values.mean(), values.std()  # 21.2 and 39.4: lo = 1.5, hi = 40.9
    lo, hi = mean - 0.5 * std, mean + 0.5 * std
    out = extend(values, 255.0, "linear", n_std=0.5)
    np.testing.assert_allclose(out, np.clip((values - lo) / (hi - lo), 0, 1) * 255.0)
    assert out[0] == 0.0 and out[-1] == 255.0  # outliers clipped to the limits
    assert out[2] == pytest.approx(255.0 * (2 - lo) / (hi - lo)) and 0 < out[2] < 255
    cdf = extend(values, 255.0, "cdf", n_std=0.5)
    assert np.all(np.diff(cdf) >= 0) and cdf.max() == 255.0


def test_extended_agcwd_preprocess_on_an_image_with_four_levels():
    image = np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3], dtype=np.float32).reshape(1, 2, 5)
    hook = ExtendedAGCWD(alpha=1.0, levels=4)
    t = np.array([0.0, 3 * (1 / 3) ** (5 / 6), 3 * (2 / 3) ** 0.5, 3.0])[image.astype(int)]
    lo, hi = t.mean() - 3.5 * t.std(), t.mean() + 3.5 * t.std()
    np.testing.assert_allclose(hook.enhance(image), np.clip((t - lo) / (hi - lo), 0, 1) * 3, rtol=1e-6)
    out = hook(image)
    assert out.shape == (1, *image.shape) and abs(out.mean()) < 1e-6 and out.std() == pytest.approx(1, abs=1e-5)


# --- loss (eq. 8) ---------------------------------------------------------------------------------------


def test_paper_dice_is_eq8_and_ignores_masked_voxels():
    torch.manual_seed(0)
    logits = torch.randn(1, 3, 2, 3, 4, requires_grad=True)
    target = torch.randint(0, 3, (1, 2, 3, 4))
    mask = torch.ones(1, 2, 3, 4)
    mask[..., 0] = 0
    p = torch.softmax(logits, 1)
    r = torch.nn.functional.one_hot(target, 3).movedim(-1, 1).float()
    w = mask[:, None]
    hand = 1 - 2 * (w * p * r).sum() / (w * (p + r)).sum()
    loss = PaperDice()(logits, target, mask)
    assert loss.item() == pytest.approx(hand.item(), abs=1e-5)
    loss.backward()
    assert torch.all(logits.grad[..., 0] == 0)  # masked voxels: no gradient


def test_binary_dice_trains_each_head_on_its_own_classes():
    logits = torch.zeros(1, 2, 1, 1, 4, requires_grad=True)
    target = torch.tensor([[[[0, 1, 2, 2]]]])
    mask = torch.ones(1, 1, 1, 4)
    loss = BinaryDice({0: (1, 2)})(logits, target, mask)  # any compartment: r = 0 1 1 1, p = 0.5 everywhere
    p, r = torch.full((4,), 0.5), torch.tensor([0.0, 1, 1, 1])
    hand = 1 - 2 * ((p * r).sum() + ((1 - p) * (1 - r)).sum()) / 8
    assert loss.item() == pytest.approx(hand.item(), abs=1e-5)
    loss.backward()
    assert torch.all(logits.grad[:, 1] == 0)  # channel 1 has no head here


# --- networks -------------------------------------------------------------------------------------------


def test_zero_mean_kernels_hold_after_every_optimiser_step():
    torch.manual_seed(0)
    model = highres3dnet(1, 3, 3, zero_mean=True)
    first = model.first_conv().weight
    assert first.mean(dim=(1, 2, 3, 4)).abs().max() < 1e-6
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model(torch.randn(1, 1, 8, 8, 8)).pow(2).mean().backward()
    opt.step()
    assert first.mean(dim=(1, 2, 3, 4)).abs().max() > 1e-4  # the step broke the constraint ...
    zero_mean_kernels(model)
    assert first.mean(dim=(1, 2, 3, 4)).abs().max() < 1e-6  # ... and after_step restores it


def test_zero_mean_first_layer_ignores_a_brightness_offset():
    torch.manual_seed(0)
    conv = highres3dnet(1, 3, 3, zero_mean=True).first_conv()
    x = torch.randn(1, 1, 8, 8, 8)
    with torch.no_grad():
        a, b = conv(x), conv(x + 5.0)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1), slice(1, -1))  # zero padding at the faces
    torch.testing.assert_close(a[inner], b[inner], atol=1e-4, rtol=0)


def test_zm_entries_constrain_the_weights_during_their_runs(prepared_3d, monkeypatch):
    seen = {}
    real_train = fit.train

    def spy(model, *args, **kwargs):
        result = real_train(model, *args, **kwargs)
        seen["after_step"] = kwargs.get("after_step")
        seen["means"] = [
            m.first_conv().weight.mean(dim=(1, 2, 3, 4)) for m in model.modules() if isinstance(m, HighRes3DZMNet)
        ]
        return result

    monkeypatch.setattr(fit, "train", spy)
    record = execute(RunSpec("synthetic-3d", "zerovnik2020-highres3dzmnet"), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert seen["after_step"].resolve() is zero_mean_kernels  # named lazily: listing entries imports no torch
    assert seen["means"] and all(m.abs().max() < 1e-6 for m in seen["means"])


def test_binary_heads_merge_by_the_more_probable_class():
    torch.manual_seed(0)
    model = BinaryHeads(3, (0, 1), lambda k: highres3dnet(1, k, 3))
    out = model(torch.randn(1, 1, 4, 4, 4))
    assert out.shape == (1, 3, 4, 4, 4) and torch.all(out[:, 2] < -1e3)
    entry = get_baseline("zerovnik2020-highres3dnet-merged")
    probs = entry.probabilities(torch.tensor([[[0.0, 2.0, 3.0], [1.0, 3.0, -1.0]]]).view(1, 2, 1, 1, 3))
    assert entry.decide(probs).view(-1).tolist() == [2, 2, 1]


def test_transfer_copies_all_but_the_last_layer():
    torch.manual_seed(0)
    source = BinaryHeads(1, (0,), lambda k: highres3dnet(1, k, 3))
    target = highres3dnet(1, 3, 3)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    copied = transfer_all_but_last(target, source.state_dict())
    last = set(last_layer(target))
    src = {k.removeprefix("heads.0."): v for k, v in source.state_dict().items()}
    assert copied and last and not last & set(copied)
    for k, v in target.state_dict().items():
        expected = before[k] if k in last else src[k]
        torch.testing.assert_close(v, expected)
    assert any(not torch.equal(before[k], src[k]) for k in copied if before[k].is_floating_point())
    with pytest.raises(UserError, match="does not fit"):
        transfer_all_but_last(highres3dnet(1, 3, 3, zero_mean=False), {"blocks.0.conv.weight": torch.zeros(1)})


def test_two_stage_tran_trains_from_the_transferred_weights(prepared_3d):
    """The TRAN rows' two stages in memory: train the any-compartment entry, transfer, train the 3-class one."""
    data = load_prepared("synthetic-3d")
    source_entry, entry = get_baseline("zerovnik2020-pipeline-any"), get_baseline("zerovnik2020-pipeline")
    assert entry.warm_start == source_entry.id
    recipe = entry.recipe("smoke")
    vol_id = data.fold(0).train[0]
    img, lab, msk = data.load(vol_id)
    vols = [make_train_volume(entry.preprocess(img), lab, msk, data.n_classes)]
    sampler = PatchSampler(vols, recipe.patch_size[3], entry.sampling, 0, 1)
    device = torch.device("cpu")
    torch.manual_seed(0)
    source = source_entry.build_model(data.class_names, 3, "smoke")
    trained = train(
        source,
        source_entry.loss(),
        sampler,
        recipe,
        lambda m: 0.0,
        device,
        recipe.iterations,
        False,
        source_entry.after_step,
    )
    model = entry.build_model(data.class_names, 3, "smoke")
    copied = transfer_all_but_last(model, trained.best_state)
    first = next(k for k in copied if k.endswith("weight"))
    torch.testing.assert_close(model.state_dict()[first], trained.best_state["heads.0." + first])
    result = train(
        model, entry.loss(), sampler, recipe, lambda m: 0.0, device, recipe.iterations, False, entry.after_step
    )
    assert np.isfinite([loss for _, loss in result.train_loss]).all()


# --- bad input and smoke runs ---------------------------------------------------------------------------


@pytest.fixture
def prepared_3d(workdir):
    return get_dataset("synthetic-3d").prepare(paths.raw_dir("synthetic-3d"), paths.prepared_dir("synthetic-3d"))


@pytest.fixture
def prepare_vnc_3d(workdir, mirror):
    adapter = get_dataset("drosophila-vnc-3d")
    adapter.fetch(paths.raw_dir("drosophila-vnc-3d"), mirror=mirror("drosophila-vnc"))
    return adapter.prepare(paths.raw_dir("drosophila-vnc-3d"), paths.prepared_dir("drosophila-vnc-3d"))


def test_two_d_data_is_refused_in_one_line(prepared_2d):
    with pytest.raises(UserError, match=r"supports \(3,\)-D data, synthetic-2d is 2-D"):
        execute(RunSpec("synthetic-2d", "zerovnik2020-highres3dnet"), progress=False)


def test_a_volume_smaller_than_the_window_is_refused_in_one_line(prepared_3d):
    with pytest.raises(UserError, match=r"smaller than the training window \(96, 96, 96\)") as err:
        execute(RunSpec("synthetic-3d", "zerovnik2020-highres3dnet", tier="paper"), progress=False)
    assert "\n" not in str(err.value)


def test_a_tran_entry_without_its_source_says_which_command_makes_it(prepared_3d):
    with pytest.raises(UserError, match="--baseline zerovnik2020-highres3dnet-any") as err:
        execute(RunSpec("synthetic-3d", "zerovnik2020-highres3dnet-tran"), progress=False)
    assert "\n" not in str(err.value)


def test_every_entry_is_listed_with_mechanisms_and_reconstructions():
    assert len(ENTRIES) == 15
    for entry in ENTRIES:
        card = entry.card()
        assert "Mechanisms:" in card["description"] and card["reconstructions"]
        assert card["hooks"]["sampling"]["class_probabilities"] == [0.2, 0.4, 0.4]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_baselines_show_prints_the_rows_mechanisms_and_reconstructions(entry, capsys):
    """What a user sees: ``segrepro baselines show ID`` names the row's mechanisms and every reconstruction."""
    from segrepro.cli import main

    assert main(["baselines", "show", entry.id]) == 0
    flat = " ".join(capsys.readouterr().out.split())  # the card wraps long lines
    mechanisms = entry.card()["description"].split("Mechanisms: ")[1]  # e.g. "HighRes3DZMNet; CON; SM."
    assert f"Mechanisms: {mechanisms}" in flat
    assert "Reconstructions" in flat
    for text in entry.reconstructions:
        assert " ".join(text.split()) in flat
    if entry.warm_start:
        assert f"warm start {entry.warm_start}" in flat


SLOW = {"zerovnik2020-vnet"}  # MONAI's V-Net has no width option: ~45 s on one CPU core


@pytest.mark.parametrize(
    "entry",
    [pytest.param(e, marks=[pytest.mark.slow] if e.id in SLOW else []) for e in ENTRIES],
    ids=lambda e: e.id,
)
def test_smoke_run_on_synthetic_3d(entry, prepared_3d):
    if entry.warm_start:  # TRAN: the two-stage fit, its source run first
        assert execute(RunSpec("synthetic-3d", entry.warm_start), progress=False).record["status"] == "ok"
    record = execute(RunSpec("synthetic-3d", entry.id), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert record["metrics"]["paper_convention"] == "zerovnik2020"
    assert np.isfinite([loss for _, loss in record["curves"]["train_loss"]]).all()


@pytest.mark.slow
def test_smoke_run_on_real_3d_data(workdir, prepare_vnc_3d):
    """The 3-D pipeline on real anisotropic data: the proposed configuration (without TRAN) on drosophila-vnc-3d."""
    record = execute(RunSpec("drosophila-vnc-3d", "zerovnik2020-highres3dzmnet-con-sm"), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert set(record["metrics"]["canonical"]["per_class"]) >= {"mitochondria", "synapse"}


# --- published table ------------------------------------------------------------------------------------

PKG = Path(__file__).resolve().parents[2] / "baselines" / "zerovnik2020"


def read(name: str) -> list[dict[str, str]]:
    with open(PKG / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_published_table_1_is_complete_and_consistent():
    assert not isinstance(read_csv_rows(PKG / "published.csv", "published_row", {"value", "std"}), Problem)
    assert not isinstance(read_csv_rows(PKG / "methods.csv", "methods_row", {"scale"}), Problem)
    rows = [r for r in read("published.csv") if r["table"] == "1"]
    methods = {r["method"]: r["baseline"] for r in read("methods.csv") if r["table"] == "1"}
    assert len(methods) == 13 and len(rows) == 13 * 7 - 2 * 4  # each binary row prints "—" for 3 + mean
    for method, baseline in methods.items():
        get_baseline(baseline)
        got = {(r["class"], r["metric"]): float(r["value"]) for r in rows if r["method"] == method}
        if ("mean", "dice") in got:  # the printed mean DSC is the mean of the two classes' DSC
            pair = (got[("mitochondria", "dice")] + got[("endolysosomes", "dice")]) / 2
            assert abs(got[("mean", "dice")] - pair) <= 0.0005 + 1e-9, method
    assert {r["dataset"] for r in rows} == {"urocell"}
    classes = set(get_dataset("urocell").card.class_names[1:]) | {"mean"}
    assert {r["class"] for r in rows} == classes
    lucchi = [r for r in read("published.csv") if r["dataset"] == "lucchi-pp"]
    assert [(r["class"], r["metric"], r["value"]) for r in lucchi] == [("mitochondria", "iou", "0.90")]


def test_claims_name_entries_and_their_effects_match_table_1():
    claims = yaml.safe_load((PKG / "claims.yaml").read_text(encoding="utf-8"))
    assert claims["paper"] == "004" and len(claims["claims"]) == 7
    method_of = {r["baseline"]: r["method"] for r in read("methods.csv") if r["table"] == "1"}
    value = {(r["method"], r["class"], r["metric"]): float(r["value"]) for r in read("published.csv")}
    checked = 0
    for claim in claims["claims"]:
        bs = claim["b"] if isinstance(claim["b"], list) else [claim["b"]]
        for entry_id in [claim["a"], *bs]:
            get_baseline(entry_id)
        if claim.get("effect") is not None:
            assert len(bs) == 1 or claim["id"] == "combination-is-best"
            a = value[(method_of[claim["a"]], claim["class"], claim["metric"])]
            best_b = max(value[(method_of[b], claim["class"], claim["metric"])] for b in bs)
            assert a - best_b == pytest.approx(claim["effect"], abs=1e-9), claim["id"]
            checked += 1
    assert checked == 6


# --- paper tier -----------------------------------------------------------------------------------------


@pytest.mark.slow  # the full-width network: ~30 s on one shared core
def test_paper_tier_first_steps_on_cpu_at_reduced_window(prepared_3d):
    """The paper tier's network, optimiser and sampling, with a reduced window, take their first steps."""
    entry = get_baseline("zerovnik2020-highres3dzmnet-con-sm")
    paper = entry.recipe("paper")
    assert paper.patch_size[3] == (96, 96, 96)
    recipe = dataclasses.replace(paper, iterations=2, val_every=2, patch_size={3: (16, 24, 24)})
    data = load_prepared("synthetic-3d")
    img, lab, msk = data.load(data.fold(0).train[0])
    sampler = PatchSampler(
        [make_train_volume(entry.preprocess(img), lab, msk, data.n_classes)],
        (16, 24, 24),
        entry.sampling,
        0,
        paper.batch_size,
    )
    torch.manual_seed(0)
    model = entry.build_model(data.class_names, 3, "paper")
    before = [p.detach().clone() for p in model.parameters()]
    result = train(
        model,
        entry.loss(),
        sampler,
        recipe,
        lambda m: 0.0,
        torch.device("cpu"),
        recipe.iterations,
        False,
        entry.after_step,
    )
    assert np.isfinite([loss for _, loss in result.train_loss]).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_paper_tier_network_runs_under_bf16_autocast():
    torch.manual_seed(0)
    model = get_baseline("zerovnik2020-pipeline").build_model(["b", "m", "el"], 3, "paper").eval()
    x = torch.randn(1, 1, 8, 8, 8)  # bf16 convolutions are slow on CPUs without AVX-512
    with torch.no_grad():
        full = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = model(x)
    assert half.dtype == torch.bfloat16 and torch.isfinite(half).all()
    assert (full.argmax(1) == half.float().argmax(1)).float().mean() > 0.9
