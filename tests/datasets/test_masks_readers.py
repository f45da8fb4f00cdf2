"""Paper 004's segmentation masks (hand-counted cases) and the shared readers' one-line errors."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from segrepro.datasets import ClassSpec
from segrepro.datasets.masks import artefact_line_mask, border_mask, segmentation_mask
from segrepro.datasets.readers import map_labels, random_halves_folds, read_array, read_slice, resize2d
from segrepro.errors import UserError


def test_constant_line_along_any_axis_is_masked():
    img = np.random.default_rng(0).integers(0, 256, (8, 9, 10)).astype(np.float32)
    img[3, 4, :] = 5.0  # a line along the last axis
    img[:, 0, 2] = 200.0  # a line along the first axis
    mask = artefact_line_mask(img)
    assert int(mask.size - mask.sum()) == 10 + 8  # the two lines do not cross
    assert not mask[3, 4, :].any() and not mask[:, 0, 2].any()


def test_nearly_constant_line_follows_the_threshold():
    img = np.random.default_rng(1).random((6, 50)).astype(np.float32)
    img[2] = 0.5 + 0.004 * np.sin(np.arange(50))  # std about 0.003 on the [0, 1] scale
    assert not artefact_line_mask(img, threshold=1e-2)[2].any()
    assert artefact_line_mask(img, threshold=1e-3)[2].all()


def test_border_band_of_a_cube_by_hand():
    label = np.zeros((10, 10, 10), np.uint8)
    label[3:7, 3:7, 3:7] = 1  # 4^3 cube
    # width 1: dilation adds 6 faces of 4x4 = 96 voxels, erosion keeps the inner 2^3 = 8.
    assert int((border_mask(label, 1) == 0).sum()) == 96 + 64 - 8
    assert border_mask(label, 0).all()


def test_object_touching_the_volume_face_is_not_masked_at_the_face():
    label = np.zeros((6, 6), np.uint8)
    label[:, :3] = 2
    band = border_mask(label, 1) == 0
    assert band[:, 2].all() and band[:, 3].all() and not band[:, :2].any() and not band[:, 4:].any()


def test_segmentation_mask_combines_both():
    img = np.random.default_rng(2).random((8, 8)).astype(np.float32)
    img[0] = 0.3
    label = np.zeros((8, 8), np.uint8)
    label[4:6, 4:6] = 1
    m = segmentation_mask(img, label, width=1)
    assert not m[0].any() and not m[4, 4] and m[7, 0]


def test_map_labels_any_dtype_and_ignore():
    classes = (ClassSpec("bg", (0,)), ClassSpec("fg", (255, 1)))
    for dtype in (np.float64, np.uint8, np.int32):
        raw = np.array([[0, 1, 255], [3, 0, 1]], dtype=dtype)
        label, mask = map_labels(raw, classes, "f", ignore=(3,))
        np.testing.assert_array_equal(label, [[0, 1, 1], [0, 0, 1]])
        np.testing.assert_array_equal(mask, [[1, 1, 1], [0, 1, 1]])
    with pytest.raises(UserError, match=r"f: label values \[nan\] are not in the card"):
        map_labels(np.array([0.0, np.nan]), classes, "f")


def test_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG broken")
    with pytest.raises(UserError, match=r"x\.png: cannot read") as info:
        read_array(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="file not found"):
        read_array(tmp_path / "none.tif")
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(UserError, match="unsupported file type"):
        read_array(tmp_path / "a.jpg")


def test_npy_is_read_as_stored_and_squeezed_only_when_asked(tmp_path):
    arr = np.arange(12, dtype=np.int16).reshape(1, 3, 4)
    np.save(tmp_path / "a.npy", arr)
    np.testing.assert_array_equal(read_array(tmp_path / "a.npy"), arr[0])
    got = read_array(tmp_path / "a.npy", squeeze=False)
    assert got.shape == (1, 3, 4) and got.dtype == np.int16
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(UserError, match=r"o\.npy: cannot read"):  # pickled objects are refused
        read_array(tmp_path / "o.npy")


def test_colour_png_becomes_grey_and_palette_png_gives_indices(tmp_path):
    Image.fromarray(np.full((4, 5, 3), 100, np.uint8)).save(tmp_path / "c.png")
    assert read_array(tmp_path / "c.png").shape == (4, 5)
    pal = Image.fromarray(np.array([[0, 1], [2, 1]], np.uint8), mode="P")
    pal.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    pal.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_array(tmp_path / "p.png"), [[0, 1], [2, 1]])


def test_resize_nearest_keeps_label_values_and_bilinear_smooths():
    lab = np.kron(np.array([[0, 3], [5, 1]], np.uint8), np.ones((4, 4), np.uint8))
    small = resize2d(lab, (4, 4), nearest=True)
    assert small.dtype == np.uint8 and set(np.unique(small)) == {0, 1, 3, 5}
    assert resize2d(np.arange(16, dtype=np.float32).reshape(4, 4), (8, 8), nearest=False).shape == (8, 8)


def test_random_halves_are_50_50_and_differ_between_folds():
    ids = [f"i{k}" for k in range(20)]
    folds = random_halves_folds(ids, 5, 0.1)
    for f in folds:
        assert len(f.test) == 10 and len(f.val) == 1 and len(f.train) == 9
        assert sorted(f.train + f.val + f.test) == sorted(ids)
    assert len({f.test for f in folds}) == 5


def test_label_slices_in_colour_are_refused_and_grey_rgb_gives_values(tmp_path):
    grey = np.array([[0, 255], [128, 3]], np.uint8)
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(tmp_path / "grey.png")
    tifffile.imwrite(tmp_path / "grey.tif", np.stack([grey] * 3, axis=-1))
    for name in ("grey.png", "grey.tif"):
        np.testing.assert_array_equal(read_slice(tmp_path / name, labels=True), grey)  # exact values
    colour = np.stack([grey, grey // 2, grey], axis=-1)
    Image.fromarray(colour).save(tmp_path / "colour.png")
    tifffile.imwrite(tmp_path / "colour.tif", colour)
    for name in ("colour.png", "colour.tif"):
        with pytest.raises(UserError, match=rf"{name}: a colour \(RGB\) label image"):
            read_slice(tmp_path / name, labels=True)
    assert read_slice(tmp_path / "colour.png").shape == (2, 2)  # an image is still converted to grey
