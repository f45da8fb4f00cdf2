"""Paper 002: the touching/gap target on hand-made cases (2-D and 3-D), the JC loss against its formula
written out, BWM and W3 weights, MAP and watershed instances, smoke runs on synthetic-cells-2d, the
one checkpoint for a loss's MAP and WT rows, the
published tables and the refusal to run on a dataset without instance labels."""

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from segrepro import paths
from segrepro.baselines import BASELINES, get_baseline
from segrepro.baselines.guerrero2020.losses import JCLoss, balance_weights, triplex_map, two_nearest_distances
from segrepro.baselines.guerrero2020.postprocess import MAPInstances, WatershedInstances
from segrepro.baselines.guerrero2020.targets import BACKGROUND, CELL, GAP, TOUCHING, TouchingGapTarget
from segrepro.datasets import get_dataset, load_prepared
from segrepro.errors import UserError
from segrepro.fit import fit
from segrepro.leaderboard.data import Problem, read_csv_rows
from segrepro.predict import Predictor
from segrepro.protocol import RunSpec, check_spec, execute

PKG = Path(__file__).resolve().parents[2] / "baselines" / "guerrero2020"


def two_squares(gap: int, size: int = 10) -> np.ndarray:
    """Two size x size squares side by side, ``gap`` pixels apart (0 = touching), in a 30 x 40 image."""
    inst = np.zeros((30, 40), np.int32)
    inst[10 : 10 + size, 5 : 5 + size] = 1
    inst[10 : 10 + size, 5 + size + gap : 5 + 2 * size + gap] = 2
    return inst


def test_two_touching_squares_get_a_touching_band_on_both_sides():
    inst = two_squares(gap=0)
    y = TouchingGapTarget(n_classes=4, neighbourhood=1, se1=0)(inst > 0, inst)
    # 3x3 window, no dilation: exactly the two columns on either side of the shared border
    touching = np.argwhere(y == TOUCHING)
    assert set(touching[:, 1]) == {14, 15} and len(touching) == 2 * 10
    assert (y[inst == 0] != TOUCHING).all()
    wide = TouchingGapTarget(n_classes=4)(inst > 0, inst)  # paper text: 5x5 window, then a radius-1 disk
    cols = {int(c) for c in np.argwhere(wide[14] == TOUCHING)[:, 0]}
    assert cols == set(range(12, 18))  # two columns each side, one more each side from the dilation
    assert (wide[inst > 0] != BACKGROUND).all()


def test_two_cells_one_gap_apart_depend_on_the_neighbourhood():
    inst = two_squares(gap=1)
    code = TouchingGapTarget(n_classes=4, neighbourhood=1, se1=0)(inst > 0, inst)  # authors' code window
    assert (code == TOUCHING).sum() == 0
    # the closing's disk rounds the ends: the 10-pixel slit minus one pixel at each end
    assert (np.argwhere(code == GAP)[:, 1] == 15).all() and (code == GAP).sum() == 8
    assert (TouchingGapTarget(n_classes=3, neighbourhood=1, se1=0)(inst > 0, inst) == GAP).sum() == 0  # J3
    text = TouchingGapTarget(n_classes=4, neighbourhood=2, se1=0)(inst > 0, inst)  # 5x5 sees across the gap
    assert set(np.argwhere(text == TOUCHING)[:, 1]) == {14, 16}  # the columns two pixels apart


def test_small_gaps_are_dropped_and_a_lone_cell_is_just_a_cell():
    short = two_squares(gap=1, size=5)  # a 5-pixel gap: under the 8-pixel minimum
    y = TouchingGapTarget(n_classes=4, neighbourhood=1, se1=0)(short > 0, short)
    assert (y == GAP).sum() == 0
    lone = np.zeros((30, 30), np.int32)
    lone[8:20, 10:22] = 7
    y = TouchingGapTarget()(lone > 0, lone)
    assert set(np.unique(y)) == {BACKGROUND, CELL} and ((y == CELL) == (lone > 0)).all()


