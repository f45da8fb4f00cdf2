"""Embedded instance datasets for paper 002: seeded clusters of touching cells, no download.

Cells are disks (balls in 3-D) whose radii spread around ``radius``; a voxel belongs to the cell whose
scaled distance ``|x - c| / r`` is smallest, if that is below 1, so cells that overlap meet along a
shared border and touch, as cluttered cells do. ``density`` sets how many cells an image holds (their
summed area as a fraction of the image), ``touching`` the fraction of cells placed against a cell that
is already there (the rest go where they touch nothing, while there is room), ``size_spread`` the
relative spread of the radii. Cells are bright with textured interiors and a faint dark border; touching
borders are only slightly darker, so separating touching cells is the hard part. Instance ids are kept
(``instances/<id>.npy``); the class label is background / cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.registry import register_dataset
from segrepro.datasets.synthetic import rotating_folds

CLUSTER_SPACING = 0.85  # centre distance of touching neighbours, as a fraction of their radii's sum


def cell_centres(
    shape: Sequence[int], density: float, touching: float, radius: float, size_spread: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(centres (N, d), radii (N,))`` with the requested density and touching fraction."""
    shape = np.asarray(shape, dtype=float)
    ndim = shape.size
    unit = np.pi * radius**2 if ndim == 2 else 4 / 3 * np.pi * radius**3
    n = max(1, round(density * float(np.prod(shape)) / unit))
    radii = radius * np.clip(1 + size_spread * rng.standard_normal(n), 0.4, 2.0)
    centres = np.empty((n, ndim))
    centres[0] = rng.uniform(0, shape)
    for i in range(1, n):
        if rng.random() < touching:
            j = rng.integers(i)
            direction = rng.standard_normal(ndim)
            direction /= np.linalg.norm(direction)
            centres[i] = np.clip(centres[j] + direction * CLUSTER_SPACING * (radii[i] + radii[j]), 0, shape - 1)
        else:
            centres[i] = free_spot(centres[:i], radii[:i], radii[i], shape, rng)
    return centres, radii


def free_spot(
    centres: np.ndarray, radii: np.ndarray, radius: float, shape: np.ndarray, rng: np.random.Generator, tries: int = 100
) -> np.ndarray:
    """A uniformly drawn position at least 2 voxels clear of every earlier cell (the last draw if none is)."""
    for _ in range(tries):
        spot = rng.uniform(0, shape)
        if (np.linalg.norm(centres - spot, axis=1) > radii + radius + 2).all():
            break
    return spot


def paint_cells(shape: Sequence[int], centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Instance ids (int32, 0 background): each voxel goes to the cell of smallest ``|x - c| / r`` below 1."""
    grids = np.meshgrid(*[np.arange(s, dtype=np.float32) for s in shape], indexing="ij")
    best = np.full(tuple(shape), 1.0, dtype=np.float32)
    instances = np.zeros(tuple(shape), dtype=np.int32)
    for i, (c, r) in enumerate(zip(centres, radii, strict=True), start=1):
        d = np.sqrt(sum((g - ci) ** 2 for g, ci in zip(grids, c, strict=True))) / r
        closer = d < best
        best[closer] = d[closer]
        instances[closer] = i
    kept = np.unique(instances[instances > 0])  # a cell entirely covered by others disappears: renumber
    lut = np.zeros(len(radii) + 1, dtype=np.int32)
    lut[kept] = np.arange(1, kept.size + 1)
    return lut[instances]


def render_cells(instances: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    """Bright textured cells, a faint dark border on every cell (touching borders included), shading, noise."""
    cells = instances > 0
    img = np.where(cells, 0.8, 0.2).astype(np.float32)
    img += 0.15 * ndimage.gaussian_filter(rng.standard_normal(instances.shape).astype(np.float32), 1.5) * cells
    border = ndimage.grey_dilation(instances, size=3) != ndimage.grey_erosion(instances, size=3)
    img[border & cells] -= 0.25
    img += 0.2 * ndimage.gaussian_filter(rng.standard_normal(instances.shape).astype(np.float32), 10.0)
    img += noise * rng.standard_normal(instances.shape).astype(np.float32)
    return img


def generate_cells(
    shape: Sequence[int],
    seed: int,
    density: float = 0.45,
    touching: float = 0.7,
    radius: float = 9.0,
    size_spread: float = 0.25,
    noise: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image: ``(image float32, instances int32, label uint8 background/cell)``; same seed, same arrays."""
    rng = np.random.default_rng(seed)
    centres, radii = cell_centres(shape, density, touching, radius, size_spread, rng)
    instances = paint_cells(shape, centres, radii)
    return render_cells(instances, rng, noise), instances, (instances > 0).astype(np.uint8)


@dataclass(frozen=True)
class CellsConfig:
    spatial_dims: int
    n_images: int
    shape: tuple[int, ...]
    density: float = 0.45
    touching: float = 0.7
    radius: float = 9.0
    size_spread: float = 0.25
    seed: int = 0
    n_folds: int = 5


class SyntheticCellsAdapter(DatasetAdapter):
    """Generated clusters of touching cells with instance labels."""

    def __init__(self, name: str, config: CellsConfig) -> None:
        self.config = config
        c = config
        self.card = DatasetCard(
            name=name,
            title=f"Synthetic touching cells {c.spatial_dims}-D (instances)",
            description=(
                f"{c.n_images} generated {'x'.join(map(str, c.shape))} images of cells (radius {c.radius} ± "
                f"{c.size_spread:.0%}), cell area fraction about {c.density}, {c.touching:.0%} of cells placed "
                "against another one. Instance labels kept."
            ),
            spatial_dims=c.spatial_dims,
            classes=(ClassSpec("background", (0,), "#000000"), ClassSpec("cell", (1,), "#3cb44b")),
            licence="MIT (generated by segrepro)",
            citation="segrepro synthetic cell generator (datasets/synthetic_cells.py)",
            splits=f"{c.n_folds} rotating folds: per fold one chunk test, the next validation, the rest train",
            papers=("002",),
            notes="Embedded; needs no download. Deterministic from the seed. Every voxel is scored.",
            instances=True,
        )

    def fetch(self, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
        """Nothing to download: the data is generated."""

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        c = self.config
        for i in range(c.n_images):
            image, instances, label = generate_cells(
                c.shape, c.seed * 100_003 + i, c.density, c.touching, c.radius, c.size_spread
            )
            vid = f"img{i:03d}"
            yield Volume(vid, image, label, np.ones(c.shape, np.uint8), f"{self.card.name}:{vid}", instances)

    def folds(self, ids: list[str]) -> list[Fold]:
        return rotating_folds(ids, self.config.n_folds)


@register_dataset("synthetic-cells-2d")
def synthetic_cells_2d() -> SyntheticCellsAdapter:
    return SyntheticCellsAdapter("synthetic-cells-2d", CellsConfig(2, n_images=20, shape=(128, 128)))


@register_dataset("synthetic-cells-3d")
def synthetic_cells_3d() -> SyntheticCellsAdapter:
    return SyntheticCellsAdapter("synthetic-cells-3d", CellsConfig(3, n_images=8, shape=(32, 64, 64), radius=7.0))
