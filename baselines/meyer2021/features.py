"""ilastik's default pixel-classification filter bank, 2-D and 3-D, computed in chunks.

Filters (ilastik's names) at σ = 0.3, 0.7, 1.0, 1.6, 3.5, 5.0, 10.0: Gaussian smoothing (every σ); from
σ = 0.7 on (ilastik offers no other filter at 0.3), Laplacian of Gaussian, Gaussian gradient magnitude,
difference of Gaussians (G(σ) - G(0.66 σ), ilastik's ratio), structure-tensor eigenvalues (gradients at
inner scale σ, tensor smoothed at outer scale σ / 2, ilastik's convention) and Hessian-of-Gaussian
eigenvalues. Eigenvalues are in descending order. 2-D: 7 + 6 x 7 = 49 features; 3-D: 7 + 6 x 9 = 61.
Built on ``scipy.ndimage`` filters and scikit-image's eigenvalue routines (reflect borders, truncate 4 σ).

A 256³ volume has 61 x 64 MiB = 3.8 GiB of float32 features: ``feature_chunks`` yields them slab by slab
along the first axis (each slab computed on a halo wide enough for the largest filter, then cropped), so a
caller that consumes each slab (the forest predicts it) holds one slab's features at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

SIGMAS = (0.3, 0.7, 1.0, 1.6, 3.5, 5.0, 10.0)
DOG_RATIO = 0.66
TRUNCATE = 4.0


def feature_names(ndim: int, sigmas: tuple[float, ...] = SIGMAS) -> list[str]:
    """One name per feature channel, in the order ``features`` stacks them."""
    names = []
    for s in sigmas:
        names.append(f"gaussian σ={s}")
        if s < 0.7:
            continue
        names += [f"laplacian σ={s}", f"gradient magnitude σ={s}", f"dog σ={s}"]
        names += [f"structure tensor λ{i} σ={s}" for i in range(ndim)]
        names += [f"hessian λ{i} σ={s}" for i in range(ndim)]
    return names


def _gauss(image: np.ndarray, sigma: float, order: list[int] | int = 0) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(image, sigma, order=order, mode="reflect", truncate=TRUNCATE)


def _derivative_orders(ndim: int, axes: tuple[int, ...]) -> list[int]:
    order = [0] * ndim
    for a in axes:
        order[a] += 1
    return order


def features(image: np.ndarray, sigmas: tuple[float, ...] = SIGMAS, keep: slice = slice(None)) -> np.ndarray:
    """``(n_features, *image[keep].shape)`` float32 features of a 2-D or 3-D ``image`` (see the module doc),
    each cropped to ``keep`` (along the first axis) as soon as it is computed."""
    from scipy import ndimage  # imported here: listing the entries stays fast
    from skimage.feature import hessian_matrix_eigvals, structure_tensor_eigenvalues

    img = np.asarray(image, dtype=np.float32)
    nd = img.ndim
    if nd not in (2, 3):
        raise ValueError(f"features take a 2-D or 3-D image, not {img.shape}")
    out: list[np.ndarray] = []
    pairs = [(i, j) for i in range(nd) for j in range(i, nd)]  # upper triangle, skimage's element order

    def add(*arrays: np.ndarray) -> None:
        out.extend(np.ascontiguousarray(a[keep]) for a in arrays)

    for s in sigmas:
        smooth = _gauss(img, s)
        add(smooth)
        if s < 0.7:
            continue
        add(ndimage.gaussian_laplace(img, s, mode="reflect", truncate=TRUNCATE))
        add(ndimage.gaussian_gradient_magnitude(img, s, mode="reflect", truncate=TRUNCATE))
        add(smooth - _gauss(img, DOG_RATIO * s))
        grads = [_gauss(img, s, _derivative_orders(nd, (a,))) for a in range(nd)]
        tensor = [_gauss(grads[i] * grads[j], s / 2) for i, j in pairs]
        del grads
        add(*structure_tensor_eigenvalues(tensor))
        del tensor
        hessian = [_gauss(img, s, _derivative_orders(nd, (i, j))) for i, j in pairs]
        add(*hessian_matrix_eigvals(hessian))
        del hessian
    return np.stack(out).astype(np.float32, copy=False)


def halo(sigmas: tuple[float, ...] = SIGMAS) -> int:
    """Voxels of context a filter at the largest σ reads on each side (structure tensor: inner + outer)."""
    s = max(sigmas)
    return math.ceil(TRUNCATE * s) + math.ceil(TRUNCATE * s / 2) + 1


def feature_chunks(
    image: np.ndarray, chunk: int = 32, sigmas: tuple[float, ...] = SIGMAS
) -> Iterator[tuple[slice, np.ndarray]]:
    """``(slab, features of image[slab])`` for consecutive slabs of ``chunk`` planes along the first axis
    of a 3-D ``image`` (2-D images come whole), equal to the slabs of ``features(image)``: each slab is
    computed with ``halo`` planes of context on each side (clipped at the volume's faces, where the reflect
    border is the volume's own)."""
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 2:
        yield slice(0, img.shape[0]), features(img, sigmas)
        return
    h, n = halo(sigmas), img.shape[0]
    for z in range(0, n, chunk):
        lo, hi = max(0, z - h), min(n, z + chunk + h)
        stop = min(n, z + chunk)
        yield slice(z, stop), features(img[lo:hi], sigmas, slice(z - lo, stop - lo))
