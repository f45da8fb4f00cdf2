"""Whole-volume prediction with MONAI's sliding-window inference."""

from __future__ import annotations

import numpy as np
import torch
from monai.inferers import sliding_window_inference

from segrepro.entry import BaselineEntry


@torch.no_grad()
def predict_volume(
    model: torch.nn.Module,
    entry: BaselineEntry,
    image: np.ndarray,
    roi: tuple[int, ...],
    device: torch.device,
    sw_batch_size: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities ``(K, *spatial)`` float32 and class ids ``(*spatial)`` for one volume."""
    model.eval()
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None].to(device)
    roi = tuple(min(r, s) for r, s in zip(roi, image.shape, strict=True))
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = sliding_window_inference(x, roi, sw_batch_size, model, overlap=0.25, mode="gaussian")
    probs = entry.probabilities(torch.as_tensor(logits).float())
    pred = entry.decide(probs)
    return probs[0].cpu().numpy(), pred[0].cpu().numpy().astype(np.int64)
