"""The sampling hook: batches are a pure function of (seed, index), the patch policies do what they say,
augmentation moves image, label and mask together, and DataLoader workers draw the same batches."""

import numpy as np
import pytest

from segrepro.augment import Augment, Augmenter
from segrepro.sampling import PatchSampler, Sampling, batches, make_train_volume


def volumes(n: int = 3, shape=(40, 40)) -> list:
    rng = np.random.default_rng(1)
    out = []
    for _ in range(n):
        label = np.zeros(shape, np.int64)
        label[5:8, 30:33] = 1  # small and off-centre: uniform windows rarely centre on it
        label[30, 5] = 2
        out.append(make_train_volume(rng.random(shape, np.float32), label, np.ones(shape), 3))
    return out


def test_batch_is_a_function_of_seed_and_index():
    a = PatchSampler(volumes(), (16, 16), Sampling(), seed=3, batch_size=4)
    b = PatchSampler(volumes(), (16, 16), Sampling(), seed=3, batch_size=4)
    for x, y in zip(a.batch(7), b.batch(7), strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.batch(7)[0], a.batch(8)[0])
    images, labels, masks = a.batch(0)
    assert images.shape == (4, 1, 16, 16) and labels.shape == masks.shape == (4, 16, 16)


def test_foreground_fraction_one_centres_every_patch_on_a_foreground_voxel():
    sampler = PatchSampler(volumes(), (9, 9), Sampling(fg_fraction=1.0), seed=0, batch_size=16)
    _, labels, _ = sampler.batch(0)
    assert (labels[:, 4, 4] > 0).all()


def test_class_probabilities_pick_the_class_a_window_is_centred_on():
    sampler = PatchSampler(volumes(), (9, 9), Sampling(class_probabilities=(0.0, 0.0, 1.0)), seed=0, batch_size=8)
    _, labels, _ = sampler.batch(5)
    assert (labels[:, 4, 4] == 2).all()
    uniform = PatchSampler(volumes(), (9, 9), Sampling(fg_fraction=0.0), seed=0, batch_size=64)
    assert (uniform.batch(5)[1][:, 4, 4] == 2).mean() < 0.2


@pytest.mark.parametrize(
    "bad", [{"fg_fraction": 1.5}, {"class_probabilities": (0.5, 0.2)}, {"class_probabilities": (1.0,)}]
)
def test_bad_sampling_is_refused(bad):
    with pytest.raises(ValueError):
        Sampling(**bad)


def test_patches_larger_than_the_volume_are_padded_with_masked_voxels():
    small = [make_train_volume(np.ones((10, 12), np.float32), np.ones((10, 12), np.int64), np.ones((10, 12)), 2)]
    images, _, masks = PatchSampler(small, (16, 16), Sampling(), seed=0, batch_size=2).batch(0)
    assert masks[:, :10, :12].all() and not masks[:, 10:].any() and not masks[:, :, 12:].any()
    assert images.shape == (2, 1, 16, 16)


@pytest.mark.parametrize("kind", ["flip", "rot90"])
def test_augmentation_moves_image_label_and_mask_together(kind):
    rng = np.random.default_rng(0)
    label = rng.integers(0, 4, (24, 24))
    mask = (rng.random((24, 24)) > 0.3).astype(np.float32)
    image = np.stack([label.astype(np.float32), mask])
    changed = False
    for seed in range(6):
        img, lab, msk = Augmenter((Augment(kind, 1.0),), 2)(image, label, mask, seed)
        np.testing.assert_array_equal(img[0], lab)
        np.testing.assert_array_equal(img[1], msk)
        changed |= not np.array_equal(lab, label)
    assert changed


def test_elastic_and_scaling_keep_label_values_and_mask_what_comes_from_outside():
    label = np.ones((3, 32, 32), np.int64)
    label[:, 10:20, 10:20] = 2
    image = label[None].astype(np.float32)
    aug = Augmenter((Augment("elastic", 1.0), Augment("scale", 1.0, {"amount": 0.3})), 3)
    outs = [aug(image, label, np.ones(label.shape, np.float32), seed) for seed in range(4)]
    for img, lab, msk in outs:
        assert img.shape == (1, 3, 32, 32) and lab.shape == msk.shape == (3, 32, 32)
        assert set(np.unique(lab)) <= {0, 1, 2}
        assert set(np.unique(msk)) <= {0.0, 1.0}
        assert (lab[msk > 0] > 0).all()  # only voxels from outside the patch got label 0, and they are masked
    assert any(not np.array_equal(o[1], label) for o in outs)
    assert any((o[2] == 0).any() for o in outs)  # zooming out brought in voxels from outside, masked


def test_unknown_augmentation_is_refused():
    with pytest.raises(ValueError, match="unknown augmentation"):
        Augment("blur")


@pytest.mark.slow
def test_dataloader_workers_draw_the_same_batches():
    sampler = PatchSampler(volumes(), (16, 16), Sampling(augment=(Augment("flip"), Augment("elastic"))), 0, 4)
    serial = list(batches(sampler, 1, 7, workers=0))
    parallel = list(batches(sampler, 1, 7, workers=2))
    assert len(serial) == len(parallel) == 6
    for a, b in zip(serial, parallel, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
