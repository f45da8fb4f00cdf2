"""The embedded default dataset: EM-like synthetic images generated from a seed, no download.

Each foreground class is a set of organelle-like blobs (random ellipses/ellipsoids with ragged
borders) whose pixel count is set *exactly*: a class with fraction ``f`` covers ``round(f * N)``
pixels of every image (at least one when ``f > 0``), so frequencies down to 1e-4 are honoured and
the class-ratio stress test can sweep them precisely. Classes differ in mean intensity and texture,
objects have a dark membrane rim, and the whole image gets smooth texture and Gaussian noise.
Optional curtaining artefacts (constant lines, as in FIB-SEM) become masked voxels; the ``-sm`` / ``-nosm``
variants of ``synthetic-3d`` keep the curtaining and mask instead paper 004's segmentation masks (artefact
lines found from the intensities, object borders) or nothing: the SM ablation as a dataset option.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import ndimage

from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.masks import segmentation_mask
from segrepro.datasets.registry import register_dataset

CLASS_NAMES = ("background", "mitochondrion", "endolysosome", "granule", "vesicle", "peroxisome")
CLASS_COLOURS = ("#000000", "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4")
# Mean intensity of each class relative to the background (EM: organelles are darker).
CLASS_INTENSITY = (0.0, -0.35, -0.6, -0.85, -0.2, -0.5)
TYPICAL_OBJECT_PIXELS_2D = 120
TYPICAL_OBJECT_PIXELS_3D = 600


def generate(
    shape: Sequence[int],
    fractions: Sequence[float],
    seed: int,
    artefacts: bool = False,
    noise: float = 0.12,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic image: ``(image float32, label uint8, mask uint8)``.

    ``fractions[k]`` is the pixel fraction of foreground class ``k + 1``; the background takes
    the rest. The same arguments always give the same arrays.
    """
    shape = tuple(int(s) for s in shape)
    if len(fractions) + 1 > len(CLASS_NAMES):
        raise ValueError(f"at most {len(CLASS_NAMES) - 1} foreground classes")
    if sum(fractions) >= 1 or min(fractions, default=0) < 0:
        raise ValueError("foreground fractions must be >= 0 and sum to less than 1")
    rng = np.random.default_rng(seed)
    n_pix = int(np.prod(shape))
    label = np.zeros(shape, dtype=np.uint8)
    # Rarest first, so the common classes cannot crowd a rare one out of its exact count.
    for k in sorted(range(len(fractions)), key=lambda i: fractions[i]):
        target = round(fractions[k] * n_pix)
        if fractions[k] > 0:
            target = max(target, 1)
        if target:
            _place_class(label, k + 1, target, rng)
    image = _render(label, rng, noise)
    mask = np.ones(shape, dtype=np.uint8)
    if artefacts:
        _add_curtaining(image, mask, rng)
    return image, label, mask


def _place_class(label: np.ndarray, cls: int, target: int, rng: np.random.Generator) -> None:
    """Assign exactly ``target`` free pixels to ``cls``, grown as blobs around random centres."""
    free = label == 0
    n_free = int(free.sum())
    if target > n_free:
        raise ValueError("not enough free pixels for the requested class fractions")
    typical = TYPICAL_OBJECT_PIXELS_2D if label.ndim == 2 else TYPICAL_OBJECT_PIXELS_3D
    n_blobs = int(np.clip(round(target / typical), 1, 40))
    free_idx = np.flatnonzero(free)
    centres = np.unravel_index(rng.choice(free_idx, size=n_blobs, replace=False), label.shape)
    grids = np.meshgrid(*[np.arange(s, dtype=np.float32) for s in label.shape], indexing="ij")
    field = np.full(label.shape, -np.inf, dtype=np.float32)
    for b in range(n_blobs):
        radii = rng.uniform(0.6, 1.6, size=label.ndim).astype(np.float32) * rng.uniform(0.5, 1.5)
        d2 = sum(((g - c[b]) / r) ** 2 for g, c, r in zip(grids, centres, radii, strict=True))
        np.maximum(field, -np.sqrt(d2), out=field)
    # Ragged borders: a little smooth noise on the distance field.
    field += ndimage.gaussian_filter(rng.standard_normal(label.shape).astype(np.float32), 2.0) * 3.0
    field[~free] = -np.inf
    chosen = np.argpartition(field.ravel(), -target)[-target:]
    label.ravel()[chosen] = cls


