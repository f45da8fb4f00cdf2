"""Paper 002's post-processing hooks: training-class probabilities → instances and the dataset's classes.

Both assume the dataset's classes are background (0) and cell (1), as on every instance dataset here; the
scores handed on for AUC are (background + gap, 1 - that).

- ``MAPInstances`` (authors' code): b = z_bg + z_gap; background where b > 0.5; touching where (argmax is
  cell and z_touch > 0.1) or z_touch > 0.5; instances = connected components of the remaining cell voxels,
  grown into touching voxels by repeated 3x3 maximum filters.
- ``WatershedInstances`` (WT): markers are components of z_cell > ``marker_threshold`` with at least
  ``min_marker_size`` voxels, flooded by scikit-image's watershed over b inside the foreground (b <= 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from segrepro.baselines.guerrero2020.targets import BACKGROUND, CELL, GAP, TOUCHING
from segrepro.metrics.instances import drop_small
from segrepro.postprocess import Prediction

if TYPE_CHECKING:  # listing entries imports no torch
    import torch


def background_score(z: np.ndarray) -> np.ndarray:
    """b = z_bg + z_gap (gap merged into background; J3 has no gap channel), at most 1: float32 softmax
    outputs may sum to a hair above 1, and b and 1 - b are the scored probabilities."""
    return np.minimum(z[BACKGROUND] + (z[GAP] if z.shape[0] > GAP else 0.0), 1.0)


def grow_into(instances: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Grow labels into ``allowed`` unlabelled voxels by repeated 3x3(x3) maximum filters until nothing changes."""
    out = instances.copy()
    todo = allowed & (out == 0)
    while todo.any():
        grown = ndimage.maximum_filter(out, size=3)
        reached = todo & (grown > 0)
        if not reached.any():
            break
        out[reached] = grown[reached]
        todo &= ~reached
    return out


def map_instances(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(foreground, instances)`` of one image from its training-class probabilities ``(K, *spatial)``."""
    b = background_score(z)
    foreground = b <= 0.5
    cell_wins = z.argmax(axis=0) == CELL
    touching = foreground & ((cell_wins & (z[TOUCHING] > 0.1)) | (z[TOUCHING] > 0.5))
    cores, _ = ndimage.label(foreground & ~touching)
    return foreground, grow_into(cores.astype(np.int32), touching)


def to_prediction(z: np.ndarray, foreground: np.ndarray, instances: np.ndarray) -> Prediction:
    b = background_score(z)
    scores = np.stack([b, 1.0 - b]).astype(np.float32)
    return Prediction(foreground.astype(np.int64), scores, instances.astype(np.int32))


@dataclass(frozen=True)
class MAPInstances:
    """MAP post-processing (parameter-free)."""

    def __call__(self, probs: torch.Tensor, decided: torch.Tensor) -> list[Prediction]:
        out = []
        for z in probs.detach().cpu().numpy():
            foreground, instances = map_instances(z)
            out.append(to_prediction(z, foreground, instances))
        return out


@dataclass(frozen=True)
class WatershedInstances:
    """Watershed (WT) post-processing with its two parameters."""

    marker_threshold: float = 0.8
    min_marker_size: int = 10

    def __call__(self, probs: torch.Tensor, decided: torch.Tensor) -> list[Prediction]:
        from skimage.segmentation import watershed

        out = []
        for z in probs.detach().cpu().numpy():
            b = background_score(z)
            foreground = b <= 0.5
            markers = drop_small(ndimage.label(z[CELL] > self.marker_threshold)[0], self.min_marker_size)
            instances = watershed(b, markers, mask=foreground)
            out.append(to_prediction(z, foreground, instances))
        return out
