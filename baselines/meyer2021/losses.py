"""Paper 003's weighted dice loss, masked.

**[paper + authors' code]** L = 1 − (1/K) Σ_c α_c · Dice_c over softmax probabilities, each class's dice
summed over the batch and all pixels, smoothing 1e-5; a plain mean over the K classes (not divided by Σα).
The paper's α for (background, mitochondria, cell membrane, ER) is (0.1, 0.7, 1.0, 0.9).
**[segrepro's rule]** For other datasets, unless ``alpha`` is given: 0.1 for the background and 1.0 for
every foreground class (the paper down-weights the background tenfold).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from segrepro.baselines.losses import one_hot
from segrepro.errors import UserError

PAPER_ALPHA = (0.1, 0.7, 1.0, 0.9)
SMOOTH = 1e-5


def class_weights(n_classes: int, alpha: Sequence[float] | None = None) -> tuple[float, ...]:
    """``alpha`` checked against the class count, or the default rule above."""
    if alpha is None:
        return PAPER_ALPHA if n_classes == 4 else (0.1,) + (1.0,) * (n_classes - 1)
    if len(alpha) != n_classes:
        raise UserError(
            f"the weighted dice loss has {len(alpha)} class weights but the data has {n_classes} classes: "
            f"give one weight per class (background first) or none for the default rule"
        )
    return tuple(float(a) for a in alpha)


class WeightedDiceLoss(nn.Module):
    """``loss(logits, target, mask)``: masked voxels add nothing to any class's intersection or sums."""

    def __init__(self, alpha: Sequence[float] | None = None) -> None:
        super().__init__()
        self.alpha = None if alpha is None else tuple(alpha)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        k = logits.shape[1]
        weights = torch.tensor(class_weights(k, self.alpha), device=logits.device, dtype=logits.dtype)
        probs = torch.softmax(logits, dim=1)
        truth = one_hot(target, k)
        m = mask.unsqueeze(1)
        dims = (0, *range(2, logits.ndim))
        inter = (probs * truth * m).sum(dims)
        total = ((probs + truth) * m).sum(dims)
        dice = (2 * inter + SMOOTH) / (total + SMOOTH)
        return 1 - (weights * dice).sum() / k
