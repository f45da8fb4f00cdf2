"""Paper 004's extended AGCWD contrast enhancement (section 2.3, eqs. 1-5) as a ``preprocess`` hook.

AGCWD (Huang et al. 2013) on ``levels`` intensity levels ``l = 0 .. l_max``:
pdf(l) = n_l / n (eq. 1); pdf_w(l) = pdf_max ((pdf(l) - pdf_min) / (pdf_max - pdf_min))^alpha (eq. 2);
cdf_w(l) = Σ_{i≤l} pdf_w(i) / Σ pdf_w (eq. 3); T(l) = l_max (l / l_max)^(1 - cdf_w(l)) (eq. 4).
Extension (eq. 5): only corrected intensities within ±3.5 standard deviations count; the result is
stretched between those limits ``lo``, ``hi`` and clipped to them.

**[reconstruction]** Float volumes are min-max scaled to ``levels`` (256) integer levels first; ``alpha``
(0.5, the common AGCWD setting) is not given; eq. 5 reads either as a linear stretch of T between lo and hi
(``stretch="linear"``, METHODS.md's reading, the default) or literally, through the cumulative distribution
of the corrected intensities (``stretch="cdf"``). The enhanced volume is z-scored like every entry's input,
so the rows with and without CON differ only in the intensity mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from segrepro.preprocess import ZScore


def quantise(image: np.ndarray, levels: int) -> np.ndarray:
    """Integer levels ``0 .. levels - 1`` by min-max scaling (a constant volume is all 0)."""
    img = np.asarray(image, dtype=np.float64)
    lo, hi = float(img.min()), float(img.max())
    if hi <= lo:
        return np.zeros(img.shape, dtype=np.int64)
    return np.rint((img - lo) / (hi - lo) * (levels - 1)).astype(np.int64)


def agcwd_mapping(levels: np.ndarray, n_levels: int, alpha: float) -> np.ndarray:
    """T(l) for every level ``0 .. n_levels - 1`` (eqs. 1-4), as float64."""
    pdf = np.bincount(levels.ravel(), minlength=n_levels) / levels.size
    span = pdf.max() - pdf.min()
    pdf_w = pdf.max() * ((pdf - pdf.min()) / span) ** alpha if span > 0 else np.ones(n_levels)
    cdf_w = np.cumsum(pdf_w) / pdf_w.sum()
    l_max = n_levels - 1
    return l_max * (np.arange(n_levels) / l_max) ** (1 - cdf_w)


def extend(corrected: np.ndarray, l_max: float, stretch: Literal["linear", "cdf"], n_std: float) -> np.ndarray:
    """Eq. 5: ``corrected`` intensities stretched between mean ± ``n_std`` std, clipped, on ``0 .. l_max``."""
    mean, std = float(corrected.mean()), float(corrected.std())
    lo, hi = mean - n_std * std, mean + n_std * std
    if stretch == "linear":
        if hi <= lo:
            return np.zeros_like(corrected)
        return np.clip((corrected - lo) / (hi - lo), 0.0, 1.0) * l_max
    values = np.sort(corrected.ravel())
    cdf = np.searchsorted(values, corrected, side="right") / values.size
    c_lo, c_hi = (np.searchsorted(values, v, side="right") / values.size for v in (lo, hi))
    if c_hi <= c_lo:
        return np.zeros_like(corrected)
    return np.clip((cdf - c_lo) / (c_hi - c_lo), 0.0, 1.0) * l_max


@dataclass(frozen=True)
class ExtendedAGCWD:
    """The ``preprocess`` hook: extended AGCWD, then z-score; one channel."""

    alpha: float = 0.5
    levels: int = 256
    n_std: float = 3.5
    stretch: Literal["linear", "cdf"] = "linear"
    channels: int = 1

    def __post_init__(self) -> None:
        if self.stretch not in ("linear", "cdf"):
            raise ValueError(f"stretch must be 'linear' or 'cdf', not {self.stretch!r}")
        if self.levels < 2 or self.alpha <= 0 or self.n_std <= 0:
            raise ValueError("ExtendedAGCWD needs levels >= 2, alpha > 0 and n_std > 0")

    def enhance(self, image: np.ndarray) -> np.ndarray:
        """The enhanced intensities on ``0 .. levels - 1`` (float32), before the z-score."""
        q = quantise(image, self.levels)
        corrected = agcwd_mapping(q, self.levels, self.alpha)[q]
        return extend(corrected, self.levels - 1, self.stretch, self.n_std).astype(np.float32)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return ZScore()(self.enhance(image))
