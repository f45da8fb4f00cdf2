"""Paper 003's entries: the weighted dice loss and the grain filter against hand-computed cases, the
networks, smoke runs of the four rows, and the published tables."""

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from segrepro import paths
from segrepro.baselines import BASELINES, get_baseline
from segrepro.baselines.meyer2021.grain import GrainFilterChannels, grain_filter
from segrepro.baselines.meyer2021.losses import WeightedDiceLoss, class_weights
from segrepro.datasets import get_dataset
from segrepro.entry import count_parameters
from segrepro.errors import UserError
from segrepro.inference import predict_volume
from segrepro.leaderboard.data import Problem, read_csv_rows
from segrepro.protocol import RunSpec, execute

PKG = Path(__file__).resolve().parents[2] / "baselines" / "meyer2021"
IDS = ("meyer2021-unet", "meyer2021-unet-f", "meyer2021-eunet", "meyer2021-eunet-f")


def test_weighted_dice_hand_computed():
    # Two classes, four voxels, logits chosen so the softmax is exactly (0.75, 0.25) or (0.25, 0.75).
    big = float(np.log(3.0))
    logits = torch.tensor([[[big, big, 0.0, 0.0], [0.0, 0.0, big, big]]])  # (1, 2, 4): voxels 0,1 -> class 0
    target = torch.tensor([[0, 1, 1, 1]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])  # the last voxel is not scored
    # scored voxels: p0 = (.75, .75, .25), p1 = (.25, .25, .75); truth0 = (1, 0, 0), truth1 = (0, 1, 1)
    dice0 = (2 * 0.75 + 1e-5) / (1.75 + 1 + 1e-5)
    dice1 = (2 * (0.25 + 0.75) + 1e-5) / (1.25 + 2 + 1e-5)
    expected = 1 - (0.2 * dice0 + 0.9 * dice1) / 2
    loss = WeightedDiceLoss(alpha=(0.2, 0.9))(logits, target, mask)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_weighted_dice_ignores_masked_voxels():
    logits = torch.randn(2, 4, 8, 8, requires_grad=True)
    target = torch.randint(0, 4, (2, 8, 8))
    mask = (torch.rand(2, 8, 8) > 0.4).float()
    loss = WeightedDiceLoss()(logits, target, mask)
    loss.backward()
    assert (logits.grad.movedim(1, -1)[mask == 0] == 0).all()
    other = torch.where(mask.bool(), target, (target + 1) % 4)
    assert WeightedDiceLoss()(logits, other, mask).item() == pytest.approx(loss.item())


def test_class_weights_follow_the_paper_or_the_rule():
    assert class_weights(4) == (0.1, 0.7, 1.0, 0.9)
    assert class_weights(3) == (0.1, 1.0, 1.0)
    with pytest.raises(UserError, match="3 class weights but the data has 5 classes") as err:
        class_weights(5, (0.1, 0.5, 0.5))
    assert "\n" not in str(err.value)


def test_grain_filter_removes_only_small_shapes():
    image = np.zeros((40, 40))
    image[5:7, 5:7] = 1.0  # a bright grain of 4 px
    image[20:30, 20:30] = 2.0  # a bright square of 100 px
    image[24:26, 24:26] = 0.5  # a dark grain of 4 px inside it
    small, large = grain_filter(image, (10, 200))
    expected_small = np.zeros((40, 40))
    expected_small[20:30, 20:30] = 2.0  # both 4-px grains merge into their surroundings
    np.testing.assert_allclose(small, expected_small)
    np.testing.assert_allclose(large, np.zeros((40, 40)))  # the 100-px square goes too at 200 px
    with pytest.raises(ValueError, match="2-D slices"):
        grain_filter(np.zeros((4, 4, 4)), (10,))


def test_grain_filter_is_the_authors_higra_default_tree_of_shapes():
    """The authors' code filters on higra's default tree of shapes (plain-map immersion, mean padding); the
    faster tree without immersion is another filter on a noisy image, so it must not stand in for it."""
    import higra as hg

    image = np.random.default_rng(3).standard_normal((48, 40))
    tree, altitudes = hg.component_tree_tree_of_shapes_image2d(image)
    area = hg.attribute_area(tree)
    expected = [hg.reconstruct_leaf_data(tree, altitudes, area < a) for a in (20, 200)]
    np.testing.assert_allclose(grain_filter(image, (20, 200)), np.stack(expected).astype(np.float32))
    tree, altitudes = hg.component_tree_tree_of_shapes_image2d(image, immersion=False)
    plain = hg.reconstruct_leaf_data(tree, altitudes, hg.attribute_area(tree) < 20)
    assert not np.allclose(plain, expected[0])


def test_grain_channels_are_cached_per_volume(workdir):
    pre = GrainFilterChannels((10, 50))
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    first = pre(image)
    assert first.shape == (3, 32, 32) and pre.channels == 3
    cached = list((workdir / "data" / "cache" / "grain").glob("*.npy"))
    assert len(cached) == 1
    np.save(cached[0], np.zeros((2, 32, 32), np.float32))  # a poisoned cache shows that it is read back
    assert (pre(image)[1:] == 0).all()


def test_four_rows_registered():
    ids = {entry_id for entry_id, _ in BASELINES}
    assert set(IDS) <= ids
    for entry_id in IDS:
        entry = get_baseline(entry_id)
        assert entry.preprocess.channels == (3 if entry_id.endswith("-f") else 1)
        assert entry.inference.centre_tile and entry.sampling.fg_fraction == 0.8
        assert entry.convention == "meyer2021" and entry.reconstructions


