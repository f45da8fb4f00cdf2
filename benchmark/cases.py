"""What a network sees of a prepared dataset: its volumes through the entry's ``preprocess`` hook
(``Case``, for prediction) and, with labels through its ``target_transform`` hook, as ``TrainVolume``
for patch sampling. The one place both hooks are applied to prepared data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from segrepro.datasets import PreparedDataset
from segrepro.entry import BaselineEntry
from segrepro.sampling import TrainVolume, make_train_volume

Case = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # (volume id, preprocessed image (C, *spatial), label, mask)


def load_cases(entry: BaselineEntry, data: PreparedDataset, ids: Sequence[str]) -> list[Case]:
    """The prepared volumes ``ids``, images preprocessed as ``entry``'s network sees them."""
    out = []
    for vid in ids:
        img, lab, msk = data.load(vid)
        out.append((vid, entry.preprocess(img), np.asarray(lab), np.asarray(msk)))
    return out


def train_volumes(entry: BaselineEntry, data: PreparedDataset, cases: Sequence[Case]) -> list[TrainVolume]:
    """``cases`` as the patch sampler draws from them: labels (and instance labels, where the dataset has
    them) mapped to the entry's training classes."""
    k = len(entry.training_classes(data.class_names))
    return [
        make_train_volume(img, entry.target_transform(lab, data.load_instances(vid)), msk, k)
        for vid, img, lab, msk in cases
    ]
