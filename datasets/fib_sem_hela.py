"""FIB-SEM HeLa cells FS-1 and FS-2 (paper 003, Meyer et al. 2021): mitochondria, cell membrane and
endoplasmic reticulum. The data is private: users bring their files.

Expected layout in ``data/raw/fib-sem-hela/`` (both stacks)::

    FS-1/image.tif    3-D TIFF stack (z, y, x), the annotated slices in acquisition order (79 in the paper)
    FS-1/labels.tif   same shape; 0 background, 1 mitochondria, 2 cell membrane, 3 endoplasmic reticulum
    FS-2/image.tif, FS-2/labels.tif   (80 slices in the paper)

Prepared as 2-D slices ``FS-1_z000`` ... (the paper trains on 2-D patches and scores per slice).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import Fold, Volume
from segrepro.datasets.byo import BringYourOwnAdapter
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.readers import map_labels, read_array
from segrepro.datasets.registry import register_dataset
from segrepro.errors import UserError

STACKS = {"FS-1": (20.0, 5.0, 5.0), "FS-2": (15.0, 7.5, 7.5)}  # voxel size (z, y, x) nm [paper]
N_TRAIN, N_VAL = 40, 20


class FibSemHelaAdapter(BringYourOwnAdapter):
    """Two stacks, one fold each: slices 1-40 train, 41-60 validate, the rest test."""

    layout = "FS-1/image.tif + FS-1/labels.tif and FS-2/image.tif + FS-2/labels.tif (3-D TIFF stacks, labels 0-3)"

    def __init__(self) -> None:
        self.card = DatasetCard(
            name="fib-sem-hela",
            title="FIB-SEM HeLa cells FS-1/FS-2 (mitochondria, membrane, ER)",
            description=(
                "Two FIB-SEM stacks of HeLa cells: FS-1 chemically fixed (5x5x20 nm), FS-2 high-pressure "
                "frozen (7.5x7.5x15 nm); every slice annotated; private data."
            ),
            spatial_dims=2,
            classes=(
                ClassSpec("background", (0,), "#000000"),
                ClassSpec("mitochondria", (1,), "#3cb44b"),
                ClassSpec("cell membrane", (2,), "#4363d8"),
                ClassSpec("endoplasmic reticulum", (3,), "#e6194b"),
            ),
            licence="not public: bring your own copy",
            citation=(
                "Meyer C., Mallouh V., Spehner D., Baudrier É., Schultz P., Naegel B., Automatic multi class "
                "organelle segmentation for cellular FIB-SEM images, IEEE ISBI 2021"
            ),
            voxel_size=None,
            sources=(),
            splits=(
                "2 folds, one per stack: fold 0 = FS-1, fold 1 = FS-2; slices 1-40 train, 41-60 validate, "
                "the rest test (paper 003)."
            ),
            papers=("003",),
            notes=(
                f"Expected files: {self.layout}. Pixel size differs per stack (y, x): FS-1 5 x 5 nm, "
                "FS-2 7.5 x 7.5 nm; see extra.voxel_size_zyx."
            ),
            extra={"voxel_size_zyx": {k: list(v) for k, v in STACKS.items()}},
        )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        for stack in STACKS:
            img_path, lab_path = raw_dir / stack / "image.tif", raw_dir / stack / "labels.tif"
            for p in (img_path, lab_path):
                if not p.is_file():
                    raise self.missing(p)
            image, raw_label = read_array(img_path), read_array(lab_path)
            if image.ndim != 3:
                raise UserError(f"{img_path}: expected a 3-D stack (z, y, x), got shape {image.shape}")
            if image.shape != raw_label.shape:
                raise UserError(f"{lab_path}: label shape {raw_label.shape} != image shape {image.shape}")
            if image.shape[0] <= N_TRAIN + N_VAL:
                raise UserError(f"{img_path}: {image.shape[0]} slices, need more than {N_TRAIN + N_VAL}")
            label, mask = map_labels(raw_label, self.card.classes, str(lab_path))
            for z in range(image.shape[0]):
                yield Volume(
                    f"{stack}_z{z:03d}",
                    image[z].astype(np.float32),
                    label[z],
                    mask[z],
                    source=f"{img_path} slice {z + 1}",
                )

    def folds(self, ids: list[str]) -> list[Fold]:
        folds = []
        for stack in STACKS:
            members = sorted(i for i in ids if i.startswith(f"{stack}_"))
            train, val, test = members[:N_TRAIN], members[N_TRAIN : N_TRAIN + N_VAL], members[N_TRAIN + N_VAL :]
            folds.append(Fold(tuple(train), tuple(val), tuple(test)))
        return folds


@register_dataset("fib-sem-hela")
def fib_sem_hela() -> FibSemHelaAdapter:
    return FibSemHelaAdapter()
