"""Training-patch augmentations as data, built from MONAI dictionary transforms.

An ``Augment`` names a MONAI transform family and its parameters; ``Augmenter`` applies a tuple of them to
one patch, identically to image, label and mask (labels and mask resampled with nearest neighbour; voxels
moved in from outside the patch are masked). Seeded per patch, so a batch is reproducible wherever it is
drawn. MONAI is imported on first use: listing entries never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Kind = Literal["flip", "rot90", "elastic", "scale", "gamma"]
KINDS: tuple[str, ...] = ("flip", "rot90", "elastic", "scale", "gamma")


@dataclass(frozen=True)
class Augment:
    """``flip``: mirror each spatial axis with ``prob``; ``rot90``: rotate by k·90° in the last two axes;
    ``elastic``: MONAI's random elastic deformation (2-D: ``spacing``, ``magnitude``; 3-D: ``sigma``,
    ``magnitude``); ``scale``: zoom by a factor in ``[1 - amount, 1 + amount]`` keeping the patch size;
    ``gamma``: image contrast ``x ** gamma`` with gamma in ``gamma`` (image only)."""

    kind: Kind
    prob: float = 0.5
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown augmentation {self.kind!r}; choose one of {', '.join(KINDS)}")
        if not 0.0 <= self.prob <= 1.0:
            raise ValueError(f"augmentation {self.kind} needs a probability in [0, 1], not {self.prob}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "prob": self.prob, "params": dict(self.params)}


KEYS = ("image", "label", "mask")


def _transforms(aug: Augment, dims: int) -> list:
    from monai import transforms as T

    p, kw = aug.prob, aug.params
    nearest = ("bilinear", "nearest", "nearest")
    if aug.kind == "flip":
        return [T.RandFlipd(KEYS, prob=p, spatial_axis=ax) for ax in kw.get("axes", range(dims))]
    if aug.kind == "rot90":
        return [T.RandRotate90d(KEYS, prob=p, max_k=3, spatial_axes=(dims - 2, dims - 1))]
    if aug.kind == "elastic":
        magnitude = tuple(kw.get("magnitude", (1.0, 2.0) if dims == 2 else (20.0, 40.0)))
        if dims == 2:
            spacing = tuple(kw.get("spacing", (20, 20)))
            return [T.Rand2DElasticd(KEYS, spacing, magnitude, prob=p, mode=nearest, padding_mode="zeros")]
        sigma = tuple(kw.get("sigma", (5.0, 7.0)))
        return [T.Rand3DElasticd(KEYS, sigma, magnitude, prob=p, mode=nearest, padding_mode="zeros")]
    if aug.kind == "scale":
        amount = float(kw.get("amount", 0.1))
        interp = "bilinear" if dims == 2 else "trilinear"
        return [
            T.RandZoomd(
                KEYS,
                prob=p,
                min_zoom=1 - amount,
                max_zoom=1 + amount,
                mode=(interp, "nearest", "nearest"),
                padding_mode="constant",
                keep_size=True,
            )
        ]
    gamma = tuple(kw.get("gamma", (0.7, 1.5)))
    return [T.RandAdjustContrastd(("image",), prob=p, gamma=gamma)]


class Augmenter:
    """Applies ``augments`` to one ``(C, *patch)`` image with its ``(*patch)`` label and mask."""

    def __init__(self, augments: tuple[Augment, ...], dims: int) -> None:
        from monai.transforms import Compose

        self.compose = Compose([t for a in augments for t in _transforms(a, dims)])

    def __call__(
        self, image: np.ndarray, label: np.ndarray, mask: np.ndarray, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from monai.utils import convert_to_numpy

        self.compose.set_random_state(seed=seed)
        out = self.compose(
            {"image": image, "label": label[None].astype(np.float32), "mask": mask[None].astype(np.float32)}
        )
        img = convert_to_numpy(out["image"], dtype=np.float32)
        lab = np.rint(convert_to_numpy(out["label"])[0]).astype(np.int64)
        msk = (convert_to_numpy(out["mask"])[0] > 0.5).astype(np.float32)
        return img, lab, msk
