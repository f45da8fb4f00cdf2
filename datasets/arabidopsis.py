"""Arabidopsis thaliana tissue sections (paper 001, Fujii et al. 2021): cell and cell wall in light
microscopy. The data is not public: users bring their files.

Expected layout in ``data/raw/arabidopsis-cells/``::

    images/<name>.png|tif   large sections (e.g. 3118 x 2261), grey or colour (converted to grey)
    labels/<name>.png|tif   same size; 0 cell, 1 or 255 cell wall

Each section is cut into non-overlapping 512 x 512 crops (row-major from the top-left corner, the
remainder dropped) and each crop is resized to 256 x 256, as in the paper (50 crops there).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import Fold, Volume
from segrepro.datasets.byo import BringYourOwnAdapter
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.readers import map_labels, paired_files, read_slice, resize2d
from segrepro.datasets.registry import register_dataset
from segrepro.datasets.synthetic import rotating_folds
from segrepro.errors import UserError

CROP = 512
SIZE = (256, 256)


class ArabidopsisAdapter(BringYourOwnAdapter):
    """512x512 crops resized to 256x256; 5 rotating folds give the paper's 30/10/10 on 50 crops."""

    layout = "images/<name>.png|tif with labels/<name>.png|tif (0 cell, 1 or 255 cell wall)"

    def __init__(self, n_folds: int = 5) -> None:
        self.n_folds = n_folds
        self.card = DatasetCard(
            name="arabidopsis-cells",
            title="Arabidopsis thaliana sections (cell, cell wall)",
            description=(
                "Toluidine-blue stained Arabidopsis tissue sections (light microscopy), 512x512 crops "
                "resized to 256x256; private data."
            ),
            spatial_dims=2,
            classes=(ClassSpec("cell", (0,), "#3cb44b"), ClassSpec("cell wall", (1, 255), "#e6194b")),
            licence="not public: bring your own copy",
            citation=(
                "Fujii H., Tanaka H., Ikeuchi M., Hotta K., X-Net with different loss functions for cell image "
                "segmentation, CVPR Workshops 2021 (paper 001)"
            ),
            voxel_size=None,
            sources=(),
            splits=(
                f"{n_folds} rotating folds over the crops in file order: fold f tests on every {n_folds}th crop "
                f"starting at f, validates on the next chunk, trains on the rest (30/10/10 for 50 crops)."
            ),
            papers=("001",),
            notes=f"Expected files: {self.layout}. Volume ids are '<name>_r<row>c<col>' per 512x512 crop.",
        )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        for name, img_path, lab_path in paired_files(raw_dir / "images", raw_dir / "labels", self.layout):
            image, raw_label = read_slice(img_path), read_slice(lab_path, labels=True)
            if image.shape != raw_label.shape:
                raise UserError(f"{lab_path}: label shape {raw_label.shape} != image shape {image.shape}")
            if min(image.shape) < CROP:
                raise UserError(f"{img_path}: {image.shape} is smaller than one {CROP}x{CROP} crop")
            label, mask = map_labels(raw_label, self.card.classes, str(lab_path))
            for r in range(image.shape[0] // CROP):
                for c in range(image.shape[1] // CROP):
                    win = (slice(r * CROP, (r + 1) * CROP), slice(c * CROP, (c + 1) * CROP))
                    yield Volume(
                        f"{name}_r{r}c{c}",
                        resize2d(image[win].astype(np.float32), SIZE, nearest=False),
                        resize2d(label[win], SIZE, nearest=True),
                        resize2d(mask[win], SIZE, nearest=True),
                        source=f"{img_path} crop r{r}c{c}",
                    )

    def folds(self, ids: list[str]) -> list[Fold]:
        return rotating_folds(ids, self.n_folds)


@register_dataset("arabidopsis-cells")
def arabidopsis_cells() -> ArabidopsisAdapter:
    return ArabidopsisAdapter()
