"""The network and the loss, both from MONAI; imported only when an entry is built or trained."""

from __future__ import annotations

import torch
from monai.losses import MaskedDiceLoss
from monai.networks.nets import BasicUNet
from torch import nn


def basic_unet(in_channels: int, out_channels: int, spatial_dims: int, features: tuple[int, ...]) -> nn.Module:
    return BasicUNet(spatial_dims, in_channels, out_channels, features=features)


class DiceLoss(nn.Module):
    """MONAI's soft Dice over the scored voxels: segrepro calls ``loss(logits, target ids, mask)``, MONAI's
    ``MaskedDiceLoss`` takes one-hot targets and a ``(B, 1, ...)`` mask, so masked voxels add nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.dice = MaskedDiceLoss(softmax=True, include_background=True)

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        onehot = nn.functional.one_hot(target.long(), logits.shape[1]).movedim(-1, 1).float()
        return self.dice(logits, onehot, mask=mask.unsqueeze(1))
