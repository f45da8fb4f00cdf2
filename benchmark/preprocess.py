"""The ``preprocess`` hook: a prepared image volume → the network's input channels.

The default is segrepro's per-volume z-score with one channel. Entries that add channels (paper 003's
grain-filter channels) or transform contrast (paper 004's extended AGCWD) supply their own object with the
same two members, so the model's input channel count is derived from the entry, never fixed at 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Preprocess(Protocol):
    """``channels`` input channels; calling it maps ``(*spatial)`` to ``(channels, *spatial)`` float32."""

    channels: int

    def __call__(self, image: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ZScore:
    """Per-volume z-score: zero mean, unit standard deviation over the whole volume (one channel)."""

    channels: int = 1

    def __call__(self, image: np.ndarray) -> np.ndarray:
        img = np.asarray(image, dtype=np.float32)
        return ((img - img.mean()) / max(float(img.std()), 1e-6))[None]