def test_three_d_cubes():
    inst = np.zeros((12, 14, 24), np.int32)
    inst[2:10, 3:11, 3:11] = 1
    inst[2:10, 3:11, 11:19] = 2
    y = TouchingGapTarget(n_classes=4, neighbourhood=1, se1=0)(inst > 0, inst)
    assert set(np.argwhere(y == TOUCHING)[:, 2]) == {10, 11} and (y == TOUCHING).sum() == 2 * 8 * 8
    apart = inst.copy()
    apart[:, :, 11:19] = 0
    apart[2:10, 3:11, 12:20] = 2
    y = TouchingGapTarget(n_classes=4, neighbourhood=1, se1=0)(apart > 0, apart)
    assert (y == TOUCHING).sum() == 0 and set(np.argwhere(y == GAP)[:, 2]) == {11}


def test_target_needs_instances():
    with pytest.raises(UserError, match="needs instance labels"):
        TouchingGapTarget()(np.zeros((4, 4)), None)


def jc_by_hand(logits, target, mask, lam):
    """L_JC written out with loops over voxels and class pairs."""
    z = torch.softmax(logits, 1).movedim(1, -1).reshape(-1, logits.shape[1])
    t, m = target.reshape(-1), mask.reshape(-1)
    k = logits.shape[1]
    ce = -(torch.log_softmax(logits, 1).movedim(1, -1).reshape(-1, k)[torch.arange(t.numel()), t] * m).sum() / m.sum()
    n = [float(((t == i) * m).sum()) for i in range(k)]
    mm = [[float((z[:, i] * (t == j) * m).sum()) for j in range(k)] for i in range(k)]
    lj = 0.0
    for i, j in itertools.permutations(range(k), 2):
        if n[i] * n[j] > 0:
            lj += -lam * math.log(0.5 + 0.5 * (mm[i][i] / n[i] - mm[i][j] / n[j]) + 1e-8)
    return float(ce) + lj


@pytest.mark.parametrize(("k", "lam"), [(3, 0.5), (4, 0.5), (4, 2.0)])
def test_jc_loss_matches_its_formula(k, lam):
    g = torch.Generator().manual_seed(k)
    logits = torch.randn(2, k, 6, 7, generator=g)
    target = torch.randint(0, k - 1, (2, 6, 7), generator=g)  # class k-1 absent: its pairs are skipped
    mask = (torch.rand(2, 6, 7, generator=g) > 0.3).float()
    assert JCLoss(lam)(logits, target, mask).item() == pytest.approx(jc_by_hand(logits, target, mask, lam), rel=1e-5)


def jc_by_autograd(logits, target, mask, lam):
    """The JC loss by autograd through log-softmax and masked sums (the implementation before the gradient
    was written out): the reference for ``JCLoss``'s value and gradient."""
    logp = torch.log_softmax(logits, 1)
    ce = -(logp.gather(1, target.unsqueeze(1)).squeeze(1) * mask).sum() / mask.sum()
    k = logits.shape[1]
    z = logp.exp()
    m = torch.stack([torch.stack([(z[:, i] * (target == j) * mask).sum() for j in range(k)]) for i in range(k)])
    n = torch.stack([((target == i) * mask).sum() for i in range(k)])
    lj = sum(
        -lam * torch.log(0.5 + 0.5 * (m[i, i] / n[i] - m[i, j] / n[j]) + 1e-8)
        for i, j in itertools.permutations(range(k), 2)
        if n[i] * n[j] > 0
    )
    return ce + lj


