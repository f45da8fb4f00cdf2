"""The ``inference`` hook: whole-volume prediction with MONAI's sliding-window inference.

``Inference`` holds the settings as data: window overlap, blending (``gaussian`` or ``constant``), how
many windows go through the network at once, and paper 003's ``centre_tile`` strategy (stride = window/3,
each voxel taken from the window whose central third contains it: the volume is reflect-padded by a third
of the window so that every voxel lies in some window's centre, and each window's weight map is 1 in its
central third and 1e-3 elsewhere, the floor MONAI puts under any window weight: off-centre windows
leak in at that weight).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import torch

    from segrepro.entry import BaselineEntry
    from segrepro.postprocess import Prediction


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


def centre_weights(roi: tuple[int, ...]) -> np.ndarray:
    """``roi``-shaped weights: 1 in the central third along every axis, 1e-3 elsewhere."""
    w = np.full(roi, 1e-3, dtype=np.float32)
    w[tuple(slice(r // 3, r - r // 3) for r in roi)] = 1.0
    return w


def sliding_window_logits(
    model: torch.nn.Module, x: torch.Tensor, roi: tuple[int, ...], settings: Inference
) -> torch.Tensor:
    """Logits ``(1, K, *spatial)`` of ``x`` ``(1, C, *spatial)`` (the caller sets eval mode and no_grad)."""
    import torch
    from monai.inferers import sliding_window_inference

    if not settings.centre_tile:
        out = sliding_window_inference(
            x, roi, settings.sw_batch_size, model, overlap=settings.overlap, mode=settings.blend
        )
        return torch.as_tensor(out)
    pad = [r // 3 for r in roi]
    padded = torch.nn.functional.pad(x, [p for p in reversed(pad) for _ in (0, 1)], mode="reflect")
    weights = torch.from_numpy(centre_weights(roi)).to(x.device)
    out = torch.as_tensor(
        sliding_window_inference(
            padded, roi, settings.sw_batch_size, model, overlap=1 - 1 / 3, mode="constant", roi_weight_map=weights
        )
    )
    return out[(slice(None), slice(None), *(slice(p, p + s) for p, s in zip(pad, x.shape[2:], strict=True)))]


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
    roi = tuple(min(r, s) for r, s in zip(roi, spatial, strict=True))
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None].to(device)
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = sliding_window_logits(model, x, roi, entry.inference)
    probs = entry.probabilities(logits.float())
    return entry.postprocess(probs, entry.decide(probs))[0]
