"""Prediction overlays: one PNG per test image (image | ground truth | prediction), for the
leaderboard's run page. ``segrepro run --save-predictions N`` writes them for the first N test images.

3-D volumes show their middle slice along the first axis. Voxels outside the validity mask are
drawn as a grey hatch in the label panels, since they are never scored.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from segrepro.io import write_bytes_atomic

FALLBACK_COLOURS = (
    "#000000",
    "#e6194b",
    "#3cb44b",
    "#ffe119",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#46f0f0",
    "#f032e6",
    "#bcf60c",
)
"""Used when a dataset's card does not give every class its own colour (background first)."""
ALPHA = 0.5


def class_colours(colours: Sequence[str]) -> np.ndarray:
    """``(K, 3)`` uint8 colours: the card's when they are distinct, else a fixed palette."""
    chosen = (
        colours
        if len(set(colours)) == len(colours)
        else [FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)] for k in range(len(colours))]
    )
    return np.array([[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in chosen], dtype=np.uint8)


def _middle(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a[a.shape[0] // 2] if a.ndim == 3 else a


def overlay_panel(
    image: np.ndarray, label: np.ndarray, pred: np.ndarray, mask: np.ndarray, colours: np.ndarray
) -> np.ndarray:
    """``(H, 3W + 4, 3)`` uint8: the grey image, then ground truth and prediction over it."""
    img, lab, prd, msk = (_middle(a) for a in (image, label, pred, mask))
    lo, hi = np.percentile(img, [1, 99])
    grey = np.clip((img - lo) / max(float(hi - lo), 1e-6), 0, 1)
    base = np.repeat((grey * 255).astype(np.float32)[..., None], 3, axis=2)
    hatch = (np.add.outer(np.arange(lab.shape[0]), np.arange(lab.shape[1])) // 3) % 2 == 0
    masked = (msk == 0) & hatch

    def paint(classes: np.ndarray) -> np.ndarray:
        out = base.copy()
        fg = classes > 0
        out[fg] = (1 - ALPHA) * out[fg] + ALPHA * colours[np.clip(classes[fg], 0, len(colours) - 1)]
        out[masked] = 128.0
        return out

    gap = np.full((img.shape[0], 2, 3), 255.0, dtype=np.float32)
    return np.concatenate([base, gap, paint(lab), gap, paint(prd)], axis=1).round().astype(np.uint8)


def save_overlays(
    folder: Path,
    cases: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
    predictions: Mapping[str, np.ndarray],
    colours: Sequence[str],
) -> list[dict[str, str]]:
    """Write one overlay PNG per ``(id, image, label, mask)`` case into ``folder`` (atomically);
    return the record's ``predictions`` list: ``{"image": id, "file": name}``."""
    palette = class_colours(colours)
    listed = []
    for i, (vid, image, label, mask) in enumerate(cases):
        name = f"{i:03d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', vid)}.png"
        buffer = io.BytesIO()
        Image.fromarray(overlay_panel(image, label, predictions[vid], mask, palette)).save(buffer, format="PNG")
        write_bytes_atomic(folder / name, buffer.getvalue())
        listed.append({"image": vid, "file": name})
    return listed
