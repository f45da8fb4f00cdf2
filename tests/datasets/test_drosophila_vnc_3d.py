"""drosophila-vnc-3d: sixteen anisotropic 20x256x256 columns of the real VNC stack, leave-columns-out folds,
and paper 004's segmentation masks as the validity mask."""

import numpy as np
import pytest
from PIL import Image

from segrepro.datasets import get_dataset
from segrepro.datasets.drosophila_vnc_3d import DrosophilaVNC3DAdapter, column_id


def test_card_is_3d_and_anisotropic():
    card = get_dataset("drosophila-vnc-3d").card
    assert card.spatial_dims == 3 and card.voxel_size == (50.0, 4.6, 4.6)
    assert card.class_names[1:3] == ["mitochondria", "synapse"] and len(card.sources) == 40


def test_folds_leave_columns_out():
    ids = [column_id(r, c) for r in range(4) for c in range(4)]
    folds = DrosophilaVNC3DAdapter().folds(ids)
    assert len(folds) == 4
    for f, fold in enumerate(folds):
        assert {i[-1] for i in fold.test} == {str(f)} and {i[-1] for i in fold.val} == {str((f + 1) % 4)}
        assert len(fold.train) == 8 and not set(fold.train) & (set(fold.val) | set(fold.test))
    assert sorted(i for fold in folds for i in fold.test) == sorted(ids)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, prepare_from_mirror, mirror):
    return prepare_from_mirror(tmp_path_factory.mktemp("data"), "drosophila-vnc-3d", mirror("drosophila-vnc"))


def test_prepare_gives_sixteen_columns_of_the_stack(prepared, mirror):
    stack = mirror("drosophila-vnc") / "stack1"
    assert prepared.meta["volumes"] == sorted(column_id(r, c) for r in range(4) for c in range(4))
    img, lab, msk = prepared.load("c_y1_x2")
    assert img.shape == lab.shape == msk.shape == (20, 256, 256)
    section = 3
    raw = np.asarray(Image.open(stack / "raw" / f"{section:02d}.tif"))[256:512, 512:768]
    np.testing.assert_array_equal(img[section], raw.astype(np.float32))
    png = np.asarray(Image.open(stack / "labels" / f"labels{section:08d}.png"))[256:512, 512:768]
    np.testing.assert_array_equal(lab[section] == 1, png == 191)
    np.testing.assert_array_equal(lab[section] == 2, png == 223)
    assert len(prepared.folds) == 4


def test_masks_cover_the_borders_of_the_rare_classes_only(prepared):
    _, lab, msk = prepared.load("c_y0_x0")
    rare = np.isin(lab, (1, 2))
    assert rare.any() and 0 < 1 - msk.mean() < 0.5
    # this column has no flat (artefact) lines: every masked voxel lies next to a mitochondrion or synapse voxel
    from scipy import ndimage

    near_rare = ndimage.binary_dilation(rare, ndimage.generate_binary_structure(3, 1))
    assert np.all(near_rare[msk == 0])


def test_the_nosm_variant_is_registered_without_segmentation_masks():
    card = get_dataset("drosophila-vnc-3d-nosm").card
    assert card.name == "drosophila-vnc-3d-nosm" and card.extra["segmentation_masks"] is False
    assert card.notes.endswith("Validity mask: none (every voxel scored).")
    assert get_dataset("drosophila-vnc-3d").card.extra["segmentation_masks"] is True


@pytest.mark.parametrize("name", ["drosophila-vnc-3d", "drosophila-vnc-3d-nosm"])
def test_prepare_before_fetch_names_this_datasets_fetch_command(name, workdir, capsys):
    """Each variant reads its own raw folder, so the one-line error names its own fetch, not drosophila-vnc's."""
    from segrepro.cli import main

    assert main(["datasets", "prepare", name]) == 2
    last = capsys.readouterr().err.strip().split("\r")[-1]  # after the progress bar
    assert last.startswith("segrepro: error: ") and "\n" not in last
    assert last.endswith(f"missing; run `segrepro datasets fetch {name}` first")
