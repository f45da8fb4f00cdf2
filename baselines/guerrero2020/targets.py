"""Paper 002's target transform: instance labels → background / cell / touching / gap.

touching = labelled voxels with a different non-zero label inside a ``(2k+1)^d`` window, dilated by a
disk (ball in 3-D) of radius ``se1``; gap = closing(foreground, disk(``se2``)) minus foreground, components
under ``min_gap`` voxels removed. J3 trains on classes 0-2 (gap stays background), J4 on all four.

``neighbourhood`` k defaults to the paper's text (k = 2, a 5x5 window in 2-D); the authors' code uses a
3x3 window (k = 1) before the same radius-1 dilation, about the same band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import ndimage
from skimage.morphology import ball, disk

from segrepro.errors import UserError
from segrepro.metrics.instances import components, drop_small

CLASSES = ("background", "cell", "touching", "gap")
BACKGROUND, CELL, TOUCHING, GAP = range(4)


def footprint(radius: int, ndim: int) -> np.ndarray:
    """A disk (2-D) or ball (3-D) of ``radius``."""
    return (disk if ndim == 2 else ball)(radius).astype(bool)


def touching_voxels(instances: np.ndarray, neighbourhood: int) -> np.ndarray:
    """Labelled voxels that see another non-zero label inside the ``(2k+1)^d`` window around them."""
    size = 2 * neighbourhood + 1
    labelled = instances > 0
    top = ndimage.maximum_filter(instances, size=size, mode="constant", cval=0)
    sentinel = int(instances.max()) + 1  # above every label (scipy mangles int64 extremes)
    low = ndimage.minimum_filter(np.where(labelled, instances, sentinel), size=size, mode="nearest")
    return labelled & ((top != instances) | (low != instances))


def gap_voxels(foreground: np.ndarray, radius: int, min_size: int) -> np.ndarray:
    """Background closed over by ``closing(foreground, disk(radius))``, without components under ``min_size``."""
    pad = radius + 1
    padded = np.pad(foreground, pad)
    closed = ndimage.binary_closing(padded, structure=footprint(radius, foreground.ndim))
    gap = closed[tuple(slice(pad, -pad) for _ in foreground.shape)] & ~foreground
    return drop_small(components(gap)[0], min_size) > 0


@dataclass(frozen=True)
class TouchingGapTarget:
    """Instances → class ids 0..n_classes-1 (``n_classes`` 3 for J3, 4 for J4)."""

    n_classes: int = 4
    neighbourhood: int = 2
    se1: int = 1
    se2: int = 7
    min_gap: int = 8
    needs_instances: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if self.n_classes not in (3, 4):
            raise ValueError(f"n_classes must be 3 (J3) or 4 (J4), not {self.n_classes}")

    def classes(self, dataset_classes: Sequence[str]) -> list[str]:
        return list(CLASSES[: self.n_classes])

    def __call__(self, label: np.ndarray, instances: np.ndarray | None = None) -> np.ndarray:
        if instances is None:
            raise UserError("the touching/gap target needs instance labels; this dataset has none")
        inst = np.asarray(instances).astype(np.int64)
        foreground = inst > 0
        out = foreground.astype(np.int64)  # CELL
        if self.n_classes == 4:
            out[gap_voxels(foreground, self.se2, self.min_gap)] = GAP
        touching = touching_voxels(inst, self.neighbourhood)
        if self.se1 > 0:
            touching = ndimage.binary_dilation(touching, structure=footprint(self.se1, inst.ndim))
        out[touching] = TOUCHING
        return out
