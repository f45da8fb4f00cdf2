"""Paper 003's "Ilastik" row: a random forest on ilastik's default filter bank, as a ``Method`` (not a network).

**[paper]** Table 1 compares the networks with an ilastik pixel classifier. ilastik trains a random forest
(100 trees) on per-voxel filter responses of its default feature set (``features.py``) from the voxels a
user labelled. **[reconstruction]** The paper does not say which features or labels its ilastik project
used: here every default filter at every default σ, and a class-balanced random sample of the fold's
valid-mask training voxels (up to ``samples_per_class`` per class, the same for every dataset) stands in
for a user's brush strokes; scikit-learn's ``RandomForestClassifier`` (Gini, √features per split, fully
grown trees) stands in for VIGRA's. Features are computed on the z-scored image (one channel per input
channel), 3-D volumes slab by slab (``feature_chunks``), and prediction is made slab by slab, so no whole
feature stack of a large volume is ever held.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from segrepro.baselines.meyer2021.features import SIGMAS, feature_chunks, features
from segrepro.errors import UserError

if TYPE_CHECKING:
    from segrepro.cases import Case


def image_features(image: np.ndarray, sigmas: tuple[float, ...]) -> np.ndarray:
    """``(n_features, *spatial)`` of a preprocessed ``(C, *spatial)`` image: each channel's features stacked."""
    return np.concatenate([features(channel, sigmas) for channel in image])


def sampling_rates(cases: list[Case], n_classes: int, samples_per_class: int) -> np.ndarray:
    """Per class, the probability of drawing each of its valid-mask voxels so that about
    ``samples_per_class`` are drawn over all ``cases`` (1 for rarer classes: all their voxels)."""
    totals = np.zeros(n_classes, dtype=np.int64)
    for _, _, label, mask in cases:
        lab = np.asarray(label)[np.asarray(mask) > 0]
        if lab.size and int(lab.max()) >= n_classes:
            raise UserError(f"a label holds class {int(lab.max())}; the dataset has {n_classes} classes")
        totals += np.bincount(lab.ravel().astype(np.int64), minlength=n_classes)
    if not totals.any():
        raise UserError("the fold's training images have no valid (masked-in) voxels to train the forest on")
    return np.minimum(1.0, samples_per_class / np.maximum(totals, 1))


@dataclass(frozen=True)
class FittedForest:
    """The fitted forest and the number of classes it predicts probabilities for (classes absent from the
    training sample get probability 0)."""

    forest: Any
    n_classes: int


@dataclass(frozen=True)
class IlastikForest:
    """Random forest on the filter bank; ``params`` of a tier: ``n_estimators``, ``samples_per_class``."""

    name: str = "random forest (scikit-learn) on ilastik's default filter bank"
    sigmas: tuple[float, ...] = SIGMAS

    def fit(self, cases: list[Case], n_classes: int, params: dict[str, Any], seed: int, progress: bool) -> FittedForest:
        from sklearn.ensemble import RandomForestClassifier

        rng = np.random.default_rng(seed)
        rates = sampling_rates(cases, n_classes, int(params["samples_per_class"]))
        xs, ys = [], []
        for _, image, label, mask in tqdm(cases, desc="forest features", unit="img", disable=not progress, leave=False):
            valid = np.asarray(mask) > 0
            lab = np.where(valid, np.asarray(label), 0).astype(np.int64)  # masked-out voxels may hold any value
            drawn = valid & (rng.random(lab.shape) < rates[lab])
            if not drawn.any():
                continue
            for slab, f in self._chunks(image):
                picked = drawn[slab]
                xs.append(f[:, picked].T)
                ys.append(lab[slab][picked])
        forest = RandomForestClassifier(n_estimators=int(params["n_estimators"]), random_state=seed % 2**32, n_jobs=1)
        forest.fit(np.concatenate(xs), np.concatenate(ys))
        return FittedForest(forest, n_classes)

    def _chunks(self, image: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """``(slab, features)`` of a preprocessed ``(C, *spatial)`` image: whole for 2-D, slabs along the
        first spatial axis for 3-D (each channel's features stacked)."""
        if image.ndim == 3:  # (C, y, x): 2-D
            yield slice(None), image_features(image, self.sigmas)
            return
        for parts in zip(*(feature_chunks(c, sigmas=self.sigmas) for c in image), strict=True):
            yield parts[0][0], np.concatenate([f for _, f in parts])

    def predict(self, fitted: FittedForest, image: np.ndarray) -> np.ndarray:
        probs = np.zeros((fitted.n_classes, *image.shape[1:]), dtype=np.float32)
        classes = fitted.forest.classes_
        for slab, f in self._chunks(image):
            p = fitted.forest.predict_proba(f.reshape(f.shape[0], -1).T).astype(np.float32)
            target = probs[:, slab]  # a view: written through
            target[classes] = p.T.reshape(len(classes), *target.shape[1:])
        return probs

    def size(self, fitted: FittedForest) -> int:
        return int(sum(tree.tree_.node_count for tree in fitted.forest.estimators_))
