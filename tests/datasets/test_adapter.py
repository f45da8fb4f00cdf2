"""The shared prepare step: validation with one-line errors, and nothing half-written."""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from segrepro.datasets import ClassSpec, DatasetAdapter, DatasetCard, Fold, Volume, load_prepared
from segrepro.errors import UserError

CARD = DatasetCard(
    name="toy",
    title="toy",
    description="",
    spatial_dims=2,
    classes=(ClassSpec("background"), ClassSpec("cell")),
    licence="-",
    citation="-",
)


class Toy(DatasetAdapter):
    card = CARD

    def __init__(self, vols: list[Volume]):
        self.vols = vols

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        return iter(self.vols)

    def folds(self, ids: list[str]) -> list[Fold]:
        return [Fold(tuple(ids[:-1]), (), tuple(ids[-1:]))]


def vol(i: int, **over) -> Volume:
    rng = np.random.default_rng(i)
    base = dict(
        id=f"v{i}",
        image=rng.random((8, 8)).astype(np.float32),
        label=(rng.random((8, 8)) > 0.7).astype(np.uint8),
        mask=np.ones((8, 8), np.uint8),
        source=f"file{i}.tif",
    )
    base.update(over)
    return Volume(**base)


def test_prepare_writes_canonical_form_with_counts(tmp_path):
    vols = [vol(0), vol(1, mask=np.pad(np.ones((8, 6), np.uint8), ((0, 0), (0, 2))))]
    out = Toy(vols).prepare(tmp_path / "raw", tmp_path / "prep")
    data = load_prepared("toy", out)
    counts = sum(np.bincount(v.label[v.mask > 0].ravel(), minlength=2) for v in vols)
    assert data.meta["class_counts"] == {"background": counts[0], "cell": counts[1]}
    assert data.meta["masked_fraction"] == pytest.approx(16 / 128)
    _, lab, msk = data.load("v1")
    np.testing.assert_array_equal(lab, vols[1].label)
    np.testing.assert_array_equal(msk, vols[1].mask)
    assert data.folds[0].test == ("v1",)
    assert len(data.data_hash) == 64


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (dict(label=np.zeros((8, 7), np.uint8)), r"file9.tif: image shape \(8, 8\) != label shape \(8, 7\)"),
        (dict(label=np.full((8, 8), 5, np.uint8)), r"file9.tif: label values \[5\] are not class ids"),
        (dict(image=np.full((8, 8), np.nan, np.float32)), "file9.tif: image contains NaN or inf"),
        (
            dict(image=np.zeros((0, 8), np.float32), label=np.zeros((0, 8), np.uint8), mask=np.zeros((0, 8), np.uint8)),
            "file9.tif: empty volume",
        ),
    ],
)
def test_bad_volume_is_one_line_error_and_leaves_nothing(tmp_path, bad, message):
    out = tmp_path / "prep"
    with pytest.raises(UserError, match=message) as info:
        Toy([vol(0), vol(9, **bad)]).prepare(tmp_path / "raw", out)
    assert "\n" not in str(info.value)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_prepare_keeps_previous_prepared_data(tmp_path):
    out = Toy([vol(0), vol(1)]).prepare(tmp_path / "raw", tmp_path / "prep")
    before = (out / "meta.json").read_text()
    with pytest.raises(UserError):
        Toy([vol(0), vol(9, label=np.full((8, 8), 3, np.uint8))]).prepare(tmp_path / "raw", out)
    assert (out / "meta.json").read_text() == before


def test_missing_prepared_dataset_names_the_command(tmp_path):
    with pytest.raises(UserError, match="run: segrepro datasets prepare toy"):
        load_prepared("toy", tmp_path / "nothing")