@pytest.mark.parametrize(("scale", "dims"), [(1.0, 2), (3.0, 3), (60.0, 2)])
def test_jc_loss_value_and_gradient_match_autograd(scale, dims):
    """Scale 60 puts some target probabilities below float precision: their CE is recomputed exactly."""
    g = torch.Generator().manual_seed(7)
    spatial = (9, 11) if dims == 2 else (4, 5, 6)
    logits = (torch.randn(3, 4, *spatial, generator=g, dtype=torch.float64) * scale).float()
    target = torch.randint(0, 4, (3, *spatial), generator=g)
    mask = (torch.rand(3, *spatial, generator=g) > 0.3).float()
    grads = []
    for loss in (JCLoss(0.7), lambda x, t, m: jc_by_autograd(x, t, m, 0.7)):
        x = logits.clone().requires_grad_(True)
        value = loss(x, target, mask)
        value.backward(torch.tensor(2.0))
        grads.append((value.detach(), x.grad))
    (v1, g1), (v2, g2) = grads
    assert torch.isfinite(v1) and v1.item() == pytest.approx(v2.item(), rel=1e-6)
    torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-6 * g2.abs().max().item())


def test_jc_loss_gradient_against_finite_differences():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 3, (2, 4, 5), generator=g)
    mask = (torch.rand(2, 4, 5, generator=g) > 0.2).double()
    assert torch.autograd.gradcheck(lambda x: JCLoss()(x, target, mask), (logits,))


def test_jc_regulariser_vanishes_at_a_perfect_prediction():
    target = torch.tensor([[[0, 1], [2, 1]]])
    logits = torch.nn.functional.one_hot(target, 3).movedim(-1, 1).float() * 40
    assert JCLoss()(logits, target, torch.ones(1, 2, 2)).item() == pytest.approx(0.0, abs=1e-6)


def test_bwm_weights_and_w3_border_weights():
    target = torch.tensor([[0, 0, 0, 1], [0, 0, 2, 2]])
    w = balance_weights(target, torch.ones(2, 4), 4)
    torch.testing.assert_close(w, torch.tensor([1 / 5, 1.0, 1 / 2, 0.0]) / 1.0)  # (1/N_c)/max, 0 when absent
    inst = two_squares(gap=2)
    d1, d2 = two_nearest_distances(inst > 0)
    assert d1[15, 15] == 1 and d2[15, 15] == 2 and np.isinf(d2[inst == 0]).sum() == 0
    classes = (inst > 0).astype(np.int64)
    weights = triplex_map(classes, np.ones_like(classes), np.array([0.5, 1.0, 1.0]), w0=10, sigma=5)
    assert weights[15, 15] > weights[15, 35] > 1 and weights[0, 0] < weights[15, 15]


def probabilities(classes: np.ndarray, k: int, sure: float = 0.9) -> torch.Tensor:
    """``(1, k, ...)`` probabilities with ``sure`` on each voxel's class."""
    p = np.full((k, *classes.shape), (1 - sure) / (k - 1), np.float32)
    np.put_along_axis(p, classes[None], sure, axis=0)
    return torch.as_tensor(p[None])


def test_map_separates_touching_cells_and_merges_gap_into_background():
    inst = two_squares(gap=0)
    y = TouchingGapTarget(n_classes=4)(inst > 0, inst)
    y[0, :5] = GAP
    (pred,) = MAPInstances()(probabilities(y, 4), torch.as_tensor(y[None]))
    assert len(np.unique(pred.instances)) == 3  # two cells and background
    labelled = (y == CELL) | (y == TOUCHING)  # the band's dilation reaches one pixel past the cells
    assert ((pred.instances > 0) == labelled).all()  # grown back over the touching band
    for i in (1, 2):  # each predicted cell is one true cell
        assert len(np.unique(inst[(pred.instances == i) & (inst > 0)])) == 1
    assert (pred.classes[0, :5] == 0).all() and pred.scores.shape == (2, *inst.shape)
    np.testing.assert_allclose(pred.scores.sum(0), 1, atol=1e-6)


def test_scores_stay_probabilities_when_softmax_rounds_above_one():
    z = torch.softmax(torch.randn(4, 64, 64, generator=torch.Generator().manual_seed(0)) * 30, dim=0)
    assert (z[BACKGROUND] + z[GAP]).max() > 1.0  # float32 rounding: what a quick run met
    for post in (MAPInstances(), WatershedInstances()):
        [pred] = post(z[None], z.argmax(0)[None])
        assert pred.scores.min() >= 0.0 and pred.scores.max() <= 1.0


