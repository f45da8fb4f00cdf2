"""Whole-volume prediction with MONAI's sliding-window inference.

Memory: windows run on the model's device and are stitched on the CPU into one logits volume (C
channels) plus MONAI's count map (1 channel, freed after); softmax probabilities are then computed
in place slab by slab (sigmoid entries, with one channel fewer, fill a new K-channel array) and the
class ids are decided per slab into uint8 (uint16 above 256 classes): no other whole-volume copy.
"""

from __future__ import annotations

import numpy as np
import torch
from monai.inferers import sliding_window_inference

from segrepro.entry import BaselineEntry

SLAB_VOXELS = 1 << 20  # voxels per slab of the probability and decision pass (temporaries stay small)


@torch.no_grad()
def predict_volume(
    model: torch.nn.Module,
    entry: BaselineEntry,
    image: np.ndarray,
    roi: tuple[int, ...],
    device: torch.device,
    sw_batch_size: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities ``(K, *spatial)`` float32 and class ids ``(*spatial)`` (uint8/uint16) for one volume."""
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    roi = tuple(min(r, s) for r, s in zip(roi, image.shape, strict=True))
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = sliding_window_inference(
            x, roi, sw_batch_size, model, overlap=0.25, mode="gaussian", sw_device=device, device=torch.device("cpu")
        )
    logits = torch.as_tensor(logits)[0].float()  # (C, *spatial), on the CPU
    step = max(1, SLAB_VOXELS // max(1, int(np.prod(logits.shape[2:]))))
    k = entry.probabilities(logits[None, :, :1]).shape[1]
    probs = logits if k == logits.shape[0] else torch.empty((k, *logits.shape[1:]))
    pred = torch.empty(logits.shape[1:], dtype=torch.uint8 if k <= 256 else torch.int16)
    for z in range(0, logits.shape[1], step):
        p = entry.probabilities(logits[None, :, z : z + step])
        pred[z : z + step] = entry.decide(p)[0].to(pred.dtype)
        probs[:, z : z + step] = p[0]
    return probs.numpy(), pred.numpy()
