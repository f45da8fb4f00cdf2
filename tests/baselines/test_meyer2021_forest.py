"""Paper 003's ilastik-style forest: the filter bank against scipy / scikit-image, chunked features equal
whole-volume ones, and the forest entry through fit -> predict -> score on synthetic data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.feature import hessian_matrix, hessian_matrix_eigvals

from segrepro import paths
from segrepro.baselines import get_baseline
from segrepro.baselines.meyer2021.features import SIGMAS, feature_chunks, feature_names, features
from segrepro.baselines.meyer2021.forest import IlastikForest
from segrepro.checkpoint import load_checkpoint
from segrepro.datasets import get_dataset
from segrepro.protocol import RunSpec, execute


def image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), 1.5).astype(np.float32) * 10


def channel(f: np.ndarray, ndim: int, name: str) -> np.ndarray:
    return f[feature_names(ndim).index(name)]


def test_feature_count_and_names():
    assert len(feature_names(2)) == 7 + 6 * 7 == 49
    assert len(feature_names(3)) == 7 + 6 * 9 == 61
    img = image((40, 48))
    assert features(img).shape == (49, 40, 48)


def test_features_match_scipy_and_skimage_filters_2d():
    img = image((64, 72))
    f = features(img)
    for s in SIGMAS:
        np.testing.assert_allclose(channel(f, 2, f"gaussian σ={s}"), ndimage.gaussian_filter(img, s), atol=1e-5)
    for s in (0.7, 1.6, 5.0):
        np.testing.assert_allclose(channel(f, 2, f"laplacian σ={s}"), ndimage.gaussian_laplace(img, s), atol=1e-4)
        ggm = ndimage.gaussian_gradient_magnitude(img, s)
        np.testing.assert_allclose(channel(f, 2, f"gradient magnitude σ={s}"), ggm, atol=1e-4)
        dog = ndimage.gaussian_filter(img, s) - ndimage.gaussian_filter(img, 0.66 * s)
        np.testing.assert_allclose(channel(f, 2, f"dog σ={s}"), dog, atol=1e-4)
        # ilastik (VIGRA) filters with the sampled second derivatives of the Gaussian at σ, as scipy does
        hyy, hyx, hxx = (ndimage.gaussian_filter(img, s, order=o) for o in ((2, 0), (1, 1), (0, 2)))
        eig = np.linalg.eigvalsh(np.stack([np.stack([hyy, hyx], -1), np.stack([hyx, hxx], -1)], -2))[..., ::-1]
        for i in range(2):
            np.testing.assert_allclose(channel(f, 2, f"hessian λ{i} σ={s}"), eig[..., i], atol=1e-4)
    for s in (3.5, 5.0):  # skimage composes two first derivatives at σ/√2: the same operator at large σ
        eig = hessian_matrix_eigvals(hessian_matrix(img, s, order="rc", use_gaussian_derivatives=True, mode="reflect"))
        for i in range(2):
            got, want = channel(f, 2, f"hessian λ{i} σ={s}")[20:-20, 20:-20], eig[i][20:-20, 20:-20]  # borders differ
            np.testing.assert_allclose(got, want, atol=2e-2 * float(np.abs(eig).max()))


def test_structure_tensor_eigenvalues_are_those_of_the_smoothed_gradient_products():
    img = image((50, 50), seed=3)
    s = 1.6
    gy = ndimage.gaussian_filter(img, s, order=(1, 0))
    gx = ndimage.gaussian_filter(img, s, order=(0, 1))
    tensor = np.stack(
        [
            np.stack([ndimage.gaussian_filter(gy * gy, s / 2), ndimage.gaussian_filter(gy * gx, s / 2)], -1),
            np.stack([ndimage.gaussian_filter(gx * gy, s / 2), ndimage.gaussian_filter(gx * gx, s / 2)], -1),
        ],
        -2,
    )
    expected = np.linalg.eigvalsh(tensor)[..., ::-1]  # descending
    f = features(img)
    for i in range(2):
        got = channel(f, 2, f"structure tensor λ{i} σ={s}")
        np.testing.assert_allclose(got, expected[..., i], rtol=1e-3, atol=1e-3 * float(np.abs(expected).max()))
    assert (channel(f, 2, f"structure tensor λ1 σ={s}") >= -1e-3).all()  # positive semi-definite


def test_3d_features_match_scipy_and_chunks_equal_the_whole_volume():
    vol = image((40, 24, 28), seed=1)
    sigmas = (0.3, 1.0, 3.5)
    whole = features(vol, sigmas)
    assert whole.shape == (len(feature_names(3, sigmas)), 40, 24, 28)
    np.testing.assert_allclose(
        whole[feature_names(3, sigmas).index("laplacian σ=3.5")], ndimage.gaussian_laplace(vol, 3.5), atol=1e-4
    )
    slabs = list(feature_chunks(vol, chunk=7, sigmas=sigmas))
    assert [s.start for s, _ in slabs] == list(range(0, 40, 7))
    stitched = np.concatenate([f for _, f in slabs], axis=1)
    np.testing.assert_allclose(stitched, whole, atol=1e-4)


def test_forest_learns_a_separable_texture_and_covers_absent_classes():
    rng = np.random.default_rng(0)
    img = np.zeros((64, 64), np.float32)
    img[:, 32:] = 5.0
    img += rng.normal(0, 0.5, img.shape).astype(np.float32)
    lab = (np.arange(64)[None, :] >= 32).repeat(64, 0).astype(np.uint8)
    mask = np.ones_like(lab)
    forest = IlastikForest(sigmas=(0.3, 1.0))
    fitted = forest.fit([("a", img[None], lab, mask)], 3, {"n_estimators": 5, "samples_per_class": 300}, 0, False)
    probs = forest.predict(fitted, img[None])
    assert probs.shape == (3, 64, 64)
    assert (probs[2] == 0).all()  # class 2 never seen: probability 0, not a shifted column
    assert (probs.argmax(0) == lab).mean() > 0.95
    assert forest.size(fitted) > 5


def test_entry_is_a_method_not_a_network():
    entry = get_baseline("meyer2021-ilastik")
    assert entry.method is not None and entry.model is None and entry.loss is None
    assert entry.card()["method"] and entry.reconstructions
    with pytest.raises(TypeError, match="not a network"):
        entry.build_model(["a", "b"], 2, "smoke")


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["synthetic-2d", "synthetic-3d"])
def test_forest_smoke_run(workdir, dataset):
    get_dataset(dataset).prepare(paths.raw_dir(dataset), paths.prepared_dir(dataset))
    spec = RunSpec(dataset, "meyer2021-ilastik")
    record = execute(spec, progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert record["metrics"]["paper_convention"] == "meyer2021"
    assert record["n_parameters"] > 0 and record["best_iteration"] is None
    ckpt = load_checkpoint(paths.checkpoint_path(spec.run_id))
    assert ckpt["finished"] and ckpt["entry"] == "meyer2021-ilastik" and isinstance(ckpt["state"]["fitted"], bytes)
