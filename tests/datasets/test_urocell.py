"""UroCell: upstream layout on small generated volumes, the real label files, masks and folds."""

import numpy as np
import pytest

from segrepro.datasets import load_prepared
from segrepro.datasets.masks import border_mask
from segrepro.datasets.urocell import VOLUMES as UROCELL_IDS
from segrepro.datasets.urocell import UroCellAdapter, read_label
from segrepro.errors import UserError


@pytest.mark.parametrize("label_dtype", [np.float32, np.uint8, np.int16])
def test_prepare_small_volumes_in_upstream_layout(tmp_path, urocell_layout, label_dtype):
    raw = tmp_path / "raw"
    written = urocell_layout(raw, label_dtype=label_dtype)
    data = load_prepared("urocell", UroCellAdapter(border_width=1).prepare(raw, tmp_path / "prep"))
    assert data.meta["volumes"] == list(UROCELL_IDS)
    img, lab, msk = data.load("fib1-3-2-1")
    raw_xyz, mito, lyso = written["fib1-3-2-1"]
    # NIfTI (x, y, z) -> prepared (z, y, x); classes 1 = mito, 2 = lyso.
    np.testing.assert_array_equal(img, raw_xyz.T.astype(np.float32))
    np.testing.assert_array_equal(lab, (mito.T > 0) * 1 + (lyso.T > 0) * 2)
    # The constant line along x at (y=0, z=0) is masked, and so are object borders.
    assert not msk[0, 0, :].any()
    np.testing.assert_array_equal(msk[1:, 1:, :], border_mask(np.asarray(lab), 1)[1:, 1:, :])
    assert msk.sum() < msk.size
    # Class counts are counted over scored voxels only, summed over the volumes.
    expected = np.zeros(3, np.int64)
    for vid in UROCELL_IDS:
        _, lab_v, msk_v = data.load(vid)
        expected += np.bincount(np.asarray(lab_v)[np.asarray(msk_v) > 0], minlength=3)
    assert list(data.meta["class_counts"].values()) == expected.tolist()
    assert expected[1] > 0 and expected[2] > 0
    assert data.meta["card"]["voxel_size"] == [15.0, 16.0, 16.0]


def test_leave_one_volume_out_folds():
    folds = UroCellAdapter().folds(list(UROCELL_IDS))
    assert [f.test for f in folds] == [(v,) for v in UROCELL_IDS]
    assert [f.val for f in folds] == [(UROCELL_IDS[(i + 1) % 5],) for i in range(5)]
    for f in folds:
        assert len(f.train) == 3 and not set(f.train) & set(f.val + f.test)


def test_label_value_not_in_card_names_the_file(tmp_path, urocell_layout, nifti, pin_urocell):
    raw = tmp_path / "raw"
    urocell_layout(raw)
    bad = np.zeros((20, 18, 16), np.float32)
    bad[0, 0, 0] = 0.5
    nifti(raw / "lyso" / "binary" / "fib1-1-0-3.nii.gz", bad)
    pin_urocell(raw)  # as if upstream's file were this one
    with pytest.raises(UserError, match=r"lyso/binary/fib1-1-0-3.nii.gz: label values \[0.5\] are not in the card"):
        UroCellAdapter().prepare(raw, tmp_path / "prep")
    assert not (tmp_path / "prep").exists()


def test_unreadable_file_is_one_line_error(tmp_path, urocell_layout):
    raw = tmp_path / "raw"
    urocell_layout(raw)
    (raw / "data" / "fib1-0-0-0.nii.gz").write_bytes(b"not a nifti file")
    with pytest.raises(UserError, match=r"data/fib1-0-0-0.nii.gz: cannot read") as info:
        UroCellAdapter().prepare(raw, tmp_path / "prep")
    assert "\n" not in str(info.value)


def test_missing_file_says_how_to_fetch(tmp_path, urocell_layout):
    raw = tmp_path / "raw"
    urocell_layout(raw)
    (raw / "mito" / "binary" / "fib1-4-3-0.nii.gz").unlink()
    with pytest.raises(UserError, match=r"fib1-4-3-0\.nii\.gz: missing; .*segrepro datasets fetch urocell"):
        UroCellAdapter().prepare(raw, tmp_path / "prep")


@pytest.mark.parametrize(("vid", "mito", "lyso"), [("fib1-0-0-0", 0.0302, 0.0294), ("fib1-3-3-0", 0.0636, 0.0007)])
def test_real_label_volume_matches_readme_fractions(vid, mito, lyso, mirror):
    """Foreground fractions of the mirrored real labels, against the numbers in its README."""
    label = read_label(mirror("urocell-labels"), vid)
    assert label.shape == (256, 256, 256)
    assert np.mean(label == 1) == pytest.approx(mito, abs=5e-5)
    assert np.mean(label == 2) == pytest.approx(lyso, abs=5e-5)


def test_urocell_nosm_is_the_same_data_without_the_segmentation_masks(tmp_path, urocell_layout):
    """The SM ablation as a dataset option: ``urocell-nosm`` trains on and scores every voxel."""
    from segrepro.datasets import get_dataset

    raw = tmp_path / "raw"
    urocell_layout(raw)
    with_sm = load_prepared("urocell", UroCellAdapter().prepare(raw, tmp_path / "sm"))
    adapter = get_dataset("urocell-nosm")
    assert adapter.card.name == "urocell-nosm" and adapter.card.extra["segmentation_masks"] is False
    without = load_prepared("urocell-nosm", UroCellAdapter(segmentation_masks=False).prepare(raw, tmp_path / "nosm"))
    for vid in UROCELL_IDS:
        (img, lab, msk), (img_n, lab_n, msk_n) = with_sm.load(vid), without.load(vid)
        np.testing.assert_array_equal(img_n, img)
        np.testing.assert_array_equal(lab_n, lab)
        assert np.asarray(msk).min() == 0 and np.all(np.asarray(msk_n) == 1)
