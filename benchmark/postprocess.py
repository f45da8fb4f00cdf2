"""The ``postprocess`` hook: a network's class probabilities → the prediction that is scored.

A prediction is in the dataset's classes: class ids, per-class scores (what ROC AUC is computed from) and,
for entries that produce them (paper 002's MAP and watershed), instance labels. An entry whose
``target_transform`` trains on other classes maps back here. The default keeps the entry's decision rule
(argmax, or the thresholded multi-label sigmoid) and its probabilities, without instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass
class Prediction:
    classes: np.ndarray  # (*spatial) integer class ids of the dataset (uint8; uint16 above 256 classes)
    scores: np.ndarray  # (K, *spatial) float32 per-class scores of the dataset's K classes
    instances: np.ndarray | None = None  # (*spatial) int32 instance ids, 0 = no instance


@runtime_checkable
class Postprocess(Protocol):
    """Called with ``probs`` ``(B, K, *spatial)`` (K training classes) and the entry's own decision
    ``decided`` ``(B, *spatial)``; returns one ``Prediction`` per batch item."""

    def __call__(self, probs: torch.Tensor, decided: torch.Tensor) -> list[Prediction]: ...


@dataclass(frozen=True)
class Decide:
    """Keep the entry's decision rule (argmax, or thresholded sigmoid) and its probabilities; no instances."""

    def __call__(self, probs: torch.Tensor, decided: torch.Tensor) -> list[Prediction]:
        return [Prediction(d.cpu().numpy(), p.cpu().numpy()) for p, d in zip(probs, decided, strict=True)]
