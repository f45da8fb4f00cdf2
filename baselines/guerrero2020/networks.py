"""Paper 002's one U-Net for every loss (MONAI ``BasicUNet``: ReLU, no normalisation), normally initialised."""

from __future__ import annotations

from monai.networks.nets import BasicUNet
from torch import nn


def unet(in_channels: int, out_channels: int, spatial_dims: int, features: tuple[int, ...]) -> nn.Module:
    """The one U-Net every loss uses, normally initialised (the seed fixes the draw)."""
    net = BasicUNet(spatial_dims, in_channels, out_channels, features=tuple(features), act="relu", norm=None)
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net
