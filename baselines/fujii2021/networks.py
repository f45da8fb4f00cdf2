"""The four architectures of paper 001 (Fujii et al. 2021): U-Net, Double U-Net, Ensemble U-Net, X-Net.

All four are built from the same MONAI parts (``monai.networks.nets.basic_unet``: two 3x3 convs per
level, max-pool down, transposed-conv up, skip concatenation), so they differ only where the paper
says they differ, at the same ``base_channels`` per tier.

**[paper]** U-Net with max pooling and deconvolution; Double U-Net = two U-Nets in series; Ensemble
U-Net = two independent U-Nets whose outputs are combined; X-Net = two encoders on the same image,
bottlenecks concatenated, two decoders, output3 = 1x1 conv over concat(output1, output2).

**[reconstruction]** (the paper gives no layer sizes): four poolings with w-2w-4w-8w channels (w =
``base_channels``) and a 16w bottleneck (``base_channels=64`` gives the classic 64-128-256-512-1024
U-Net); batch norm + ReLU after each conv; X-Net decoder k takes its skips from encoder k; the
Double U-Net's second U-Net sees the image concatenated with the first U-Net's softmax; the Ensemble
U-Net averages the two softmax outputs (returned as log-probabilities, so a softmax of them gives
the average).

In training mode the multi-output models return a tuple of logits (every output gets a loss); in
eval mode each returns the one logits tensor predictions are made from.
"""

from __future__ import annotations

import torch
from monai.networks.nets.basic_unet import Down, TwoConv, UpCat
from torch import nn

ACT = ("relu", {"inplace": True})
NORM = ("batch", {})


def level_channels(base_channels: int) -> tuple[int, ...]:
    """Encoder channels per level, bottleneck last: (w, 2w, 4w, 8w, 16w)."""
    return tuple(base_channels * 2**i for i in range(5))


class Encoder(nn.Module):
    """Two convs, then four (max-pool, two convs) levels; returns every level's features."""

    def __init__(self, spatial_dims: int, in_channels: int, base_channels: int) -> None:
        super().__init__()
        f = level_channels(base_channels)
        self.first = TwoConv(spatial_dims, in_channels, f[0], ACT, NORM, True)
        self.downs = nn.ModuleList(Down(spatial_dims, f[i], f[i + 1], ACT, NORM, True) for i in range(4))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.first(x)]
        for down in self.downs:
            feats.append(down(feats[-1]))
        return feats


class Decoder(nn.Module):
    """Four (transposed conv, concat skip, two convs) levels and a 1x1 conv to class logits."""

    def __init__(self, spatial_dims: int, out_channels: int, base_channels: int, bottleneck_channels: int) -> None:
        super().__init__()
        f = level_channels(base_channels)
        ups = [UpCat(spatial_dims, bottleneck_channels, f[3], f[3], ACT, NORM, True)]
        ups += [UpCat(spatial_dims, f[i + 1], f[i], f[i], ACT, NORM, True) for i in (2, 1)]
        ups.append(UpCat(spatial_dims, f[1], f[0], f[0], ACT, NORM, True, halves=False))
        self.ups = nn.ModuleList(ups)
        self.head = nn.Conv2d(f[0], out_channels, 1) if spatial_dims == 2 else nn.Conv3d(f[0], out_channels, 1)

    def forward(self, bottleneck: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        x = bottleneck
        for up, skip in zip(self.ups, reversed(skips), strict=True):
            x = up(x, skip)
        return self.head(x)


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015) as paper 001 implements it: max-pool down, deconv up."""

    def __init__(self, in_channels: int, out_channels: int, spatial_dims: int = 2, base_channels: int = 64) -> None:
        super().__init__()
        self.encoder = Encoder(spatial_dims, in_channels, base_channels)
        self.decoder = Decoder(spatial_dims, out_channels, base_channels, level_channels(base_channels)[4])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *skips, bottom = self.encoder(x)
        return self.decoder(bottom, skips)


class DoubleUNet(nn.Module):
    """Two U-Nets in series (Jha et al. 2020); the second sees the image and the first's softmax.

    Train mode returns (output1, output2), both supervised; eval mode returns output2.
    """

    def __init__(self, in_channels: int, out_channels: int, spatial_dims: int = 2, base_channels: int = 64) -> None:
        super().__init__()
        self.first = UNet(in_channels, out_channels, spatial_dims, base_channels)
        self.second = UNet(in_channels + out_channels, out_channels, spatial_dims, base_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out1 = self.first(x)
        out2 = self.second(torch.cat([x, torch.softmax(out1, dim=1)], dim=1))
        return (out1, out2) if self.training else out2


class EnsembleUNet(nn.Module):
    """Two independent U-Nets (paper 001's ref. 17); the prediction averages their softmax outputs.

    Train mode returns (output1, output2), each supervised; eval mode returns log(mean softmax).
    """

    def __init__(self, in_channels: int, out_channels: int, spatial_dims: int = 2, base_channels: int = 64) -> None:
        super().__init__()
        self.nets = nn.ModuleList(UNet(in_channels, out_channels, spatial_dims, base_channels) for _ in range(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        out1, out2 = (net(x) for net in self.nets)
        if self.training:
            return out1, out2
        mean = (torch.softmax(out1, dim=1) + torch.softmax(out2, dim=1)) / 2
        return torch.log(mean.clamp_min(1e-12))


class XNet(nn.Module):
    """X-Net (Fujii et al. 2021): two encoders, concatenated bottlenecks, two decoders, three outputs.

    Train mode returns (output1, output2, output3); eval mode returns output3, the 1x1 conv over
    concat(output1, output2).
    """

    def __init__(self, in_channels: int, out_channels: int, spatial_dims: int = 2, base_channels: int = 64) -> None:
        super().__init__()
        bottom = 2 * level_channels(base_channels)[4]
        self.encoders = nn.ModuleList(Encoder(spatial_dims, in_channels, base_channels) for _ in range(2))
        self.decoders = nn.ModuleList(Decoder(spatial_dims, out_channels, base_channels, bottom) for _ in range(2))
        conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
        self.fuse = conv(2 * out_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feats = [enc(x) for enc in self.encoders]
        bottom = torch.cat([f[-1] for f in feats], dim=1)
        out1, out2 = (dec(bottom, f[:-1]) for dec, f in zip(self.decoders, feats, strict=True))
        out3 = self.fuse(torch.cat([out1, out2], dim=1))
        return (out1, out2, out3) if self.training else out3
