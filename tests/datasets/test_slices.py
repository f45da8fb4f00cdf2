"""A 3-D dataset as its z-slices: every slice of every volume, with its label, mask and instances, each in
its volume's split; and a 2-D network of paper 003 run on them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from segrepro import paths
from segrepro.datasets import DatasetAdapter, DatasetCard, Fold, Volume, get_dataset, load_prepared
from segrepro.datasets.card import ClassSpec
from segrepro.datasets.slices import SlicesAdapter, slice_id
from segrepro.errors import UserError
from segrepro.protocol import RunSpec, execute


class Tiny3D(DatasetAdapter):
    """Three 3-D volumes of different depths with instance labels, two folds."""

    card = DatasetCard(
        name="tiny-3d",
        title="tiny",
        description="three small volumes",
        spatial_dims=3,
        classes=(ClassSpec("background", (0,)), ClassSpec("cell", (1,))),
        licence="test",
        citation="test",
        voxel_size=(30.0, 4.0, 5.0),
        instances=True,
    )
    depths: ClassVar[dict[str, int]] = {"a": 2, "b": 3, "c": 4}

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        for i, (vid, depth) in enumerate(self.depths.items()):
            rng = np.random.default_rng(i)
            label = (rng.random((depth, 8, 6)) > 0.7).astype(np.uint8)
            mask = (rng.random((depth, 8, 6)) > 0.1).astype(np.uint8)
            image = rng.random((depth, 8, 6)).astype(np.float32)
            yield Volume(vid, image, label, mask, instances=label.astype(np.int32) * (i + 1))

    def folds(self, ids: list[str]) -> list[Fold]:
        return [Fold(("a",), ("b",), ("c",)), Fold(("c",), ("a",), ("b",))]


def test_every_slice_becomes_a_2d_case_with_its_label_mask_and_instances(workdir):
    adapter = SlicesAdapter(Tiny3D())
    assert adapter.card.name == "tiny-3d-slices" and adapter.card.spatial_dims == 2
    assert adapter.card.voxel_size == (4.0, 5.0) and adapter.card.instances
    adapter.prepare(paths.raw_dir("tiny-3d-slices"), paths.prepared_dir("tiny-3d-slices"))
    base = load_prepared("tiny-3d")  # prepared on the way, as it was not
    slices = load_prepared("tiny-3d-slices")
    assert slices.spatial_dims == 2 and slices.class_names == base.class_names
    assert len(slices.meta["volumes"]) == 2 + 3 + 4
    assert slices.meta["class_counts"] == base.meta["class_counts"]
    for vid, depth in Tiny3D.depths.items():
        volume = base.load(vid)
        for z in range(depth):
            for whole, part in zip(volume, slices.load(slice_id(vid, z)), strict=True):
                np.testing.assert_array_equal(part, whole[z])
            np.testing.assert_array_equal(slices.load_instances(slice_id(vid, z)), base.load_instances(vid)[z])


def test_a_volumes_slices_stay_in_its_split(workdir):
    adapter = SlicesAdapter(Tiny3D())
    adapter.prepare(paths.raw_dir("tiny-3d-slices"), paths.prepared_dir("tiny-3d-slices"))
    base, slices = load_prepared("tiny-3d"), load_prepared("tiny-3d-slices")
    assert len(slices.folds) == len(base.folds)
    for whole, sliced in zip(base.folds, slices.folds, strict=True):
        for volumes, part in zip(
            (whole.train, whole.val, whole.test), (sliced.train, sliced.val, sliced.test), strict=True
        ):
            assert part == tuple(slice_id(v, z) for v in volumes for z in range(Tiny3D.depths[v]))


def test_the_registered_variant_slices_synthetic_3d(workdir):
    adapter = get_dataset("synthetic-3d-slices")
    assert "z-slice" in adapter.card.description and adapter.card.extra == {"slices_of": "synthetic-3d"}
    adapter.prepare(paths.raw_dir("synthetic-3d-slices"), paths.prepared_dir("synthetic-3d-slices"))
    base, slices = load_prepared("synthetic-3d"), load_prepared("synthetic-3d-slices")
    depth, *plane = np.shape(base.load(base.meta["volumes"][0])[0])
    assert len(slices.meta["volumes"]) == depth * len(base.meta["volumes"])
    assert np.shape(slices.load(slices.meta["volumes"][0])[0]) == tuple(plane)
    test_volumes = {sid.rsplit("_z", 1)[0] for sid in slices.fold(0).test}
    assert test_volumes == set(base.fold(0).test)


def test_only_a_3d_dataset_has_slices():
    with pytest.raises(ValueError, match="synthetic-2d is 2-D"):
        SlicesAdapter(get_dataset("synthetic-2d"))


def test_a_2d_entry_on_3d_data_is_pointed_at_the_slices(workdir):
    get_dataset("synthetic-3d").prepare(paths.raw_dir("synthetic-3d"), paths.prepared_dir("synthetic-3d"))
    with pytest.raises(UserError, match=r"run it on the z-slices: --dataset synthetic-3d-slices$"):
        execute(RunSpec("synthetic-3d", "meyer2021-unet"), progress=False)


@pytest.mark.slow
def test_a_paper_003_network_runs_on_the_slices_at_the_smoke_tier(workdir):
    adapter = get_dataset("synthetic-3d-slices")
    adapter.prepare(paths.raw_dir("synthetic-3d-slices"), paths.prepared_dir("synthetic-3d-slices"))
    record = execute(RunSpec("synthetic-3d-slices", "meyer2021-unet"), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert record["metrics"]["paper_convention"] == "meyer2021"
    scored = set(record["metrics"]["counts_per_image"])
    assert scored == set(load_prepared("synthetic-3d-slices").fold(0).test)
