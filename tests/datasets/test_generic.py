"""The generic adapter: a folder of the user's files + a YAML card -> a prepared dataset, runnable."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml
from PIL import Image

from segrepro.cli import main
from segrepro.datasets import load_prepared
from segrepro.datasets.generic import GenericAdapter
from segrepro.errors import UserError

CARD = {
    "name": "my-cells",
    "title": "My cells",
    "spatial_dims": 2,
    "images": "images",
    "labels": "labels",
    "classes": [
        {"name": "background", "values": [0], "colour": "#000000"},
        {"name": "cell", "values": [255], "colour": "#3cb44b"},
    ],
    "ignore": [7],
    "voxel_size": [5, 5],
    "licence": "CC BY 4.0",
    "citation": "me",
    "split": {"folds": 3},
}


def write_folder(root: Path, card: dict, n: int = 6, size: int = 48) -> Path:
    """``n`` PNG slices with a bright disc labelled 255 and a small ignored (7) patch; returns the card."""
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        rng = np.random.default_rng(i)
        disc = (yy - size / 2) ** 2 + (xx - size / 2 - i) ** 2 < (size / 5) ** 2
        img = (rng.normal(80, 10, (size, size)) + 100 * disc).clip(0, 255).astype(np.uint8)
        lab = np.where(disc, 255, 0).astype(np.uint8)
        lab[:2, :3] = 7
        for sub, arr in (("images", img), ("labels", lab)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(root / sub / f"slice{i}.png")
    path = root / "card.yaml"
    path.write_text(yaml.safe_dump(card))
    return path


def test_cli_prepare_with_card_then_show(tmp_path, workdir, capsys):
    card = write_folder(tmp_path / "mine", CARD)
    assert main(["datasets", "prepare", "--card", str(card)]) == 0
    data = load_prepared("my-cells")
    assert data.meta["volumes"] == [f"slice{i}" for i in range(6)]
    _, lab, msk = data.load("slice0")
    assert not msk[:2, :3].any() and msk.sum() == 48 * 48 - 6  # the ignore value is masked
    assert set(np.unique(lab)) == {0, 1}
    assert len(data.folds) == 3
    capsys.readouterr()
    assert main(["datasets", "show", "my-cells", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["title"] == "My cells" and shown["prepared"]["class_counts"]["cell"] > 0
    assert main(["datasets", "show", "my-cells"]) == 0
    assert re.search(r"1\s+cell\s+255\s+#3cb44b\s+[\d,]+\s+0\.\d+", capsys.readouterr().out)
    assert main(["datasets", "list"]) == 0
    assert re.search(r"my-cells\s+2-D\s+2\s+prepared \(YAML card\)\s+My cells", capsys.readouterr().out)


def test_nifti_volumes_and_explicit_split(tmp_path):
    import nibabel as nib

    root = tmp_path / "vols"
    for i in range(3):
        vol = np.zeros((6, 5, 4), np.int16)  # NIfTI (x, y, z)
        vol[1:3, 1:3, 1:3] = 2
        (root / "img").mkdir(parents=True, exist_ok=True)
        (root / "lab").mkdir(parents=True, exist_ok=True)
        nib.save(
            nib.Nifti1Image(np.random.default_rng(i).random((6, 5, 4)).astype(np.float32), np.eye(4)),
            str(root / "img" / f"v{i}.nii.gz"),
        )
        nib.save(nib.Nifti1Image(vol, np.eye(4)), str(root / "lab" / f"v{i}.nii.gz"))
    spec = {
        "name": "vols",
        "spatial_dims": 3,
        "images": "img",
        "labels": "lab",
        "classes": [{"name": "bg", "values": [0]}, {"name": "thing", "values": [2]}],
        "split": {"train": ["v0"], "val": ["v1"], "test": ["v2"]},
    }
    (root / "card.yaml").write_text(yaml.safe_dump(spec))
    adapter = GenericAdapter.from_yaml(root / "card.yaml")
    data = load_prepared("vols", adapter.prepare(root, tmp_path / "p"))
    img, lab, _ = data.load("v1")
    assert img.shape == (4, 5, 6)  # prepared (z, y, x)
    assert int(np.asarray(lab).sum()) == 8
    assert data.folds[0].test == ("v2",)


def test_tiff_stack_for_2d_card_is_rejected(tmp_path):
    root = tmp_path / "t"
    card = write_folder(root, CARD, n=3)
    tifffile.imwrite(root / "images" / "slice0.tif", np.zeros((3, 48, 48), np.uint8))
    (root / "images" / "slice0.png").unlink()
    with pytest.raises(UserError, match=r"label shape \(48, 48\) != image shape \(3, 48, 48\)"):
        GenericAdapter.from_yaml(card).prepare(root, tmp_path / "p")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spatial_dims": 4}, "spatial_dims must be 2 or 3"),
        ({"classes": [{"name": "only", "values": [0]}]}, "at least two classes"),
        (
            {"classes": [{"name": "a", "values": [0]}, {"name": "b", "values": [0]}]},
            r"label value 0 belongs to both class 'a' and class 'b'",
        ),
        (
            {"classes": [{"name": "a", "values": [0]}, {"name": "b", "values": [255, 7]}]},
            r"label value 7 belongs to both class 'b' and ignore",
        ),
        ({"split": {"folds": 3, "train": ["slice0"]}}, r"split has both folds \(rotating folds\) and train"),
        (
            {"split": {"train": ["slice0", "slice1"], "val": ["slice2"], "test": ["slice1", "slice3"]}},
            r"split lists \['slice1'\] in both train and test",
        ),
        ({"split": {"folds": 3, "blocks": "random"}}, r"split.blocks goes with folds: K and is one of"),
        ({"split": {"folds": "3"}}, r"split.folds must be a whole number, not '3'"),
        ({"split": {"train": "slice0", "val": ["slice1"], "test": ["slice2"]}}, r"split.train must be a list"),
        ({"colour_map": 1}, "unknown key"),
        ({"split": {"folds": 9}}, r"split.folds=9 needs 3 <= folds <= 6"),
        ({"split": {"train": ["slice0"], "val": ["nope"], "test": ["slice1"]}}, r"unknown files \['nope'\]"),
        ({"labels": "elsewhere"}, r"elsewhere/slice0\.png: missing label"),
    ],
)
def test_bad_cards_are_one_line_errors(tmp_path, workdir, change, message, capsys):
    card = write_folder(tmp_path / "c", {**CARD, **change})
    assert main(["datasets", "prepare", "--card", str(card)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert re.search(message, err), err
    assert not (workdir / "data" / "prepared" / "my-cells").exists()


def test_card_name_may_not_shadow_a_registered_dataset(tmp_path, workdir, capsys):
    card = write_folder(tmp_path / "c", {**CARD, "name": "urocell"})
    assert main(["datasets", "prepare", "--card", str(card)]) == 2
    assert "is a registered dataset" in capsys.readouterr().err


def test_prepare_needs_name_or_card(workdir, capsys):
    assert main(["datasets", "prepare"]) == 2
    assert "give a dataset NAME or --card" in capsys.readouterr().err


@pytest.mark.slow
def test_prepared_card_dataset_runs_smoke_tier(tmp_path, workdir, capsys):
    card = write_folder(tmp_path / "mine", CARD, n=6, size=64)
    assert main(["datasets", "prepare", "--card", str(card)]) == 0
    assert main(["run", "--dataset", "my-cells", "--baseline", "unet-ce", "--tier", "smoke", "--quiet"]) == 0
    record = json.loads((workdir / "results" / "runs" / "my-cells__unet-ce__smoke__f0__s0.json").read_text())
    assert record["status"] == "ok"
    assert record["dataset"]["classes"] == ["background", "cell"]


def test_readme_card_example_prepares(tmp_path):
    """The complete card documented in the README works as written."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Your own data") :]
    block = section[section.index("```yaml") + len("```yaml") : section.index("```", section.index("```yaml") + 7)]
    spec = yaml.safe_load(block)
    root = tmp_path / "readme"
    for i in range(3):
        lab = np.zeros((4, 8, 8), np.uint8)
        lab[1:3, 2:5, 2:5] = (1, 255, 2)[i]
        lab[0, 0, :2] = 3
        for sub, arr in (("images", np.random.default_rng(i).random((4, 8, 8)).astype(np.float32)), ("labels", lab)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(root / sub / f"vol{i}.tif", arr)
    (root / "card.yaml").write_text(block)
    data = load_prepared(spec["name"], GenericAdapter.from_yaml(root / "card.yaml").prepare(root, tmp_path / "p"))
    assert data.class_names == ["background", "mitochondria", "er"]
    assert data.meta["class_counts"] == {"background": 3 * (4 * 64 - 18 - 2), "mitochondria": 36, "er": 18}
    assert len(data.folds) == 3


def test_label_file_without_image_is_named(tmp_path, workdir, capsys):
    card = write_folder(tmp_path / "c", CARD)
    (tmp_path / "c" / "images" / "slice4.png").unlink()
    assert main(["datasets", "prepare", "--card", str(card)]) == 2
    err = capsys.readouterr().err.strip()
    assert re.search(r"labels/slice4\.png: a label file with no image \(.*images/slice4\.\*\)", err), err
    assert "\n" not in err and not (workdir / "data" / "prepared").exists()


def test_colour_label_png_is_refused_but_grey_saved_as_rgb_is_read(tmp_path):
    root = tmp_path / "c"
    card = write_folder(root, CARD, n=3)
    grey = np.asarray(Image.open(root / "labels" / "slice0.png"))
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(root / "labels" / "slice0.png")  # grey, as RGB
    data = load_prepared("my-cells", GenericAdapter.from_yaml(card).prepare(root, tmp_path / "p"))
    np.testing.assert_array_equal(np.asarray(data.load("slice0")[1])[2:], (grey[2:] == 255).astype(np.uint8))
    colour = np.stack([grey, grey // 2, grey], axis=-1)
    Image.fromarray(colour).save(root / "labels" / "slice1.png")
    with pytest.raises(UserError, match=r"labels/slice1\.png: a colour \(RGB\) label image; .*grey or palette PNG"):
        GenericAdapter.from_yaml(card).prepare(root, tmp_path / "p2")


@pytest.mark.parametrize(
    ("split", "first_test"),
    [
        ({"folds": 3}, ["slice0", "slice3", "slice6", "slice9"]),
        ({"folds": 3, "blocks": "contiguous"}, ["slice0", "slice1", "slice2", "slice3"]),
    ],
)
def test_rotating_folds_follow_natural_order_and_blocks(tmp_path, split, first_test):
    card = write_folder(tmp_path / "c", {**CARD, "split": split}, n=12, size=16)
    data = load_prepared("my-cells", GenericAdapter.from_yaml(card).prepare(tmp_path / "c", tmp_path / "p"))
    assert data.meta["volumes"] == [f"slice{i}" for i in range(12)]
    assert list(data.folds[0].test) == first_test
    assert sorted(v for f in data.folds for v in f.test) == sorted(data.meta["volumes"])


def test_another_card_under_a_prepared_name_needs_force(tmp_path, workdir, capsys):
    first = write_folder(tmp_path / "a", CARD)
    assert main(["datasets", "prepare", "--card", str(first)]) == 0
    assert main(["datasets", "prepare", "--card", str(first)]) == 0  # the same card again: fine
    before = load_prepared("my-cells").data_hash
    other = write_folder(tmp_path / "b", {**CARD, "title": "Someone else's cells"}, n=4)
    capsys.readouterr()
    assert main(["datasets", "prepare", "--card", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"prepared from a different card ({first.resolve()})" in err and "--force" in err and "\n" not in err
    assert load_prepared("my-cells").data_hash == before
    assert main(["datasets", "prepare", "--card", str(other), "--force"]) == 0
    assert load_prepared("my-cells").meta["card"]["title"] == "Someone else's cells"
