"""Read users' label, mask and probability files (``.npy``, ``.tif``/``.tiff``, ``.png``, ``.nii``/``.nii.gz``,
through the one reader of ``segrepro.datasets.readers``) and check that they fit, with one-line ``UserError``
messages that name the file and the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segrepro.datasets import readers
from segrepro.errors import UserError


def read_labels(path: Path, n_classes: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Integer class ids in ``[0, n_classes)``, of ``shape`` when given."""
    arr = readers.read_array(Path(path), squeeze=False)  # as stored: shapes are compared as the user saved them
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


def read_instances(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Instance labels of ``shape``: non-negative integers, 0 = no instance, each other id one object."""
    arr = readers.read_array(Path(path), squeeze=False)
    if arr.shape != shape:
        raise UserError(f"{path}: instance labels shape {arr.shape} does not match the target's {shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise UserError(f"{path}: instance labels must be integers, found {arr.dtype}")
    if arr.size and int(arr.min()) < 0:
        raise UserError(f"{path}: instance labels must be non-negative (0 = no instance)")
    return arr


def read_mask(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean validity mask of ``shape``: 1 (or True) where scored, 0 elsewhere."""
    arr = readers.read_array(Path(path), squeeze=False)
    if arr.shape != shape:
        raise UserError(f"{path}: mask shape {arr.shape} does not match the target's {shape}")
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise UserError(f"{path}: a mask must hold only 0 and 1")
    return arr.astype(bool)


def read_probs(path: Path, n_classes: int, shape: tuple[int, ...]) -> np.ndarray:
    """Channel-first class scores ``(K, *shape)``, finite."""
    arr = readers.read_array(Path(path), squeeze=False)
    if arr.shape != (n_classes, *shape):
        raise UserError(
            f"{path}: probabilities have shape {arr.shape}, expected {(n_classes, *shape)} "
            "(channel first, one channel per class)"
        )
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
        raise UserError(f"{path}: probabilities must be finite numbers")
    return arr
