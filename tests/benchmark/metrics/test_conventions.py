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


def slow_dice(images, per_image, undefined, skip_empty, present_only=False):
    """Dice per class the obvious way: filter images, score each with sklearn (or pool), fill, average
    (with ``present_only``, class k over the images whose ground truth has k)."""
    fill = {"zero": 0.0, "one": 1.0}.get(undefined)
    kept = [(p[m], t[m]) for p, t, m in images if m.any() and (not skip_empty or (t[m] > 0).any())]
    if present_only:
        return np.array([slow_dice_of_class(kept, k, fill, undefined) for k in range(K)])
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


def slow_dice_of_class(kept, k, fill, undefined):
    values = []
    for p, t in kept:
        if (t == k).any():
            d = precision_recall_fscore_support(t == k, p == k, average="binary", zero_division=np.nan)[2]
            values.append(d if fill is None or np.isfinite(d) else fill)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.mean(values) if undefined == "nan" else np.nanmean(values) if values else np.nan


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("undefined", ["exclude", "zero", "nan"])
def test_present_only_scores_each_class_on_the_images_that_contain_it(seed, undefined):
    images = random_images(seed)
    conv = Convention("t", "test", per_image=True, undefined=undefined, skip_empty=True, present_only=True)
    counts = np.stack([confusion_counts(p, t, K, m) for p, t, m in images])
    ours = conv.scores(counts)["dice"]
    np.testing.assert_allclose(ours, slow_dice(images, True, undefined, True, True), atol=1e-12, equal_nan=True)


def rare_class_test_set():
    """Eight 16x16 images with 6 classes (0 = background): classes 1-2 in most images, 3 in three,
    4 in two, 5 (the rarest, like the paper's peroxisome) in one; one image has no foreground at all."""
    rng = np.random.default_rng(0)
    targets = []
    for i in range(8):
        t = np.zeros((16, 16), np.int64)
        t[2:10, 2:10] = 1
        if i % 4:
            t[10:14, 10:14] = 2
        for cls, images in ((3, (0, 1, 2)), (4, (2, 5)), (5, (6,))):
            if i in images:
                y, x = rng.integers(0, 13, 2)
                t[y : y + 3, x : x + 3] = cls
        if i == 7:
            t[:] = 0
        targets.append(t)
    return targets


def test_yudistira2020_perfect_prediction_scores_one_on_every_present_class():
    """Paper 000's convention: a perfect prediction scores 1 on every class present, however rare."""
    from segrepro.metrics.evaluate import RunEvaluation

    names = ["background", "cytoplasm", "plastid", "nucleus", "mitochondrion", "peroxisome"]
    conv = get_convention("yudistira2020")
    ev = RunEvaluation(6, conv)
    for i, t in enumerate(rare_class_test_set()):
        probs = np.eye(6, dtype=np.float32)[t].transpose(2, 0, 1)
        ev.add(f"img{i}", probs, t, t, None, decisions=probs > 0.5)
    paper = ev.record_metrics(names)["paper"]
    for cls in names[1:]:
        for metric in ("precision", "recall", "dice", "tnr", "auc"):
            assert paper["per_class"][cls][metric] == 1.0, (cls, metric)
    # The earlier reading (absent class = 0 in every image without it) could not reach 1 on a rare class.
    earlier = Convention("old", "old", per_image=True, undefined="zero", skip_empty=True)
    counts = np.stack([confusion_counts(t, t, 6) for t in rare_class_test_set()])
    assert earlier.scores(counts)["recall"][5] == pytest.approx(1 / 7)


def test_multi_label_counts_and_thresholded_auc():
    """Each class channel is thresholded on its own: a voxel decided for two classes counts for both; a
    class never predicted in an image that has it scores recall 0, precision 0 and AUC exactly 0.5."""
    from segrepro.metrics.confusion import multilabel_counts
    from segrepro.metrics.evaluate import RunEvaluation

    rng = np.random.default_rng(1)
    t = rng.integers(0, 3, (12, 12))
    d = np.stack([t == k for k in range(3)])
    d[2] = False  # class 2 never decided
    d[1, :2] = True  # overlaps: rows 0-1 decided class 1 as well as their own class
    mask = rng.random(t.shape) < 0.9
    ours = multilabel_counts(d, t, mask)
    for k in range(3):
        cm = confusion_matrix_binary(t[mask] == k, d[k][mask])
        np.testing.assert_array_equal(ours[k], cm)
    ev = RunEvaluation(3, get_convention("yudistira2020"))
    ev.add("img", np.ones((3, 12, 12), np.float32) / 3, t, t, mask, decisions=d)
    paper = ev.record_metrics(["bg", "a", "b"])["paper"]["per_class"]
    assert paper["b"]["recall"] == 0.0 and paper["b"]["precision"] == 0.0 and paper["b"]["auc"] == 0.5
    tpr, tnr = ours[1, 0] / (ours[1, 0] + ours[1, 2]), ours[1, 3] / (ours[1, 3] + ours[1, 1])
    assert paper["a"]["auc"] == pytest.approx((tpr + tnr) / 2) and paper["a"]["precision"] < 1.0


def confusion_matrix_binary(truth, decided):
    from sklearn.metrics import confusion_matrix

    tn, fp, fn, tp = confusion_matrix(truth, decided, labels=[False, True]).ravel()
    return [tp, fp, fn, tn]


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
    with pytest.raises(ValueError, match="auc must be"):
        Convention("x", "x", auc="pr")
    assert {"canonical", "yudistira2020", "fujii2021", "meyer2021", "zerovnik2020"} <= set(CONVENTIONS)
    for conv in CONVENTIONS.values():
        assert conv.description and conv.to_dict()["name"] == conv.name