def test_watershed_splits_two_blobs_by_their_markers():
    inst = two_squares(gap=0)
    y = TouchingGapTarget(n_classes=3)(inst > 0, inst)
    z = probabilities(y, 3)
    z[0, CELL][y == TOUCHING] = 0.5  # touching band: still foreground, not a marker
    z[0, BACKGROUND][y == TOUCHING] = 0.05
    (pred,) = WatershedInstances(marker_threshold=0.8, min_marker_size=5)(z, z.argmax(1))
    assert len(np.unique(pred.instances)) == 3 and ((pred.instances > 0) == (y != BACKGROUND)).all()
    for i in (1, 2):
        assert len(np.unique(inst[(pred.instances == i) & (inst > 0)])) == 1


ENTRY_IDS = sorted(name for name, _ in BASELINES if name.startswith("guerrero2020-"))
FAST = {"guerrero2020-j4-map", "guerrero2020-w3-wt"}


def test_every_table_row_is_an_entry_with_the_papers_recipe():
    assert len(ENTRY_IDS) == 8
    for entry_id in ENTRY_IDS:
        e = get_baseline(entry_id)
        assert e.recipe("paper").lr == 1e-4 and e.recipe("paper").optimizer == "adam"
        assert {a.kind for a in e.sampling.augment} == {"rot90", "flip", "gamma", "elastic"}
        assert e.spatial_dims == (2, 3)
    assert get_baseline("guerrero2020-j3-map").training_classes(["background", "cell"]) == [
        "background",
        "cell",
        "touching",
    ]
    assert len(get_baseline("guerrero2020-j4-map").training_classes(["background", "cell"])) == 4


@pytest.fixture
def cells_2d(workdir):
    return get_dataset("synthetic-cells-2d").prepare(
        paths.raw_dir("synthetic-cells-2d"), paths.prepared_dir("synthetic-cells-2d")
    )


