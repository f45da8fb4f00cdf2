"""The reference baselines' network: MONAI's residual U-Net (Kerfoot et al. 2018 residual units)."""

from __future__ import annotations

from monai.networks.nets import UNet
from torch import nn


def monai_unet(
    in_channels: int, out_channels: int, spatial_dims: int, channels: tuple[int, ...] = (16, 32, 64, 128)
) -> nn.Module:
    return UNet(
        spatial_dims=spatial_dims,
        in_channels=in_channels,
        out_channels=out_channels,
        channels=tuple(channels),
        strides=(2,) * (len(channels) - 1),
        num_res_units=2,
    )
