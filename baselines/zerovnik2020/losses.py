"""Paper 004's Dice loss (eq. 8): ``1 - 2 Σ_l Σ_n w_n p_ln r_ln / Σ_l Σ_n w_n (p_ln + r_ln)``, one ratio summed
over all classes (background included) and voxels, with the segmentation mask ``w``.

MONAI's ``GeneralizedDiceLoss`` with uniform class weights is that ratio; the mask enters by multiplying
probabilities and one-hot targets by ``w`` (exact for ``w`` in {0, 1}). Sums run over the whole batch
**[reconstruction]**. Every row honours the validity mask (padding, ignore labels and, where the dataset is
prepared with them, the paper's segmentation masks): segrepro's invariant for every loss. Table 1's rows
without segmentation masks are therefore the same loss run on data prepared without the paper's masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.losses import GeneralizedDiceLoss
from torch import nn

from segrepro.baselines.losses import one_hot


def _dice(probs: torch.Tensor, onehot: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    loss = GeneralizedDiceLoss(w_type="uniform", batch=True)
    w = weight.unsqueeze(1)
    return loss(probs * w, onehot * w)


class PaperDice(nn.Module):
    """Eq. 8 on softmax outputs ``(B, K, *spatial)``."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return _dice(torch.softmax(logits, dim=1), one_hot(target, logits.shape[1]), mask)


class BinaryDice(nn.Module):
    """Eq. 8 of each binary network of a ``BinaryHeads`` model, summed: head ``c`` (a sigmoid output
    channel) against "target in ``positives[c]``", as the two classes (p, 1 - p) of a binary softmax."""

    def __init__(self, positives: dict[int, Sequence[int]]) -> None:
        super().__init__()
        self.positives = {c: tuple(p) for c, p in positives.items()}

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        weight = mask
        total = logits.new_zeros(())
        for channel, classes in self.positives.items():
            p = torch.sigmoid(logits[:, channel])
            r = torch.isin(target, torch.tensor(classes, device=target.device)).float()
            total = total + _dice(torch.stack([1 - p, p], 1), torch.stack([1 - r, r], 1), weight)
        return total
