import numpy as np
import pytest

from segrepro.datasets.synthetic import generate, rotating_folds


@pytest.mark.parametrize("shape", [(96, 96), (24, 32, 32)])
def test_class_fractions_are_exact(shape):
    fractions = (0.1, 0.01, 0.001, 1e-4)
    _, label, _ = generate(shape, fractions, seed=3)
    n = int(np.prod(shape))
    counts = np.bincount(label.ravel(), minlength=5)
    for k, f in enumerate(fractions, start=1):
        assert counts[k] == max(round(f * n), 1)
    assert counts[0] == n - counts[1:].sum()


def test_deterministic_from_seed_and_seed_matters():
    a = generate((64, 64), (0.05, 0.01), seed=7, artefacts=True)
    b = generate((64, 64), (0.05, 0.01), seed=7, artefacts=True)
    c = generate((64, 64), (0.05, 0.01), seed=8, artefacts=True)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


def test_curtaining_lines_are_constant_and_masked():
    image, _, mask = generate((64, 64), (0.05,), seed=1, artefacts=True)
    masked_cols = np.flatnonzero(mask.min(axis=0) == 0)
    assert masked_cols.size >= 1
    for col in masked_cols:
        assert np.ptp(image[:, col]) == 0
    assert mask[:, np.setdiff1d(np.arange(64), masked_cols)].all()


def test_classes_differ_in_intensity():
    image, label, _ = generate((128, 128), (0.1, 0.1), seed=2, noise=0.05)
    means = [image[label == k].mean() for k in range(3)]
    assert means[0] > means[1] > means[2]


def test_rejects_impossible_fractions():
    with pytest.raises(ValueError):
        generate((16, 16), (0.7, 0.4), seed=0)


def test_rotating_folds_partition_every_id():
    ids = [f"i{k}" for k in range(10)]
    folds = rotating_folds(ids, 5)
    assert len(folds) == 5
    for f in folds:
        assert sorted(f.train + f.val + f.test) == sorted(ids)
    assert sorted(i for f in folds for i in f.test) == sorted(ids)


def test_sm_variants_of_synthetic_3d_differ_only_in_the_validity_mask(tmp_path):
    """Paper 004's SM ablation as a dataset option: the same volumes with its segmentation masks or none."""
    from segrepro.datasets import get_dataset, load_prepared
    from segrepro.datasets.masks import border_mask

    loaded = {}
    for name in ("synthetic-3d", "synthetic-3d-sm", "synthetic-3d-nosm"):
        data = load_prepared(name, get_dataset(name).prepare(tmp_path / "raw", tmp_path / name))
        loaded[name] = [data.load(v) for v in data.meta["volumes"][:2]]
    for (img, lab, msk), (img_sm, lab_sm, msk_sm), (img_no, lab_no, msk_no) in zip(*loaded.values(), strict=True):
        np.testing.assert_array_equal(img_sm, img)
        np.testing.assert_array_equal(img_no, img)
        np.testing.assert_array_equal(lab_sm, lab)
        np.testing.assert_array_equal(lab_no, lab)
        assert np.all(np.asarray(msk_no) == 1)
        msk, msk_sm = np.asarray(msk), np.asarray(msk_sm)
        assert (msk == 0).any() and np.all(msk_sm[msk == 0] == 0)  # the curtaining lines, found from intensities
        borders = border_mask(np.asarray(lab)) == 0
        assert borders.any() and np.all(msk_sm[borders] == 0) and msk[borders].mean() > 0.5  # borders: SM only
    assert get_dataset("synthetic-3d-nosm").card.description.endswith("unmasked (every voxel trained on and scored).")
