"""The ``sampling`` hook: which training patches a network sees, and how they are augmented.

A ``Sampling`` is data: the patch policy (uniform; a fraction of patches centred on a voxel of a randomly
drawn foreground class, the balanced sampling of paper 003; or per-class window probabilities such as
paper 004's 0.4 / 0.4 / 0.2) and a tuple of augmentations (built from MONAI transforms, see
``segrepro.augment``), applied identically to image, label and mask.

Batch ``i`` is a pure function of ``(seed, i)``: any DataLoader worker can draw any batch, the stream is
the same with 0 or N workers, and resuming at iteration ``i`` needs no generator state.
Patches that stick out of a volume are padded with masked voxels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segrepro.augment import Augment, Augmenter


@dataclass(frozen=True)
class Sampling:
    """``fg_fraction``: share of patches centred on a voxel of a foreground class drawn uniformly among
    those present in a uniformly drawn volume (the rest are uniform windows). ``class_probabilities``
    (one per class, background first; overrides ``fg_fraction``): the class a window is centred on is drawn
    with these probabilities, then a volume that contains it; class 0 means a uniform window.
    ``augment``: applied in order to every patch. ``pad_small``: a volume smaller than the window is padded
    with masked voxels (True) or refused with a ``UserError`` (False, for entries whose windows must be real data)."""

    fg_fraction: float = 0.5
    class_probabilities: tuple[float, ...] | None = None
    augment: tuple[Augment, ...] = ()
    pad_small: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.fg_fraction <= 1.0:
            raise ValueError(f"fg_fraction must lie in [0, 1], not {self.fg_fraction}")
        if self.class_probabilities is not None:
            p = np.asarray(self.class_probabilities, dtype=float)
            if p.ndim != 1 or len(p) < 2 or (p < 0).any() or not np.isclose(p.sum(), 1.0):
                raise ValueError(f"class_probabilities must be ≥ 0 and sum to 1, not {self.class_probabilities}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "fg_fraction": self.fg_fraction,
            "class_probabilities": list(self.class_probabilities) if self.class_probabilities else None,
            "augment": [a.to_dict() for a in self.augment],
            "pad_small": self.pad_small,
        }


@dataclass
class TrainVolume:
    image: np.ndarray  # (C, *spatial) float32, preprocessed
    label: np.ndarray  # (*spatial) int64 training class ids
    mask: np.ndarray  # (*spatial) float32, 1 = scored
    fg_index: dict[int, np.ndarray] = field(default_factory=dict)  # class id -> flat indices of its scored voxels


def make_train_volume(image: np.ndarray, label: np.ndarray, mask: np.ndarray, n_classes: int) -> TrainVolume:
    """``image`` is ``(C, *spatial)`` or, for one channel, ``(*spatial)``."""
    lab = np.asarray(label, dtype=np.int64)
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == lab.ndim:
        img = img[None]
    msk = np.asarray(mask, dtype=np.float32)
    flat = lab.ravel()
    scored = msk.ravel() > 0
    fg = {k: np.flatnonzero((flat == k) & scored) for k in range(1, n_classes)}
    return TrainVolume(img, lab, msk, {k: v for k, v in fg.items() if v.size})


def check_window_fits(volumes: Sequence[TrainVolume], patch: tuple[int, ...]) -> None:
    """A one-line ``UserError`` when a training volume is smaller than the window along some axis."""
    from segrepro.errors import UserError

    for vol in volumes:
        if any(s < p for s, p in zip(vol.label.shape, patch, strict=True)):
            raise UserError(
                f"a training volume of shape {vol.label.shape} is smaller than the training window {patch}; "
                "choose a tier with a smaller window (e.g. --tier quick) or larger volumes"
            )


class PatchSampler:
    """Draws batch ``i`` of ``(image, label, mask)`` patches, deterministic from ``(seed, i)``."""

    def __init__(
        self,
        volumes: Sequence[TrainVolume],
        patch: tuple[int, ...],
        sampling: Sampling,
        seed: int,
        batch_size: int,
    ) -> None:
        if not volumes:
            raise ValueError("no training volumes")
        self.volumes = list(volumes)
        self.patch = tuple(patch)
        self.sampling = sampling
        self.seed = seed
        self.batch_size = batch_size
        if not sampling.pad_small:
            check_window_fits(self.volumes, self.patch)
        self.augmenter = Augmenter(sampling.augment, len(patch)) if sampling.augment else None
        self._with_class = {
            k: [i for i, v in enumerate(self.volumes) if k in v.fg_index]
            for k in range(1, len(sampling.class_probabilities or ()))
        }

    def _centred(self, rng: np.random.Generator, vol: TrainVolume, cls: int) -> tuple[int, ...]:
        shape = vol.label.shape
        centre = np.unravel_index(rng.choice(vol.fg_index[cls]), shape)
        return tuple(
            int(np.clip(c - p // 2, 0, max(s - p, 0))) for c, p, s in zip(centre, self.patch, shape, strict=True)
        )

    def _uniform(self, rng: np.random.Generator, vol: TrainVolume) -> tuple[int, ...]:
        return tuple(int(rng.integers(0, max(s - p, 0) + 1)) for p, s in zip(self.patch, vol.label.shape, strict=True))

    def _window(self, rng: np.random.Generator) -> tuple[TrainVolume, tuple[int, ...]]:
        probs = self.sampling.class_probabilities
        if probs is not None:
            cls = int(rng.choice(len(probs), p=probs))
            holders = self._with_class.get(cls, [])
            if cls and holders:
                vol = self.volumes[holders[int(rng.integers(len(holders)))]]
                return vol, self._centred(rng, vol, cls)
            vol = self.volumes[int(rng.integers(len(self.volumes)))]
            return vol, self._uniform(rng, vol)
        vol = self.volumes[int(rng.integers(len(self.volumes)))]
        if vol.fg_index and rng.random() < self.sampling.fg_fraction:
            return vol, self._centred(rng, vol, int(rng.choice(sorted(vol.fg_index))))
        return vol, self._uniform(rng, vol)

    def batch(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batch ``index``: images ``(B, C, *patch)`` float32, labels ``(B, *patch)`` int64, masks float32."""
        rng = np.random.default_rng([self.seed, index])
        images, labels, masks = [], [], []
        for _ in range(self.batch_size):
            vol, origin = self._window(rng)
            sl = tuple(slice(o, o + p) for o, p in zip(origin, self.patch, strict=True))
            img, lab, msk = vol.image[(slice(None), *sl)], vol.label[sl], vol.mask[sl]
            pad = [(0, p - s) for p, s in zip(self.patch, lab.shape, strict=True)]
            if any(after for _, after in pad):
                img = np.pad(img, [(0, 0), *pad])
                lab = np.pad(lab, pad)
                msk = np.pad(msk, pad)  # padding is masked (zeros)
            if self.augmenter is not None:
                img, lab, msk = self.augmenter(img, lab, msk, int(rng.integers(2**31)))
            images.append(img)
            labels.append(lab)
            masks.append(msk)
        return np.stack(images), np.stack(labels), np.stack(masks)


def batches(sampler: PatchSampler, start: int, stop: int, workers: int = 0) -> Iterator[tuple]:
    """Batches ``start .. stop - 1`` in order; with ``workers`` > 0 drawn (and augmented) in DataLoader
    worker processes ahead of the training step. The same batches whatever ``workers`` is."""
    if workers == 0:
        yield from (sampler.batch(i) for i in range(start, stop))
        return
    from torch.utils.data import DataLoader

    loader = DataLoader(_Batches(sampler), batch_size=None, sampler=range(start, stop), num_workers=workers)
    for x, y, m in loader:
        yield x.numpy(), y.numpy(), m.numpy()


class _Batches:
    """Map-style dataset view of a sampler: item ``i`` is batch ``i``."""

    def __init__(self, sampler: PatchSampler) -> None:
        self.sampler = sampler

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.sampler.batch(index)
