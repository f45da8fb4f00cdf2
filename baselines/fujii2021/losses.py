"""Paper 001's losses: class-weighted softmax cross entropy, IoU loss and dice loss (γ = 1e-5), and
the way X-Net's three outputs combine them. Every term takes the validity mask.

**[paper]** IoU loss 1 − (Σpq + γ)/(Σp + Σq − Σpq + γ), dice loss 1 − (2Σpq + γ)/(Σp + Σq + γ),
γ = 1e-5, p the one-hot truth and q the softmax probability; "A+B" trains every output on A + B;
"A and B" trains output1 on SCE, output2 on B and output3 on SCE + B.

**[reconstruction]** The paper says SCE is class-weighted but not how: each class's weight is the
inverse of its frequency among the scored voxels of the training batch (detached; classes absent
from the batch get none), normalised so the loss is a weighted mean, i.e. every present class
contributes equally. The sums in IoU/dice run over all scored voxels of the batch, per class, and
the loss averages the classes. A multi-output model's loss is the sum over its outputs.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from segrepro.baselines.losses import masked_cross_entropy, one_hot

GAMMA = 1e-5
Second = Literal["iou", "dice"]


def batch_class_weights(target: torch.Tensor, mask: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Inverse frequency of each class among the scored voxels of the batch (0 for absent classes)."""
    counts = torch.zeros(n_classes, dtype=torch.float32, device=target.device)
    counts.scatter_add_(0, target.reshape(-1).long(), mask.reshape(-1).float())
    freq = counts / counts.sum().clamp_min(1.0)
    return torch.where(counts > 0, 1.0 / freq.clamp_min(1e-12), torch.zeros_like(freq)).detach()


def weighted_sce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax cross entropy over scored voxels, weighted by inverse batch class frequency."""
    weight = batch_class_weights(target, mask, logits.shape[1])
    return masked_cross_entropy(logits, target, mask, weight=weight)


def _overlaps(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per-class Σpq, Σp (truth), Σq (softmax) over the batch's scored voxels."""
    q = torch.softmax(logits, dim=1)
    p = one_hot(target, logits.shape[1])
    m = mask.unsqueeze(1).to(q.dtype)
    dims = [0, *range(2, logits.ndim)]
    return (p * q * m).sum(dims), (p * m).sum(dims), (q * m).sum(dims)


def iou_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, gamma: float = GAMMA) -> torch.Tensor:
    """1 − (Σpq + γ)/(Σp + Σq − Σpq + γ), averaged over classes."""
    inter, truth, pred = _overlaps(logits, target, mask)
    return (1 - (inter + gamma) / (truth + pred - inter + gamma)).mean()


def dice_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, gamma: float = GAMMA) -> torch.Tensor:
    """1 − (2Σpq + γ)/(Σp + Σq + γ), averaged over classes."""
    inter, truth, pred = _overlaps(logits, target, mask)
    return (1 - (2 * inter + gamma) / (truth + pred + gamma)).mean()


SECOND_LOSSES = {"iou": iou_loss, "dice": dice_loss}


class FujiiLoss(nn.Module):
    """Paper 001's training loss for one, two or three outputs.

    ``split=False`` ("SCE+IoU"): every output is trained on SCE + second loss. ``split=True``
    ("SCE and IoU", X-Net only): output1 on SCE, output2 on the second loss, output3 on the sum.
    A single tensor (what any model returns in eval mode) is trained on the sum.
    """

    def __init__(self, second: Second = "iou", split: bool = False) -> None:
        super().__init__()
        self.second = SECOND_LOSSES[second]
        self.split = split

    def forward(
        self, outputs: torch.Tensor | tuple[torch.Tensor, ...], target: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        if self.split:
            if len(outputs) == 3:
                out1, out2, out3 = outputs
                return (
                    weighted_sce(out1, target, mask)
                    + self.second(out2, target, mask)
                    + weighted_sce(out3, target, mask)
                    + self.second(out3, target, mask)
                )
            if len(outputs) != 1:
                raise ValueError(f"the split loss needs X-Net's three outputs, got {len(outputs)}")
        return sum(weighted_sce(o, target, mask) + self.second(o, target, mask) for o in outputs)
