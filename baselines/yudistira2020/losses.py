"""The seven losses of Yudistira et al. 2020 on sigmoid multi-label outputs, all masked.

Outputs are logits ``(B, K-1, *spatial)``, one channel per foreground class (background = every
channel off); the target ``(B, *spatial)`` class ids becomes the binary maps ``g_k = [target == k]``
for k = 1..K-1. Every sum runs over scored voxels only (``mask`` = 1), so masked voxels contribute
to neither the value nor the gradient. Dice-type terms are computed per image and class, summed
over classes (the paper's L = sum_k L_k) and averaged over the batch.

The paper gives the formulas of DL, CDL and RWCDL only as images and in words; METHODS.md section
000 fixes the reading used here. Two details are reconstructions, each behind a parameter:
the CDL "outer joint" (background) term and the RWCDL weights.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from monai.losses import FocalLoss, GeneralizedDiceLoss
from torch import nn

SMOOTH = 1.0  # the paper's smoothing m "1.0 by experiment" (eqs. 2 and 3)


def binary_targets(target: torch.Tensor, channels: int) -> torch.Tensor:
    """``(B, *spatial)`` ids -> ``(B, channels, *spatial)`` float maps of classes 1..channels."""
    classes = torch.arange(1, channels + 1, device=target.device).view(1, -1, *([1] * (target.ndim - 1)))
    return (target.unsqueeze(1) == classes).float()


def _spatial(x: torch.Tensor) -> tuple[int, ...]:
    return tuple(range(2, x.ndim))


def dice_loss_per_class(p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, smooth: float = SMOOTH) -> torch.Tensor:
    """``(B, C)`` values of DL_k = 1 - (2 sum(p g) + m) / (sum(p) + sum(g) + m) over scored voxels."""
    dims = _spatial(p)
    inter = (p * g * m).sum(dims)
    return 1 - (2 * inter + smooth) / ((p * m).sum(dims) + (g * m).sum(dims) + smooth)


def compound_dice_per_class(
    p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, complement: bool = True, smooth: float = SMOOTH
) -> torch.Tensor:
    """``(B, C)`` values of CDL_k = DL_k(p, g) + DL_k(1 - p, 1 - g).

    Reconstruction (METHODS.md 000): the paper's "outer joint" term is read as the dice loss of the
    complements (the background of class k). ``complement=False`` drops it, leaving DL_k.
    """
    loss = dice_loss_per_class(p, g, m, smooth)
    if complement:
        loss = loss + dice_loss_per_class(1 - p, 1 - g, m, smooth)
    return loss


RwcdWeights = Literal["share", "ratio"]


def rwcd_weights(g: torch.Tensor, m: torch.Tensor, form: RwcdWeights = "share") -> torch.Tensor:
    """``(B, C)`` class weights of RWCDL, one per image and class, from the ground truth only.

    Reconstruction (METHODS.md 000; the paper's equation is not legible in the text). With N_fk and
    N_bk the scored foreground/background voxel counts of class k in the image:

    - ``share`` (default): the smoothed background share w_k = (N_bk + 1) / (N_fk + N_bk + 2), in
      (0, 1): never 0, never exploding, larger for a rarer class (the paper's stated aims);
    - ``ratio`` (the earlier reading): w_k = (N_bk + 1) / (N_fk + 1), rescaled so that the weights of
      each image sum to the number of classes. A class absent from an image then takes almost all
      of the weight (about 5.0 of 5 at 256x256), which is why it is no longer the default.
    """
    dims = _spatial(g)
    n_f = (g * m).sum(dims)
    n_b = ((1 - g) * m).sum(dims)
    if form == "share":
        w = (n_b + 1) / (n_f + n_b + 2)
    elif form == "ratio":
        w = (n_b + 1) / (n_f + 1)
        w = w * (w.shape[1] / w.sum(dim=1, keepdim=True))
    else:
        raise ValueError(f"RWCDL weights must be 'share' or 'ratio', not {form!r}")
    return w.detach()


class _SigmoidLoss(nn.Module):
    """Shared plumbing: logits -> probabilities, binary targets and a broadcastable mask."""

    @staticmethod
    def prepare(
        logits: torch.Tensor | tuple, target: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        if isinstance(logits, tuple | list):
            logits = logits[0]
        g = binary_targets(target, logits.shape[1])
        return logits, torch.sigmoid(logits), g, mask.unsqueeze(1).float()


class MaskedMSELoss(_SigmoidLoss):
    """L_MSE: mean over scored voxels and classes of (sigmoid(x) - g)^2."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _, p, g, m = self.prepare(logits, target, mask)
        return (((p - g) ** 2) * m).sum() / (m.sum() * p.shape[1]).clamp_min(1.0)


class DiceLoss(_SigmoidLoss):
    """L_D = sum_k DL_k (eq. 2, smoothing m = 1), averaged over the batch."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _, p, g, m = self.prepare(logits, target, mask)
        return dice_loss_per_class(p, g, m).sum(1).mean()


class CompoundDiceLoss(_SigmoidLoss):
    """L_CD = sum_k CDL_k (eqs. 3-4). ``complement`` is the reconstructed background term."""

    def __init__(self, complement: bool = True) -> None:
        super().__init__()
        self.complement = complement

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _, p, g, m = self.prepare(logits, target, mask)
        return compound_dice_per_class(p, g, m, self.complement).sum(1).mean()


class RegularizedWeightedCompoundDiceLoss(_SigmoidLoss):
    """L_RWCD = sum_k w_k CDL_k (eq. 6) with the reconstructed weights of ``rwcd_weights``.

    ``weights`` and ``complement`` select the reconstruction (defaults: METHODS.md 000).
    """

    def __init__(self, weights: RwcdWeights = "share", complement: bool = True) -> None:
        super().__init__()
        rwcd_weights(torch.zeros(1, 1, 1), torch.ones(1, 1, 1), weights)  # an unknown form fails here, not mid-run
        self.weights = weights
        self.complement = complement

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _, p, g, m = self.prepare(logits, target, mask)
        w = rwcd_weights(g, m, self.weights)
        return (w * compound_dice_per_class(p, g, m, self.complement)).sum(1).mean()


class MaskedGeneralizedDiceLoss(_SigmoidLoss):
    """Generalized dice (Sudre et al. 2017, w_k = 1 / (sum g_k)^2): MONAI's ``GeneralizedDiceLoss``
    on mask-multiplied probabilities and targets, so unscored voxels drop out of every sum."""

    def __init__(self) -> None:
        super().__init__()
        self.gdl = GeneralizedDiceLoss(sigmoid=False, w_type="square")

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        _, p, g, m = self.prepare(logits, target, mask)
        return self.gdl(p * m, g * m)


def masked_bce(logits: torch.Tensor, g: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Mean binary cross entropy over scored voxels and classes."""
    bce = F.binary_cross_entropy_with_logits(logits, g, reduction="none")
    return (bce * m).sum() / (m.sum() * logits.shape[1]).clamp_min(1.0)


class DiceBCELoss(_SigmoidLoss):
    """Dice + BCE (the paper's D + BCE, its ref. 24): L_D + masked mean BCE, equal weights
    (the relative weight is not given in the paper; 1:1 is the usual choice)."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x, p, g, m = self.prepare(logits, target, mask)
        return dice_loss_per_class(p, g, m).sum(1).mean() + masked_bce(x, g, m)


class FocalDiceLoss(_SigmoidLoss):
    """Focal dice (the paper's FD, γ = 2.0, α = 0.2) — a reconstruction.

    The paper names only γ and α. Implemented as L_D + FL with FL the α-balanced sigmoid focal
    loss of Lin et al. 2017 (MONAI ``FocalLoss``), averaged over scored voxels and classes:
    FL = -α_t (1 - p_t)^γ log p_t, p_t = p if g = 1 else 1 - p, α_t = α if g = 1 else 1 - α.
    """

    def __init__(self, gamma: float = 2.0, alpha: float = 0.2) -> None:
        super().__init__()
        self.focal = FocalLoss(gamma=gamma, alpha=alpha, use_softmax=False, reduction="none")

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x, p, g, m = self.prepare(logits, target, mask)
        # Masked voxels get logit 0 and target 0 inside the focal term, then weight 0.
        x0 = torch.where(m > 0, x, torch.zeros_like(x))
        focal = (self.focal(x0, g * m) * m).sum() / (m.sum() * x.shape[1]).clamp_min(1.0)
        return dice_loss_per_class(p, g, m).sum(1).mean() + focal


LOSSES: dict[str, type[nn.Module]] = {
    "mse": MaskedMSELoss,
    "dl": DiceLoss,
    "cdl": CompoundDiceLoss,
    "rwcdl": RegularizedWeightedCompoundDiceLoss,
    "gdl": MaskedGeneralizedDiceLoss,
    "dicebce": DiceBCELoss,
    "focaldice": FocalDiceLoss,
}
