"""What the networks see of a prepared dataset: its volumes normalised (``Case``) for prediction
and as ``TrainVolume`` for patch sampling. The one place the preprocessing is applied."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segrepro.datasets import PreparedDataset
from segrepro.sampling import TrainVolume, make_train_volume

Case = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # (volume id, normalised image, label, mask)


def normalise(image: np.ndarray) -> np.ndarray:
    """Per-volume z-score (the default preprocessing)."""
    img = np.asarray(image, dtype=np.float32)
    return (img - img.mean()) / max(float(img.std()), 1e-6)


def input_channels() -> int:
    """Channels of the network input that ``normalise`` makes (one grey channel)."""
    return 1


def load_cases(data: PreparedDataset, ids: Sequence[str]) -> list[Case]:
    """The prepared volumes ``ids``, images normalised as the models see them."""
    out = []
    for vid in ids:
        img, lab, msk = data.load(vid)
        out.append((vid, normalise(img), np.asarray(lab), np.asarray(msk)))
    return out


def train_volumes(cases: Sequence[Case], n_classes: int) -> list[TrainVolume]:
    """Cases as the patch sampler draws from them."""
    return [make_train_volume(img, lab, msk, n_classes) for _, img, lab, msk in cases]