@pytest.mark.parametrize("entry_id", [pytest.param(e, marks=() if e in FAST else pytest.mark.slow) for e in ENTRY_IDS])
def test_smoke_run_records_instance_metrics(cells_2d, entry_id):
    record = execute(RunSpec("synthetic-cells-2d", entry_id), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    inst = record["metrics"]["instances"]
    test_ids = load_prepared("synthetic-cells-2d").fold(0).test
    assert set(inst["per_image"]) == set(test_ids)
    pooled = inst["pooled"]
    assert pooled["tp"] == sum(c["tp"] for c in inst["per_image"].values())
    assert pooled["fn"] + pooled["tp"] == sum(
        len(np.unique(load_prepared("synthetic-cells-2d").load_instances(v))) - 1 for v in test_ids
    )
    assert set(record["metrics"]["canonical"]["per_class"]) == {"background", "cell"}


def test_a_wt_row_predicts_from_the_checkpoint_of_its_map_row(cells_2d):
    wt = execute(RunSpec("synthetic-cells-2d", "guerrero2020-w3-wt"), progress=False).record
    source = RunSpec("synthetic-cells-2d", "guerrero2020-w3-map")
    assert wt["status"] == "ok", wt.get("reason")
    assert wt["checkpoint"] == f"models/{source.run_id}/checkpoint.pt"
    assert fit(source, progress=False).action == "exists"  # the MAP row's fit was done by the WT row's run
    mp = execute(source, progress=False).record
    shared = ("checkpoint", "curves", "train_seconds")
    assert [mp[k] for k in shared] == [wt[k] for k in shared]
    path = paths.results_dir() / wt["checkpoint"]
    assert isinstance(Predictor(path, get_baseline("guerrero2020-w3-wt")).entry.postprocess, WatershedInstances)
    assert isinstance(Predictor(path).entry.postprocess, MAPInstances)
    with pytest.raises(UserError, match="was fitted for guerrero2020-w3-map, not for guerrero2020-j4-map"):
        Predictor(path, get_baseline("guerrero2020-j4-map"))


def test_instance_entry_on_a_dataset_without_instances_says_which_have_them(prepared_2d):
    with pytest.raises(UserError, match=r"has none; datasets with instance labels: .*synthetic-cells-2d"):
        check_spec(RunSpec("synthetic-2d", "guerrero2020-j4-map"))


def read(name):
    with open(PKG / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_published_tables_as_printed():
    assert not isinstance(read_csv_rows(PKG / "published.csv", "published_row", {"value", "std"}), Problem)
    assert not isinstance(read_csv_rows(PKG / "methods.csv", "methods_row", {"scale"}), Problem)
    rows = read("published.csv")
    t1 = [r for r in rows if r["table"] == "1"]
    assert len(t1) == 8 * 4 and {r["dataset"] for r in t1} == {"t-cells"}
    t2 = [r for r in rows if r["table"] == "2"]
    assert len(t2) == 8 * 3 and {r["metric"] for r in t2} == {"rq", "sq", "pq"}
    value = {(r["table"], r["dataset"], r["method"], r["metric"]): r["value"] for r in rows}
    assert value[("1", "t-cells", "W3 + WT", "pq")] == "0.7896"
    assert value[("1", "t-cells", "BWM + MAP", "p05")] == "0.6756"
    assert value[("2", "hela-zero-shot", "J4", "sq")] == "0.8574"
    assert value[("2", "meristem-3d", "J3", "rq")] == "0.8829"
    # table 2's T-cells rows repeat table 1's J3/J4 rows
    for loss in ("J3", "J4"):
        for metric in ("rq", "sq", "pq"):
            assert value[("2", "t-cells", loss, metric)] == value[("1", "t-cells", f"{loss} (Ours) + MAP", metric)]
    methods = read("methods.csv")
    assert {(m["table"], m["method"]) for m in methods} == {(r["table"], r["method"]) for r in rows}
    assert {m["baseline"] for m in methods} == set(ENTRY_IDS)


def test_claims_name_registered_entries_and_their_effects_are_the_published_differences():
    import yaml

    claims = yaml.safe_load((PKG / "claims.yaml").read_text())
    assert claims["paper"] == "002"
    value = {(r["table"], r["dataset"], r["method"], r["metric"]): float(r["value"]) for r in read("published.csv")}
    for claim in claims["claims"]:
        others = claim["b"] if isinstance(claim["b"], list) else [claim["b"]]
        assert {claim["a"], *others} <= set(ENTRY_IDS)
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["j4-beats-j3-pq-everywhere"]["datasets"] == ["ctc"]  # the paper's datasets are CTC-style data
    for ds in ("dic-hela", "hela-zero-shot", "t-cells", "meristem-3d"):  # "on every dataset" of table 2
        assert value[("2", ds, "J4", "pq")] > value[("2", ds, "J3", "pq")]
    method = {m["baseline"]: m["method"] for m in read("methods.csv") if m["table"] == "1"}
    for cid in ("j4-map-beats-rivals-with-watershed", "j3-map-beats-rivals-with-watershed"):
        claim = by_id[cid]
        rivals = [value[("1", "t-cells", method[b], "pq")] for b in claim["b"]]
        mine = value[("1", "t-cells", method[claim["a"]], "pq")]
        assert claim["effect"] == pytest.approx(mine - max(rivals), abs=5e-5)
        for metric in claim["metric"]:
            assert all(
                value[("1", "t-cells", method[claim["a"]], metric)] > value[("1", "t-cells", method[b], metric)]
                for b in claim["b"]
            )


@pytest.mark.slow
def test_smoke_run_in_3d(workdir):
    get_dataset("synthetic-cells-3d").prepare(
        paths.raw_dir("synthetic-cells-3d"), paths.prepared_dir("synthetic-cells-3d")
    )
    record = execute(RunSpec("synthetic-cells-3d", "guerrero2020-j4-map"), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert record["dataset"]["spatial_dims"] == 3 and record["metrics"]["instances"]["per_image"]
