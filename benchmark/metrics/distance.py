"""Optional boundary metric: the 95th-percentile Hausdorff distance per class, from MONAI."""

from __future__ import annotations

import warnings

import numpy as np


def hd95_per_class(
    pred: np.ndarray,
    target: np.ndarray,
    n_classes: int,
    mask: np.ndarray | None = None,
    spacing: float | tuple[float, ...] | None = None,
) -> np.ndarray:
    """``(K,)`` symmetric HD95 in voxels (or in ``spacing`` units) between ``pred == k`` and ``target == k``.

    Masked voxels belong to neither surface. NaN where the class is absent from the prediction or
    the ground truth (a distance to nothing is undefined). Reuses MONAI's implementation (imported
    here, so that ``segrepro evaluate`` without ``--hd95`` does not load torch and MONAI).
    """
    import torch
    from monai.metrics import compute_hausdorff_distance

    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {pred.shape} != target shape {target.shape}")
    scored = np.ones(target.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
    classes = np.arange(n_classes).reshape((n_classes,) + (1,) * target.ndim)
    p = torch.from_numpy((pred[None] == classes) & scored)[None]
    t = torch.from_numpy((target[None] == classes) & scored)[None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # MONAI's own deprecation notices, not the user's concern
        warnings.simplefilter("ignore", UserWarning)  # "class k is all 0": handled below as NaN
        d = compute_hausdorff_distance(p, t, include_background=True, percentile=95, spacing=spacing)
    d = d[0].double().numpy()
    d[~np.isfinite(d)] = np.nan
    present = p[0].flatten(1).any(1).numpy() & t[0].flatten(1).any(1).numpy()
    d[~present] = np.nan
    return d
