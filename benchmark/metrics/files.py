"""Read users' label, mask and probability files (``.npy``, ``.tif``/``.tiff``, ``.nii``/``.nii.gz``) and
check that they fit, with one-line ``UserError`` messages that name the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segrepro.errors import UserError

SUFFIXES = (".npy", ".tif", ".tiff", ".nii", ".nii.gz")


def read_array(path: Path) -> np.ndarray:
    """The array stored in ``path``, by its suffix."""
    path = Path(path)
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise UserError(f"{path}: unsupported file type; use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        if name.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        if name.endswith((".tif", ".tiff")):
            import tifffile

            return tifffile.imread(path)
        import nibabel

        return np.asanyarray(nibabel.load(path).dataobj)
    except Exception as exc:  # any reader failure becomes one line naming the file
        raise UserError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc


def read_labels(path: Path, n_classes: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Integer class ids in ``[0, n_classes)``, of ``shape`` when given."""
    arr = read_array(path)
    if shape is not None and arr.shape != shape:
        raise UserError(f"{path}: shape {arr.shape} does not match the target's {shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    elif not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise UserError(f"{path}: labels must be integer class ids, found {arr.dtype} values that are not")
        arr = arr.astype(np.int64)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= n_classes:
            raise UserError(
                f"{path}: class ids range over [{lo}, {hi}], outside [0, {n_classes - 1}] for --n-classes {n_classes}"
            )
    return arr


def read_mask(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean validity mask of ``shape``: 1 (or True) where scored, 0 elsewhere."""
    arr = read_array(path)
    if arr.shape != shape:
        raise UserError(f"{path}: mask shape {arr.shape} does not match the target's {shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise UserError(f"{path}: a mask must hold only 0 and 1")
    return arr.astype(bool)


def read_probs(path: Path, n_classes: int, shape: tuple[int, ...]) -> np.ndarray:
    """Channel-first class scores ``(K, *shape)``, finite."""
    arr = read_array(path)
    if arr.shape != (n_classes, *shape):
        raise UserError(
            f"{path}: probabilities have shape {arr.shape}, expected {(n_classes, *shape)} "
            "(channel first, one channel per class)"
        )
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
        raise UserError(f"{path}: probabilities must be finite numbers")
    return arr
