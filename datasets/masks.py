"""The "segmentation masks" of Žerovnik Mekuč et al. 2020 (paper 004, section 2.7): voxels whose
class is uncertain, excluded from every loss and metric.

- Acquisition artefacts **[paper]**: every line of voxels along any axis whose intensity standard
  deviation is below a threshold (1e-2) is masked. **[reconstruction]** The paper does not say on
  which intensity scale the threshold applies; here intensities are min-max scaled to [0, 1] per
  volume first, so the threshold means the same for uint8 and float data.
- Object borders **[paper]**: borders of annotated objects are masked. **[reconstruction]** The band
  width is not stated: ``border_width`` voxels on each side of every foreground class's boundary
  (dilation minus erosion, face connectivity); the default 1 gives a 2-voxel-thick band.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

ARTEFACT_STD = 1e-2
BORDER_WIDTH = 1


def artefact_line_mask(image: np.ndarray, threshold: float = ARTEFACT_STD) -> np.ndarray:
    """uint8 mask, 0 on every axis-parallel line whose (min-max scaled) intensity std < ``threshold``."""
    img = np.asarray(image, dtype=np.float32)
    lo, hi = float(img.min()), float(img.max())
    mask = np.ones(img.shape, dtype=bool)
    if hi <= lo:  # a constant volume: every line is an artefact
        return np.zeros(img.shape, dtype=np.uint8)
    scaled = (img - lo) / (hi - lo)
    for axis in range(img.ndim):
        flat = scaled.std(axis=axis, keepdims=True) < threshold
        mask &= ~flat
    return mask.astype(np.uint8)


def border_mask(label: np.ndarray, width: int = BORDER_WIDTH) -> np.ndarray:
    """uint8 mask, 0 within ``width`` voxels of the boundary of any foreground class (ids > 0)."""
    mask = np.ones(label.shape, dtype=bool)
    if width <= 0:
        return mask.astype(np.uint8)
    structure = ndimage.generate_binary_structure(label.ndim, 1)
    for cls in np.unique(label):
        if cls == 0:
            continue
        fg = label == cls
        outer = ndimage.binary_dilation(fg, structure, iterations=width)
        # border_value=1: the volume's faces are not object borders.
        inner = ndimage.binary_erosion(fg, structure, iterations=width, border_value=1)
        mask &= ~(outer & ~inner)
    return mask.astype(np.uint8)


def segmentation_mask(
    image: np.ndarray, label: np.ndarray, threshold: float = ARTEFACT_STD, width: int = BORDER_WIDTH
) -> np.ndarray:
    """Paper 004's validity mask: artefact lines and object borders are 0, the rest 1."""
    return artefact_line_mask(image, threshold) & border_mask(label, width)
