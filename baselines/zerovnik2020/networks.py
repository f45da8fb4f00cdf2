"""Paper 004's 3-D networks: HighRes3DNet and HighRes3DZMNet (MONAI ``HighResNet``), U-Net (MONAI
``UNet``), V-Net (MONAI ``VNet``), a compact DeepMedic, and ``BinaryHeads`` (one binary network per
class: the paper's binary classifiers and their merged output). Every convolution is He-initialised.

HighRes3DNet **[paper + authors' code]**: 3³ conv 16; residual stages of 3 blocks at 16 / 32 / 64 channels
with dilation 1 / 2 / 4; 1³ conv 80; 1³ conv to the classes; batch norm + PReLU.
DeepMedic **[Kamnitsas et al. 2017; layer sizes a reconstruction]**: see ``DeepMedic``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from monai.networks.nets import HighResNet, UNet, VNet
from torch import nn

NEG_LOGIT = -1e4  # logit of a class a BinaryHeads model has no network for: probability 0


def he_init(model: nn.Module) -> nn.Module:
    """He (Kaiming normal) initialisation of every convolution's weights, zero biases (paper 004, ref. 48)."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d | nn.ConvTranspose3d | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


class HighRes3DZMNet(HighResNet):
    """HighRes3DNet whose first convolution has zero-mean kernels (paper eq. 7): each filter's mean over its
    kernel and input channels is subtracted by ``zero_mean_``, at construction and after every optimiser
    step (the entry's ``after_step``), so the first layer responds to differences, not to levels."""

    def first_conv(self) -> nn.Conv3d:
        return next(m for m in self.modules() if isinstance(m, nn.Conv3d))

    @torch.no_grad()
    def zero_mean_(self) -> None:
        w = self.first_conv().weight
        w -= w.mean(dim=tuple(range(1, w.ndim)), keepdim=True)


def zero_mean_kernels(model: nn.Module) -> None:
    """The ``after_step`` of ZM entries: re-impose zero-mean first-layer kernels on every HighRes3DZMNet in
    ``model`` (one, or one per binary head)."""
    for m in model.modules():
        if isinstance(m, HighRes3DZMNet):
            m.zero_mean_()


def highres3dnet(
    in_channels: int,
    out_channels: int,
    spatial_dims: int,
    zero_mean: bool = False,
    features: Sequence[int] = (16, 16, 32, 64, 80),
) -> nn.Module:
    """HighRes3DNet as paper 004 configures it (MONAI's layer plan, PReLU); ``features`` are the widths of
    the first conv, the three residual stages and the 1³ conv (the paper's by default; smaller for CI);
    ``zero_mean`` gives HighRes3DZMNet."""
    c0, c1, c2, c3, c4 = features
    layers = (
        {"name": "conv_0", "n_features": c0, "kernel_size": 3},
        {"name": "res_1", "n_features": c1, "kernels": (3, 3), "repeat": 3},
        {"name": "res_2", "n_features": c2, "kernels": (3, 3), "repeat": 3},
        {"name": "res_3", "n_features": c3, "kernels": (3, 3), "repeat": 3},
        {"name": "conv_1", "n_features": c4, "kernel_size": 1},
        {"name": "conv_2", "kernel_size": 1},
    )
    cls = HighRes3DZMNet if zero_mean else HighResNet
    net = he_init(cls(spatial_dims, in_channels, out_channels, acti_type="prelu", layer_params=layers))
    if zero_mean:
        net.zero_mean_()
    return net


def unet3d(
    in_channels: int, out_channels: int, spatial_dims: int, channels: Sequence[int] = (32, 64, 128, 256)
) -> nn.Module:
    """3-D U-Net (Çiçek et al. 2016: four levels, three 2x downsamplings, batch norm) from MONAI's ``UNet``
    without residual units (downsampling by strided convolution, MONAI's choice)."""
    return he_init(
        UNet(spatial_dims, in_channels, out_channels, tuple(channels), (2,) * (len(channels) - 1), norm="batch")
    )


def vnet(in_channels: int, out_channels: int, spatial_dims: int, dropout: float = 0.5) -> nn.Module:
    """V-Net (Milletari et al. 2016; MONAI ``VNet``); window sides must be multiples of 16."""
    return he_init(
        VNet(spatial_dims, in_channels, out_channels, dropout_prob_down=dropout, dropout_prob_up=(dropout, dropout))
    )


