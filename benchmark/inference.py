"""The ``inference`` hook: whole-volume prediction with MONAI's sliding-window inference.

``Inference`` holds the settings as data: window overlap, blending (``gaussian`` or ``constant``), how
many windows go through the network at once, and paper 003's ``centre_tile`` strategy: each voxel is taken
from the one window whose central third contains it (stride = the central third, about window/3). The volume
is reflect-padded by a third of the window (and at the far end up to the last tile), only the windows whose
central tiles cover the volume are run, and each window's logits are cropped to that tile before they are
written: no blending, no other window leaks in, and no MONAI aggregation of whole windows.

Memory: windows run on the model's device and are stitched on the CPU into one logits volume (C
channels) plus MONAI's count map (1 channel, freed after); probabilities are then computed in place slab
by slab (sigmoid entries, with one channel fewer, fill a new K-channel array) and the class ids are
decided per slab into uint8 (uint16 above 256 classes): no other whole-volume copy before ``postprocess``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import torch

    from segrepro.entry import BaselineEntry
    from segrepro.postprocess import Prediction

SLAB_VOXELS = 1 << 20  # voxels per slab of the probability and decision pass (temporaries stay small)


@dataclass(frozen=True)
class Inference:
    overlap: float = 0.25
    blend: Literal["gaussian", "constant"] = "gaussian"
    sw_batch_size: int = 4
    centre_tile: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.overlap < 1.0:
            raise ValueError(f"overlap must lie in [0, 1), not {self.overlap}")
        if self.blend not in ("gaussian", "constant"):
            raise ValueError(f"blend must be 'gaussian' or 'constant', not {self.blend!r}")
        if self.sw_batch_size < 1:
            raise ValueError(f"sw_batch_size must be at least 1, not {self.sw_batch_size}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def centre_tiles(roi: tuple[int, ...], spatial: tuple[int, ...]) -> tuple[list[int], list[int], list[list[int]]]:
    """Paper 003's tiling of a volume of shape ``spatial`` by windows of shape ``roi``: the margin (a third of
    the window) and the central tile's size per axis, and the tile starts per axis (which are also the window
    starts in a volume padded by the margin in front)."""
    margin = [r // 3 for r in roi]
    tile = [r - 2 * m for r, m in zip(roi, margin, strict=True)]
    return margin, tile, [list(range(0, s, t)) for s, t in zip(spatial, tile, strict=True)]


def centre_tile_logits(
    model: torch.nn.Module, x: torch.Tensor, roi: tuple[int, ...], batch: int, device: torch.device
) -> torch.Tensor:
    """Logits ``(1, K, *spatial)`` of ``x`` ``(1, C, *spatial)``, each voxel from the window whose central tile
    holds it (see ``centre_tiles``); ``batch`` windows at a time run on ``device``."""
    import itertools

    import torch

    spatial = tuple(x.shape[2:])
    margin, tile, starts = centre_tiles(roi, spatial)
    after = [a[-1] + r - m - s for a, r, m, s in zip(starts, roi, margin, spatial, strict=True)]
    padding = [p for m, a in zip(reversed(margin), reversed(after), strict=True) for p in (m, a)]
    padded = torch.nn.functional.pad(x, padding, mode="reflect")
    windows = list(itertools.product(*starts))
    out: torch.Tensor | None = None
    for first in range(0, len(windows), batch):
        group = windows[first : first + batch]
        crops = [padded[(0, slice(None), *(slice(a, a + r) for a, r in zip(w, roi, strict=True)))] for w in group]
        logits = model(torch.stack(crops).to(device)).float().cpu()
        if out is None:
            out = torch.empty((1, logits.shape[1], *spatial))
        for w, window_logits in zip(group, logits, strict=True):
            keep = [min(t, s - a) for t, s, a in zip(tile, spatial, w, strict=True)]
            centre = tuple(slice(m, m + k) for m, k in zip(margin, keep, strict=True))
            out[(0, slice(None), *(slice(a, a + k) for a, k in zip(w, keep, strict=True)))] = window_logits[
                (slice(None), *centre)
            ]
    assert out is not None  # a volume has at least one voxel, so at least one window
    return out


def sliding_window_logits(
    model: torch.nn.Module, x: torch.Tensor, roi: tuple[int, ...], settings: Inference, device: torch.device
) -> torch.Tensor:
    """Logits ``(1, K, *spatial)`` on the CPU of ``x`` ``(1, C, *spatial)`` on the CPU, windows run on
    ``device`` (the caller sets eval mode and no_grad)."""
    import torch
    from monai.inferers import sliding_window_inference

    if settings.centre_tile:
        return centre_tile_logits(model, x, roi, settings.sw_batch_size, device)
    out = sliding_window_inference(
        x,
        roi,
        settings.sw_batch_size,
        model,
        overlap=settings.overlap,
        mode=settings.blend,
        sw_device=device,
        device=torch.device("cpu"),
    )
    return torch.as_tensor(out)


def probabilities_and_classes(entry: BaselineEntry, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(K, *spatial)`` probabilities (in place over ``logits`` ``(C, *spatial)`` where K == C) and the
    entry's class ids ``(*spatial)``, slab by slab."""
    import torch

    step = max(1, SLAB_VOXELS // max(1, int(np.prod(logits.shape[2:]))))
    k = entry.probabilities(logits[None, :, :1]).shape[1]
    probs = logits if k == logits.shape[0] else torch.empty((k, *logits.shape[1:]))
    classes = torch.empty(logits.shape[1:], dtype=torch.uint8 if k <= 256 else torch.int16)
    for z in range(0, logits.shape[1], step):
        p = entry.probabilities(logits[None, :, z : z + step])
        classes[z : z + step] = entry.decide(p)[0].to(classes.dtype)
        probs[:, z : z + step] = p[0]
    return probs, classes


def predict_volume(
    model: torch.nn.Module,
    entry: BaselineEntry,
    image: np.ndarray,
    roi: tuple[int, ...],
    device: torch.device,
) -> Prediction:
    """The entry's ``Prediction`` (in the dataset's classes) for one preprocessed volume ``image``
    ``(C, *spatial)``."""
    import torch

    model.eval()
    spatial = image.shape[1:]
    clamped = tuple(min(r, s) for r, s in zip(roi, spatial, strict=True))
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
    try:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = sliding_window_logits(model, x, clamped, entry.inference, device)
    except RuntimeError as exc:  # a window shrunk to a small image may be too small for the network's strides
        if clamped == tuple(roi):
            raise
        from segrepro.errors import UserError

        raise UserError(
            f"{entry.id}: an image of shape {tuple(spatial)} is smaller than its {tuple(roi)} window and too small "
            f"for its network ({str(exc).splitlines()[0][:120]}); give images at least the window's size"
        ) from exc
    with torch.no_grad():
        probs, classes = probabilities_and_classes(entry, logits[0].float())
        return entry.postprocess(probs[None], classes[None])[0]
