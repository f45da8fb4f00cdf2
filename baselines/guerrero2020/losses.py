"""Paper 002's losses, all masked (masked voxels add nothing to value or gradient).

- ``JCLoss``: cross entropy + the J-statistic regulariser over ordered class pairs (paper + authors' code).
- ``BWMLoss``: cross entropy weighted per voxel by its class's (1/N_c) / max_c'(1/N_c') (authors' code).
- ``W3Loss`` [reconstruction]: cross entropy weighted by a "triplex" map w = 1 + w_c + w0 exp(-(d1+d2)^2 / 2σ^2).
DSC (cross entropy + dice) is ``segrepro.baselines.losses.MaskedDiceCELoss``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from segrepro.baselines.guerrero2020.targets import CELL

EPS = 1e-8


def masked_ce_terms(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-voxel cross entropy ``(B, *spatial)`` and log-probabilities ``(B, K, *spatial)``."""
    logp = F.log_softmax(logits, dim=1)
    return -logp.gather(1, target.long().unsqueeze(1)).squeeze(1), logp


def class_counts(target: torch.Tensor, mask: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Scored voxels per class (float, differentiable-free)."""
    return torch.bincount(target.reshape(-1).long(), weights=mask.reshape(-1).float(), minlength=n_classes)


def j_statistic(m: torch.Tensor, n: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """L_J = Σ_i Σ_{k≠i, n_i n_k > 0} -λ log D_ik, D_ik = ½ + ½(M_ii/n_i - M_ik/n_k) + 1e-8, and ∂L_J/∂M.

    From the K x K class sums: n_i = scored voxels of class i, M_ik = Σ z_i over scored voxels of class k
    (z = softmax of the logits). ∂L_J/∂M_ik = λ / (2 D_ik n_k) for k ≠ i, ∂L_J/∂M_ii = -Σ_k λ / (2 D_ik n_i)."""
    k = m.shape[0]
    count = n.clamp_min(1)
    rate = m / count[None, :]  # rate[i, k] = mean z_i over class-k voxels
    pair = (n[:, None] > 0) & (n[None, :] > 0) & ~torch.eye(k, dtype=torch.bool, device=m.device)
    d = 0.5 + 0.5 * (rate.diagonal()[:, None] - rate) + EPS
    value = (-lam * torch.log(d))[pair].sum()
    w = torch.where(pair, lam / (2 * d), torch.zeros_like(d))
    grad = w / count[None, :]
    grad.diagonal().copy_(-w.sum(1) / count)
    return value, grad


class _JCFunction(torch.autograd.Function):
    """Masked CE + J statistic over the whole minibatch, with the gradient written out.

    Autograd through log-softmax, exp, the scatter of z into the class sums and the gathered CE cost 1.7x
    cross entropy per step; here one softmax serves both terms and the gradient is one gather and a few
    elementwise passes: with z = softmax(x), t the target, a = mask / Σ mask and g_i = ∂J/∂M_{i,t}
    (0 where masked), ∂L/∂x_j = z_j (g_j - Σ_i z_i g_i + a) - a [j = t]."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, lam: float) -> torch.Tensor:
        b, k = logits.shape[:2]
        t = target.long().unsqueeze(1)
        z = F.softmax(logits, dim=1)
        a = mask.to(z.dtype).unsqueeze(1) / mask.sum().clamp_min(EPS).to(z.dtype)
        ce = -(target_log_probability(logits, z, t) * a).sum()
        bucket = torch.where(mask.unsqueeze(1) != 0, t, k)  # masked voxels go to an extra bucket, dropped
        sums = torch.zeros(b, k, k + 1, dtype=z.dtype, device=z.device)
        m = sums.scatter_add_(2, bucket.reshape(b, 1, -1).expand(b, k, -1), z.reshape(b, k, -1)).sum(0)[:, :k]
        n = torch.bincount(bucket.reshape(-1), minlength=k + 1)[:k].to(z.dtype)
        j, dj_dm = j_statistic(m, n, lam)
        ctx.save_for_backward(z, t, bucket, a, torch.cat([dj_dm, dj_dm.new_zeros(k, 1)], 1))
        return ce + j

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        z, t, bucket, a, dj_dm = ctx.saved_tensors
        b, k = z.shape[:2]
        index = bucket.reshape(b, 1, -1).expand(b, k, -1)
        h = (dj_dm * grad).expand(b, k, k + 1).gather(2, index).view(z.shape)  # g_i = ∂J/∂M_{i,t}
        a = a * grad
        h *= z  # z_j g_j, then - z_j (Σ_i z_i g_i - a) in one fused pass
        h.addcmul_(z, h.sum(1, keepdim=True) - a, value=-1)
        return h.scatter_add_(1, t, -a), None, None, None


def target_log_probability(logits: torch.Tensor, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """log z_t from the softmax ``z`` (one log per voxel, not a log-softmax pass), recomputed by log-softmax
    at the voxels where z_t is too small for float precision (log would lose digits or give -inf)."""
    logp = z.gather(1, t).log_()
    floor = math.log(torch.finfo(z.dtype).tiny) + 10  # z_t near the smallest normal float
    if logp.min() < floor:
        tiny = logp < floor
        voxels = tiny.squeeze(1)
        exact = F.log_softmax(logits.movedim(1, -1)[voxels], dim=-1).gather(1, t.squeeze(1)[voxels].unsqueeze(1))
        logp[tiny] = exact.squeeze(1)
    return logp


class JCLoss(nn.Module):
    """L_JC = CE + L_J (unweighted CE; λ = 0.5 by default, the paper does not state it)."""

    def __init__(self, lam: float = 0.5) -> None:
        super().__init__()
        self.lam = lam

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return _JCFunction.apply(logits, target, mask, self.lam)


def weighted_ce(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Σ w·CE / Σ w over scored voxels, ``weight`` per voxel ``(B, *spatial)``."""
    ce, _ = masked_ce_terms(logits, target)
    w = weight * mask
    return (ce * w).sum() / w.sum().clamp_min(EPS)


def balance_weights(target: torch.Tensor, mask: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Per class (1/N_c) / max_c'(1/N_c') over the batch's scored voxels; 0 for absent classes."""
    n = class_counts(target, mask, n_classes)
    inv = torch.where(n > 0, 1.0 / n.clamp_min(1), torch.zeros_like(n))
    return inv / inv.max().clamp_min(EPS)


class BWMLoss(nn.Module):
    """Cross entropy with class-balance weights per voxel (BWM)."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        w = balance_weights(target, mask, logits.shape[1])[target.long()]
        return weighted_ce(logits, target, mask, w.to(logits.dtype))


def two_nearest_distances(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every voxel to the nearest and the second-nearest cell (inf where there are fewer)."""
    ids, n = ndimage.label(cells)
    d1 = np.full(cells.shape, np.inf)
    d2 = np.full(cells.shape, np.inf)
    for i in range(1, n + 1):
        d = ndimage.distance_transform_edt(ids != i)
        d2 = np.minimum(d2, np.maximum(d1, d))
        d1 = np.minimum(d1, d)
    return d1, d2


def triplex_map(target: np.ndarray, mask: np.ndarray, class_weight: np.ndarray, w0: float, sigma: float) -> np.ndarray:
    """w = 1 + w_c + w0·exp(-(d1+d2)²/(2σ²)) for one image; cells = components of the scored cell voxels."""
    d1, d2 = two_nearest_distances((target == CELL) & (mask > 0))
    border = w0 * np.exp(-((d1 + d2) ** 2) / (2 * sigma**2))
    return (1 + class_weight[target] + border) * mask


class W3Loss(nn.Module):
    """Cross entropy weighted by the triplex map (W3) [reconstruction of the authors' earlier work]."""

    def __init__(self, w0: float = 10.0, sigma: float = 5.0) -> None:
        super().__init__()
        self.w0, self.sigma = w0, sigma

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        cw = balance_weights(target, mask, logits.shape[1]).cpu().numpy()
        t, m = target.cpu().numpy(), mask.cpu().numpy()
        w = np.stack([triplex_map(ti, mi, cw, self.w0, self.sigma) for ti, mi in zip(t, m, strict=True)])
        return weighted_ce(logits, target, mask, torch.as_tensor(w, dtype=logits.dtype, device=logits.device))