def _render(label: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """EM-like appearance: class intensities, textured interiors, dark rims, smooth shading, noise."""
    img = np.full(label.shape, 0.6, dtype=np.float32)
    for cls in np.unique(label):
        if cls == 0:
            continue
        inside = label == cls
        img[inside] += CLASS_INTENSITY[cls]
        rim = inside & ~ndimage.binary_erosion(inside)
        img[rim] -= 0.15
    texture = ndimage.gaussian_filter(rng.standard_normal(label.shape).astype(np.float32), 1.0)
    shading = ndimage.gaussian_filter(rng.standard_normal(label.shape).astype(np.float32), 8.0)
    img += 0.08 * texture + 0.5 * shading + noise * rng.standard_normal(label.shape).astype(np.float32)
    return img.astype(np.float32)


def _add_curtaining(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    """Constant vertical lines (FIB-SEM curtaining); their voxels are masked out."""
    width = image.shape[-1]
    for col in rng.choice(width, size=max(1, width // 32), replace=False):
        image[..., col] = float(image.mean())
        mask[..., col] = 0


@dataclass(frozen=True)
class SyntheticConfig:
    spatial_dims: int
    n_images: int
    shape: tuple[int, ...]
    fractions: tuple[float, ...]
    artefacts: bool = True
    seed: int = 0
    n_folds: int = 5
    # the validity mask: the generator's (curtaining lines), paper 004's segmentation masks, or none
    masks: Literal["generator", "paper", "none"] = "generator"


MASKS = {  # the end of the card's description: the curtaining and the validity mask
    "generator": "masked curtaining lines",
    "paper": "curtaining lines; validity mask: paper 004's segmentation masks (artefact lines found from the "
    "intensities, object borders)",
    "none": "curtaining lines, unmasked (every voxel trained on and scored)",
}


class SyntheticAdapter(DatasetAdapter):
    """A synthetic dataset; ``fractions`` sets each foreground class's exact pixel fraction."""

    def __init__(self, name: str, config: SyntheticConfig) -> None:
        self.config = config
        k = len(config.fractions)
        self.card = DatasetCard(
            name=name,
            title=f"Synthetic EM-like {config.spatial_dims}-D",
            description=(
                f"{config.n_images} generated {'x'.join(map(str, config.shape))} images, "
                f"foreground pixel fractions {list(config.fractions)} (exact per image), "
                f"{'with' if config.artefacts else 'without'} {MASKS[config.masks]}."
            ),
            spatial_dims=config.spatial_dims,
            classes=tuple(ClassSpec(CLASS_NAMES[i], (i,), CLASS_COLOURS[i]) for i in range(k + 1)),
            licence="MIT (generated by segrepro)",
            citation="segrepro synthetic generator (datasets/synthetic.py)",
            voxel_size=(5.0,) * config.spatial_dims,
            splits=f"{config.n_folds} rotating folds: per fold one chunk test, the next validation, the rest train",
            notes="Embedded default; needs no download. Deterministic from the seed.",
        )

    def fetch(self, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
        """Nothing to download: the data is generated."""

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        c = self.config
        for i in range(c.n_images):
            image, label, mask = generate(c.shape, c.fractions, seed=c.seed * 100_003 + i, artefacts=c.artefacts)
            if c.masks == "paper":
                mask = segmentation_mask(image, label)
            elif c.masks == "none":
                mask = np.ones_like(mask)
            yield Volume(f"img{i:03d}", image, label, mask, source=f"{self.card.name}:img{i:03d}")

    def folds(self, ids: list[str]) -> list[Fold]:
        return rotating_folds(ids, self.config.n_folds)


def rotating_folds(ids: Sequence[str], n_folds: int, contiguous: bool = False) -> list[Fold]:
    """K folds over ``ids``: fold f tests on chunk f, validates on chunk f+1, trains on the rest.

    Chunk f takes every K-th id from the f-th (interleaved), or with ``contiguous`` the f-th of K
    consecutive blocks, so that neighbouring serial sections stay in the same chunk.
    """
    if contiguous:
        bounds = np.linspace(0, len(ids), n_folds + 1).round().astype(int)
        chunks = [tuple(ids[a:b]) for a, b in pairwise(bounds)]
    else:
        chunks = [tuple(ids[i::n_folds]) for i in range(n_folds)]
    folds = []
    for f in range(n_folds):
        test, val = chunks[f], chunks[(f + 1) % n_folds]
        train = tuple(i for j, ch in enumerate(chunks) if j not in (f, (f + 1) % n_folds) for i in ch)
        folds.append(Fold(train, val, test))
    return folds


@register_dataset("synthetic-2d")
def synthetic_2d() -> SyntheticAdapter:
    return SyntheticAdapter(
        "synthetic-2d", SyntheticConfig(2, n_images=30, shape=(96, 96), fractions=(0.08, 0.02, 0.002))
    )


SYNTHETIC_3D = SyntheticConfig(3, n_images=10, shape=(40, 48, 48), fractions=(0.06, 0.015, 0.002))


@register_dataset("synthetic-3d")
def synthetic_3d() -> SyntheticAdapter:
    return SyntheticAdapter("synthetic-3d", SYNTHETIC_3D)


@register_dataset("synthetic-3d-sm")
def synthetic_3d_sm() -> SyntheticAdapter:
    """synthetic-3d's volumes with paper 004's segmentation masks (its table-1 rows with SM)."""
    return SyntheticAdapter("synthetic-3d-sm", replace(SYNTHETIC_3D, masks="paper"))


@register_dataset("synthetic-3d-nosm")
def synthetic_3d_nosm() -> SyntheticAdapter:
    """synthetic-3d's volumes, curtaining unmasked (paper 004's table-1 rows without SM)."""
    return SyntheticAdapter("synthetic-3d-nosm", replace(SYNTHETIC_3D, masks="none"))