def _pathway(in_channels: int, widths: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Conv3d(in_channels, w, 3, padding=1), nn.BatchNorm3d(w), nn.PReLU(w)]
        in_channels = w
    return nn.Sequential(*layers)


class DeepMedic(nn.Module):
    """Compact dual-pathway DeepMedic **[reconstruction of Kamnitsas et al. 2017]**: a normal pathway of eight
    3³ convolutions (30, 30, 40, 40, 40, 40, 50, 50 channels) on the window, a second identical pathway on the
    window average-pooled by ``factor`` (3) and upsampled back (trilinear), concatenated, two 1³ layers of 150
    ("fully connected"), then 1³ to the classes. Convolutions are padded ("same") rather than valid, so the
    output covers the whole window and sliding-window inference needs no margin (our choice)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        widths: Sequence[int] = (30, 30, 40, 40, 40, 40, 50, 50),
        fc: int = 150,
        factor: int = 3,
    ) -> None:
        super().__init__()
        self.factor = factor
        self.normal = _pathway(in_channels, widths)
        self.context = _pathway(in_channels, widths)
        self.head = nn.Sequential(
            nn.Conv3d(2 * widths[-1], fc, 1), nn.BatchNorm3d(fc), nn.PReLU(fc),
            nn.Conv3d(fc, fc, 1), nn.BatchNorm3d(fc), nn.PReLU(fc),
            nn.Conv3d(fc, out_channels, 1),
        )  # fmt: skip
        he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = F.avg_pool3d(x, self.factor, ceil_mode=True)
        ctx = F.interpolate(self.context(low), size=x.shape[2:], mode="trilinear", align_corners=False)
        return self.head(torch.cat([self.normal(x), ctx], dim=1))


def deepmedic(
    in_channels: int,
    out_channels: int,
    spatial_dims: int,
    widths: Sequence[int] = (30, 30, 40, 40, 40, 40, 50, 50),
    fc: int = 150,
) -> nn.Module:
    return DeepMedic(in_channels, out_channels, widths, fc)


class BinaryHeads(nn.Module):
    """One independent binary network per entry of ``heads`` (output channel of a foreground class → the
    network's logit); the other channels are fixed at a very negative logit. With a sigmoid entry this is
    the paper's binary classifiers (one head) and their merged output (two heads: a voxel takes the more
    probable class above 0.5, our reading of "merged")."""

    def __init__(self, out_channels: int, heads: Sequence[int], build: Callable[[int], nn.Module]) -> None:
        super().__init__()
        if any(not 0 <= h < out_channels for h in heads):
            raise ValueError(f"head channels {list(heads)} must lie in 0..{out_channels - 1}")
        self.out_channels = out_channels
        self.channels = tuple(heads)
        self.heads = nn.ModuleList(build(1) for _ in heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = dict(zip(self.channels, (head(x) for head in self.heads), strict=True))
        fill = x.new_full((x.shape[0], 1, *x.shape[2:]), NEG_LOGIT)
        return torch.cat([logits.get(c, fill) for c in range(self.out_channels)], dim=1)


BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "unet": unet3d,
    "vnet": vnet,
    "deepmedic": deepmedic,
    "highres3dnet": highres3dnet,
}


def paper_network(
    in_channels: int,
    out_channels: int,
    spatial_dims: int,
    network: str,
    zero_mean: bool = False,
    heads: tuple[int, ...] | None = None,
    **kwargs,
) -> nn.Module:
    """One of table 1's networks (``network``), with zero-mean first-layer kernels or as binary classifiers
    (one network per foreground channel in ``heads``) where the row says so."""
    from segrepro.errors import UserError

    if spatial_dims != 3:
        raise UserError(f"paper 004's networks are 3-D; got {spatial_dims}-D data")
    build = BUILDERS[network]
    extra = {"zero_mean": True} if zero_mean else {}
    if not heads:
        return build(in_channels, out_channels, spatial_dims, **extra, **kwargs)
    if max(heads) >= out_channels:
        raise UserError(
            f"binary classifiers for classes {[c + 1 for c in heads]} need a dataset with that many foreground classes"
        )
    return BinaryHeads(out_channels, list(heads), lambda k: build(in_channels, k, spatial_dims, **extra, **kwargs))