@pytest.mark.parametrize("entry_id", ["meyer2021-unet", "meyer2021-eunet"])
def test_paper_tier_networks_build_and_step(entry_id):
    entry = get_baseline(entry_id)
    model = entry.build_model(["bg", "mito", "membrane", "er"], 2, "paper")
    if entry_id == "meyer2021-unet":  # the classic 64 -> 1024 U-Net with one input channel
        assert count_parameters(model) > 30_000_000
    x = torch.randn(1, 1, 64, 64)
    loss = entry.loss()(model(x), torch.randint(0, 4, (1, 64, 64)), torch.ones(1, 64, 64))
    loss.backward()
    assert torch.isfinite(loss)


@pytest.mark.slow
@pytest.mark.parametrize("entry_id", IDS)
def test_smoke_run(prepared_2d, entry_id):
    record = execute(RunSpec("synthetic-2d", entry_id), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert record["metrics"]["paper_convention"] == "meyer2021"


def read(name: str) -> list[dict[str, str]]:
    with open(PKG / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_published_tables_shape_and_mapping():
    rows = read("published.csv")
    assert not isinstance(read_csv_rows(PKG / "published.csv", "published_row", {"value", "std"}), Problem)
    t1 = [r for r in rows if r["table"].startswith("1 ")]
    assert len(t1) == 2 * 6 * 3 and {r["metric"] for r in t1} == {"dice"}
    networks = [r for r in t1 if r["method"] not in ("Ilastik", "2nd expert")]
    assert all(r["std"] for r in networks) and not any(r["std"] for r in t1 if r not in networks)
    t2 = [r for r in rows if r["table"].startswith("2 ")]
    for stack in ("FS-1", "FS-2"):  # detected + missed + under-detected = 100 % up to rounding
        for method in {r["method"] for r in t2}:
            for cls in ("mitochondria", "endoplasmic reticulum"):
                pct = [
                    float(r["value"])
                    for r in t2
                    if (r["table"], r["method"], r["class"]) == (f"2 {stack}", method, cls)
                ]
                if pct:
                    assert sum(pct) == pytest.approx(100, abs=0.15)
    counts = [r for r in rows if r["table"].startswith("2n ")]
    for key in {(r["table"], r["method"], r["class"]) for r in counts}:
        got = {r["metric"]: int(r["value"]) for r in counts if (r["table"], r["method"], r["class"]) == key}
        assert (
            got["cc_detected_count"] + got["cc_missed_count"] + got["cc_under_detected_count"] == got["cc_total_count"]
        )
    methods = read("methods.csv")
    assert {(m["table"], m["method"]) for m in methods} == {(r["table"], r["method"]) for r in rows}
    registered = {entry_id for entry_id, _ in BASELINES}
    assert all(m["baseline"] in registered for m in methods if m["baseline"])
    assert {m["baseline"] for m in methods if m["method"] == "Ilastik"} == {"meyer2021-ilastik"}
    assert not any(m["baseline"] for m in methods if m["method"] == "2nd expert")  # a reference, not a method


@pytest.mark.parametrize(
    ("table", "method", "cls", "metric", "value", "std"),
    [  # spot checks read off the paper
        ("1 FS-1", "EUNet", "mitochondria", "dice", "0.951", "0.008"),
        ("1 FS-2", "2nd expert", "endoplasmic reticulum", "dice", "0.783", ""),
        ("2 FS-1", "EUNet+F", "endoplasmic reticulum", "cc_under_detected", "33.9", ""),
        ("2n FS-2", "Ilastik", "endoplasmic reticulum", "cc_missed_count", "889", ""),
    ],
)
def test_published_values_as_printed(table, method, cls, metric, value, std):
    hits = [
        r
        for r in read("published.csv")
        if (r["table"], r["method"], r["class"], r["metric"]) == (table, method, cls, metric)
    ]
    assert [(h["value"], h["std"]) for h in hits] == [(value, std)]


def test_a_weight_vector_of_the_wrong_length_stops_training_in_one_line():
    loss = WeightedDiceLoss(alpha=(0.1, 1.0))
    with pytest.raises(UserError, match="2 class weights but the data has 4 classes"):
        loss(torch.randn(1, 4, 8, 8), torch.zeros(1, 8, 8, dtype=torch.long), torch.ones(1, 8, 8))


@pytest.mark.parametrize("entry_id", ["meyer2021-unet-f", "meyer2021-eunet-f"])
def test_a_grain_filter_entry_refuses_3d_data_in_one_line(workdir, entry_id):
    get_dataset("synthetic-3d").prepare(paths.raw_dir("synthetic-3d"), paths.prepared_dir("synthetic-3d"))
    with pytest.raises(UserError, match=r"supports \(2,\)-D data, synthetic-3d is 3-D") as err:
        execute(RunSpec("synthetic-3d", entry_id), progress=False)
    assert "\n" not in str(err.value)


def test_an_image_too_small_for_the_network_is_a_one_line_error():
    entry = get_baseline("meyer2021-eunet")
    model = entry.build_model(["bg", "a", "b"], 2, "smoke")
    image = np.zeros((1, 20, 20), np.float32)  # below the EfficientNet's 32 px stride at the smoke tier's 64 window
    with pytest.raises(UserError, match=r"shape \(20, 20\) is smaller than its \(64, 64\) window") as err:
        predict_volume(model, entry, image, (64, 64), torch.device("cpu"))
    assert "\n" not in str(err.value)
    unet = get_baseline("meyer2021-unet")  # a network that takes it still predicts it
    small = predict_volume(unet.build_model(["bg", "a"], 2, "smoke"), unet, image, (64, 64), torch.device("cpu"))
    assert small.classes.shape == (20, 20)
