"""Masked loss building blocks shared by entries. Each takes ``(outputs, target, mask)`` as the
entry contract says; masked voxels contribute nothing to value or gradient."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from monai.losses import MaskedDiceLoss
from torch import nn


def one_hot(target: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``(B, *spatial)`` ids -> ``(B, K, *spatial)`` float one-hot."""
    return F.one_hot(target.long(), n_classes).movedim(-1, 1).float()


def masked_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean (optionally class-weighted) softmax cross entropy over scored voxels; 0 if none."""
    ce = F.cross_entropy(logits, target.long(), weight=weight, reduction="none")
    norm = (weight[target.long()] * mask).sum() if weight is not None else mask.sum()
    return (ce * mask).sum() / norm.clamp_min(1e-8)


class MaskedCELoss(nn.Module):
    """Softmax cross entropy over scored voxels."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return masked_cross_entropy(logits, target, mask)


class MaskedDiceCELoss(nn.Module):
    """Soft Dice (MONAI's ``MaskedDiceLoss`` on softmax, background included) + cross entropy."""

    def __init__(self) -> None:
        super().__init__()
        self.dice = MaskedDiceLoss(softmax=True, include_background=True)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        onehot = one_hot(target, logits.shape[1])
        dice = self.dice(logits, onehot, mask=mask.unsqueeze(1))
        return dice + masked_cross_entropy(logits, target, mask)
