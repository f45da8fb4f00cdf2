"""The "+F" preprocessing of paper 003: grain-filtered copies of the image as extra input channels.

**[paper]** The grain filter (Caselles & Monasse) removes every shape of the image's tree of shapes whose
area is below λ, without creating or moving contours; paper 003 concatenates the image filtered at
λ = 650 and 3200 px (about 1 % and 5 % of its 256x256 patch) to the image, so the network sees 3 channels.
Computed with higra (the library the authors used) with its default tree of shapes (plain-map immersion,
padding by the border's mean), as in the authors' code, but on each whole 2-D slice **[reconstruction]**:
their code filters every 256x256 patch (training patches and prediction windows) on its own. Filtering
commutes with the per-volume z-score (the tree of shapes is invariant to increasing affine maps), so the
channels are the z-scored image and its filtered copies.

The filter costs seconds per 1024x1024 slice (building the tree of shapes: tests/perf/bench_meyer2021.md),
so results are cached on disk per prepared volume, keyed by a hash of the image and the areas
(``data/cache/grain/``), not recomputed per run or patch.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

from segrepro import paths
from segrepro.io import write_bytes_atomic
from segrepro.preprocess import ZScore


def grain_filter(image: np.ndarray, areas: tuple[int, ...]) -> np.ndarray:
    """``(len(areas), *image.shape)``: ``image`` (2-D) with every shape smaller than each area removed."""
    import higra as hg

    if image.ndim != 2:
        raise ValueError(f"the grain filter works on 2-D slices; this image has {image.ndim} dimensions")
    tree, altitudes = hg.component_tree_tree_of_shapes_image2d(np.asarray(image, dtype=np.float64))
    area = hg.attribute_area(tree)
    return np.stack([hg.reconstruct_leaf_data(tree, altitudes, area < a) for a in areas]).astype(np.float32)


@dataclass(frozen=True)
class GrainFilterChannels:
    """Preprocess hook: z-scored image + its grain-filtered copies at ``areas`` (pixels)."""

    areas: tuple[int, ...] = (650, 3200)

    @property
    def channels(self) -> int:
        return 1 + len(self.areas)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        z = ZScore()(image)[0]
        key = hashlib.sha256(np.ascontiguousarray(z).tobytes() + repr((z.shape, self.areas)).encode()).hexdigest()
        cached = paths.data_dir() / "cache" / "grain" / f"{key[:32]}.npy"
        if cached.exists():
            filtered = np.load(cached)
        else:
            filtered = grain_filter(z, self.areas)
            buf = io.BytesIO()
            np.save(buf, filtered)
            write_bytes_atomic(cached, buf.getvalue())
        return np.concatenate([z[None], filtered])
