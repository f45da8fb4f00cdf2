"""Paper 003's two networks.

UNet **[paper + authors' code]**: depth 5 (64 → 1024 channels at the paper tier), two 3x3 convolutions
with ReLU and batch norm per level, max-pool down, transposed convolution up, dropout 0.5 after the
bottleneck. Built from the same MONAI blocks as paper 001's U-Net (``segrepro.baselines.fujii2021``);
**[difference]** MONAI's blocks apply batch norm before the ReLU, the paper's code after it.

EfficientUNet **[paper]**: an EfficientNet-B4 encoder trained from scratch (a 1x1 convolution maps the input
channels to the 3 it expects) with a U-Net decoder of 512/256/128/64 channels. Here MONAI's
``FlexibleUNet`` with the ``efficientnet-b4`` backbone, no pretrained weights. **[differences from the
paper's TensorFlow model]** FlexibleUNet's decoder has five levels (a fifth of 32 channels after the paper's
four) and two convolutions per level where the paper has one convolution + batch norm; the CPU tiers use
the smaller ``efficientnet-b0`` backbone.
"""

from __future__ import annotations

import torch
from monai.networks.nets import FlexibleUNet
from torch import nn

from segrepro.baselines.fujii2021.networks import Decoder, Encoder, level_channels


class DropoutUNet(nn.Module):
    """Paper 003's U-Net: paper 001's U-Net with dropout after the bottleneck."""

    def __init__(
        self, in_channels: int, out_channels: int, spatial_dims: int = 2, base_channels: int = 64, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.encoder = Encoder(spatial_dims, in_channels, base_channels)
        self.dropout = nn.Dropout(dropout)
        self.decoder = Decoder(spatial_dims, out_channels, base_channels, level_channels(base_channels)[4])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *skips, bottom = self.encoder(x)
        return self.decoder(self.dropout(bottom), skips)


def efficient_unet(
    in_channels: int,
    out_channels: int,
    spatial_dims: int = 2,
    backbone: str = "efficientnet-b4",
    decoder_channels: tuple[int, ...] = (512, 256, 128, 64, 32),
) -> nn.Module:
    """1x1 convolution to 3 channels, then MONAI's FlexibleUNet with an EfficientNet encoder from scratch."""
    conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
    net = FlexibleUNet(
        3,
        out_channels,
        backbone=backbone,
        pretrained=False,
        decoder_channels=tuple(decoder_channels),
        spatial_dims=spatial_dims,
    )
    # The encoder keeps EfficientNet's classification head, which a segmentation forward never uses: drop it
    # so the parameter count is the network's and every parameter trains.
    for head in ("_conv_head", "_bn1", "_fc"):
        setattr(net.encoder, head, nn.Identity())
    return nn.Sequential(conv(in_channels, 3, 1), net)
