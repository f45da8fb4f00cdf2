"""The ``target_transform`` hook: prepared labels (and instance labels, where a dataset has them) → the
classes a network is trained on.

The default trains on the dataset's own classes. Paper 002 trains on background / cell / touching / gap
derived from instance labels; its object reports those class names (``classes``) so the model gets one
output per training class, while predictions are still scored in the dataset's classes (see the
``postprocess`` hook).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TargetTransform(Protocol):
    """``classes(dataset_classes)`` names the training classes; calling it maps ``label`` (and
    ``instances``, ``None`` where the dataset has none) to training class ids of the same shape."""

    def classes(self, dataset_classes: Sequence[str]) -> list[str]: ...

    def __call__(self, label: np.ndarray, instances: np.ndarray | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class DatasetClasses:
    """Train on the dataset's classes as prepared."""

    def classes(self, dataset_classes: Sequence[str]) -> list[str]:
        return list(dataset_classes)

    def __call__(self, label: np.ndarray, instances: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(label, dtype=np.int64)
