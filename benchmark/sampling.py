"""Training patches: random crops, a fraction centred on a voxel of a randomly drawn foreground
class (the balanced sampling of papers 003 and 004), padded with masked voxels where a volume is
smaller than the patch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TrainVolume:
    image: np.ndarray  # float32, normalised
    label: np.ndarray  # int64 class ids
    mask: np.ndarray  # float32, 1 = scored
    fg_index: dict[int, np.ndarray]  # class id -> flat indices of its scored voxels


def make_train_volume(image: np.ndarray, label: np.ndarray, mask: np.ndarray, n_classes: int) -> TrainVolume:
    lab = np.asarray(label, dtype=np.int64)
    msk = np.asarray(mask, dtype=np.float32)
    flat = lab.ravel()
    scored = msk.ravel() > 0
    fg = {k: np.flatnonzero((flat == k) & scored) for k in range(1, n_classes)}
    return TrainVolume(np.asarray(image, dtype=np.float32), lab, msk, {k: v for k, v in fg.items() if v.size})


class PatchSampler:
    """Draws batches of ``(image, label, mask)`` patches, deterministic from its seed."""

    def __init__(self, volumes: list[TrainVolume], patch: tuple[int, ...], fg_oversample: float, seed: int):
        if not volumes:
            raise ValueError("no training volumes")
        self.volumes = volumes
        self.patch = patch
        self.fg_oversample = fg_oversample
        self.rng = np.random.default_rng(seed)

    def _origin(self, vol: TrainVolume) -> tuple[int, ...]:
        shape = vol.label.shape
        if vol.fg_index and self.rng.random() < self.fg_oversample:
            cls = self.rng.choice(sorted(vol.fg_index))
            centre = np.unravel_index(self.rng.choice(vol.fg_index[cls]), shape)
            return tuple(
                int(np.clip(c - p // 2, 0, max(s - p, 0))) for c, p, s in zip(centre, self.patch, shape, strict=True)
            )
        return tuple(int(self.rng.integers(0, max(s - p, 0) + 1)) for p, s in zip(self.patch, shape, strict=True))

    def sample(self, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        images, labels, masks = [], [], []
        for _ in range(batch_size):
            vol = self.volumes[int(self.rng.integers(len(self.volumes)))]
            origin = self._origin(vol)
            sl = tuple(slice(o, o + p) for o, p in zip(origin, self.patch, strict=True))
            img, lab, msk = vol.image[sl], vol.label[sl], vol.mask[sl]
            pad = [(0, p - s) for p, s in zip(self.patch, img.shape, strict=True)]
            if any(after for _, after in pad):
                img = np.pad(img, pad)
                lab = np.pad(lab, pad)
                msk = np.pad(msk, pad)  # padding is masked (zeros)
            images.append(img)
            labels.append(lab)
            masks.append(msk)
        return np.stack(images)[:, None], np.stack(labels), np.stack(masks)
