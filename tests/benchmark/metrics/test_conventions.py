"""Conventions against a slow per-image reference built on scikit-learn, and the registry's contract."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from segrepro.baselines import BASELINES
from segrepro.errors import UserError
from segrepro.metrics import CONVENTIONS, Convention, confusion_counts, get_convention
from segrepro.metrics.conventions import register_convention

K = 4


def random_images(seed, n=6):
    rng = np.random.default_rng(seed)
    images = []
    for i in range(n):
        shape = (int(rng.integers(3, 9)), int(rng.integers(3, 9)))
        used = int(rng.integers(1, K + 1))  # some images lack classes, some have no foreground
        t = rng.integers(0, used, shape)
        p = np.where(rng.random(shape) < 0.7, t, rng.integers(0, used, shape))
        m = np.zeros(shape, bool) if i == 0 else rng.random(shape) < 0.8  # one all-masked image
        images.append((p, t, m))
    return images


def slow_dice(images, per_image, undefined, skip_empty):
    """Dice per class the obvious way: filter images, score each with sklearn (or pool), fill, average."""
    fill = {"zero": 0.0, "one": 1.0}.get(undefined)
    kept = [(p[m], t[m]) for p, t, m in images if m.any() and (not skip_empty or (t[m] > 0).any())]
    if not per_image:
        p = np.concatenate([a for a, _ in kept])
        t = np.concatenate([b for _, b in kept])
        d = precision_recall_fscore_support(t, p, labels=range(K), zero_division=np.nan)[2]
        return d if fill is None else np.where(np.isnan(d), fill, d)
    rows = []
    for p, t in kept:
        d = precision_recall_fscore_support(t, p, labels=range(K), zero_division=np.nan)[2]
        rows.append(d if fill is None else np.where(np.isnan(d), fill, d))
    rows = np.array(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return rows.mean(0) if undefined == "nan" else np.nanmean(rows, 0)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("undefined", ["exclude", "zero", "one", "nan"])
@pytest.mark.parametrize("skip_empty", [False, True])
def test_convention_matches_slow_reference(seed, per_image, undefined, skip_empty):
    images = random_images(seed)
    conv = Convention("t", "test", per_image=per_image, undefined=undefined, skip_empty=skip_empty)
    counts = np.stack([confusion_counts(p, t, K, m) for p, t, m in images])
    ours = conv.scores(counts)["dice"]
    np.testing.assert_allclose(ours, slow_dice(images, per_image, undefined, skip_empty), atol=1e-12, equal_nan=True)
    fg = ours[1:]
    expected = fg.mean() if undefined == "nan" else (np.nanmean(fg) if np.isfinite(fg).any() else np.nan)
    np.testing.assert_allclose(conv.class_mean(ours), expected, equal_nan=True)
    np.testing.assert_allclose(
        conv.class_mean(ours, include_background=True), _mean_all(ours, undefined), equal_nan=True
    )


def _mean_all(v, undefined):
    if undefined == "nan":
        return v.mean()
    return np.nanmean(v) if np.isfinite(v).any() else np.nan


def test_slice_convention_scores_each_slice():
    from segrepro.metrics.evaluate import evaluate_arrays

    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, (4, 10, 10))
    p = np.where(rng.random(t.shape) < 0.7, t, rng.integers(0, 3, t.shape))
    out = evaluate_arrays(t, p, 3, convention=get_convention("meyer2021"))
    per_slice = [precision_recall_fscore_support(t[z].ravel(), p[z].ravel(), labels=range(3))[2] for z in range(4)]
    np.testing.assert_allclose([out["per_class"][str(c)]["dice"] for c in range(3)], np.mean(per_slice, 0))


def test_every_registered_baseline_names_a_registered_convention():
    for entry_id, entry in BASELINES:
        assert entry.convention in CONVENTIONS, f"{entry_id} names unknown convention {entry.convention!r}"


def test_registry_is_strict_and_helpful():
    with pytest.raises(ValueError, match="already registered"):
        register_convention(Convention("canonical", "again"))
    with pytest.raises(UserError, match="did you mean 'zerovnik2020'"):
        get_convention("zerovnik")
    with pytest.raises(ValueError, match="undefined"):
        Convention("x", "x", undefined="maybe")
    assert {"canonical", "yudistira2020", "fujii2021", "meyer2021", "zerovnik2020"} <= set(CONVENTIONS)
    for conv in CONVENTIONS.values():
        assert conv.description and conv.to_dict()["name"] == conv.name
