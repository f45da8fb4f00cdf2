"""The pix2pix-style U-Net of Yudistira et al. 2020, table 1 (2-D).

Encoder: a 3x3 stride-1 conv to 64 channels (LeakyReLU, no BN), then seven 4x4 stride-2 convs with
BN + LeakyReLU (128, 256, 512, 512, 512, 512, 512). Decoder: seven 4x4 stride-2 transposed convs
with BN + ReLU (512, 512, 512, 512, 256, 128, 64), dropout 0.5 in the first three, each but the
first taking the concatenation with the matching encoder output. Head: a 3x3 conv on the last
decoder output concatenated with the first encoder output. At full width with 1 input and 5 output
channels the conv/deconv weights and biases total 54,406,725 (54,417,605 with the BN affine
parameters); table 1's printed column differs by its typos (see ``entries.TABLE1_TYPOS``).

``width`` divides every hidden channel count (CPU tiers); the layer count never changes. Seven
stride-2 convs need a side divisible by 2**7 = 128: other inputs are zero-padded up to the next
multiple of 128 and the output is cropped back, so any patch or sliding-window size works.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

ENCODER_CHANNELS = (64, 128, 256, 512, 512, 512, 512, 512)
DECODER_CHANNELS = (512, 512, 512, 512, 256, 128, 64)
DROPOUT_LAYERS = 3
DOWNSAMPLING = 2 ** (len(ENCODER_CHANNELS) - 1)


def _ch(c: int, width: int) -> int:
    return max(1, c // width)


class BalancedUNet(nn.Module):
    """Table 1's U-Net. ``decoder_weight_decay`` is applied to the decoder and head only, as in the
    paper's recipe, through ``optimizer_param_groups`` (the training loop uses it when present)."""

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 5,
        width: int = 1,
        dropout: float = 0.5,
        negative_slope: float = 0.2,
        decoder_weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        enc = [_ch(c, width) for c in ENCODER_CHANNELS]
        dec = [_ch(c, width) for c in DECODER_CHANNELS]
        self.decoder_weight_decay = decoder_weight_decay
        self.encoder = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(in_channels, enc[0], 3, 1, 1), nn.LeakyReLU(negative_slope))]
        )
        for c_in, c_out in itertools.pairwise(enc):
            self.encoder.append(
                nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(negative_slope))
            )
        skips = enc[-2::-1]  # encoder outputs met on the way up: conv7 ... conv1
        self.decoder = nn.ModuleList()
        c_in = enc[-1]
        for i, c_out in enumerate(dec):
            layers: list[nn.Module] = [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
            if i < DROPOUT_LAYERS and dropout > 0:
                layers.append(nn.Dropout(dropout))
            self.decoder.append(nn.Sequential(*layers))
            c_in = c_out + skips[i]
        self.head = nn.Conv2d(c_in, out_channels, 3, 1, 1)

    def optimizer_param_groups(self) -> list[dict]:
        """Encoder without weight decay; decoder and head with ``decoder_weight_decay``."""
        decoder = [*self.decoder.parameters(), *self.head.parameters()]
        return [
            {"params": list(self.encoder.parameters())},
            {"params": decoder, "weight_decay": self.decoder_weight_decay},
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % DOWNSAMPLING, (-w) % DOWNSAMPLING
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        feats = []
        for layer in self.encoder:
            x = layer(x)
            feats.append(x)
        skips = feats[-2::-1]
        for i, layer in enumerate(self.decoder):
            x = torch.cat([layer(x), skips[i]], dim=1)
        return self.head(x)[..., :h, :w]


def balanced_unet(
    in_channels: int, out_channels: int, spatial_dims: int, width: int = 1, decoder_weight_decay: float = 0.0
) -> nn.Module:
    """Model factory of the entries (2-D only, as in the paper)."""
    if spatial_dims != 2:
        raise ValueError("the balanced U-Net of Yudistira et al. 2020 is 2-D")
    return BalancedUNet(in_channels, out_channels, width=width, decoder_weight_decay=decoder_weight_decay)
