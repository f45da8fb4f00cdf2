"""C. merolae FIB-SEM cells (paper 000, Yudistira et al. 2020): five organelle classes in cropped
single-cell images. The data is not public: users bring their files.

Expected layout in ``data/raw/c-merolae/`` (one folder per grouping of the paper; at least one)::

    G-1/images/<id>.png|tif   a cropped cell, grey (colour is converted to grey)
    G-1/labels/<id>.png|tif   same size; 0 background, 1 cytoplasm, 2 plastid, 3 nucleus,
                              4 mitochondrion, 5 peroxisome (each pixel its innermost class)
    G-2/..., G-3/...

Every image is resized to 256 x 256 (bilinear; labels nearest neighbour) as in the paper.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import Fold, Volume
from segrepro.datasets.byo import BringYourOwnAdapter
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.readers import map_labels, paired_files, random_halves_folds, read_slice, resize2d
from segrepro.datasets.registry import register_dataset
from segrepro.errors import UserError

GROUPS = ("G-1", "G-2", "G-3")
CLASSES = (
    ClassSpec("background", (0,), "#000000"),
    ClassSpec("cytoplasm", (1,), "#3cb44b"),
    ClassSpec("plastid", (2,), "#ffe119"),
    ClassSpec("nucleus", (3,), "#4363d8"),
    ClassSpec("mitochondrion", (4,), "#e6194b"),
    ClassSpec("peroxisome", (5,), "#911eb4"),
)
SIZE = (256, 256)


class CMerolaeAdapter(BringYourOwnAdapter):
    """Groupings G-1/G-2/G-3, each with ``n_folds`` random 50:50 train/test splits."""

    layout = (
        "G-1/images/<id>.png|tif with G-1/labels/<id>.png|tif (values 0-5), likewise G-2 and G-3 "
        "(at least one grouping)"
    )

    def __init__(self, n_folds: int = 5, val_fraction: float = 0.1) -> None:
        self.n_folds = n_folds
        self.val_fraction = val_fraction
        self.card = DatasetCard(
            name="c-merolae",
            title="C. merolae FIB-SEM cells (5 organelles)",
            description=(
                "Cropped single-cell FIB-SEM images of Cyanidioschyzon merolae over the mitotic cycle, "
                "groupings G-1 (stages I-V), G-2 and G-3, resized to 256x256; private data."
            ),
            spatial_dims=2,
            classes=CLASSES,
            licence="not public: bring your own copy",
            citation=(
                "Yudistira N., Kavitha M., Itabashi T., Iwane A.H., Kurita T., Prediction of sequential "
                "organelles localization under imbalance using a balanced deep U-Net, Sci. Rep. 10 (2020)"
            ),
            voxel_size=None,
            sources=(),
            splits=(
                f"Per grouping present (in the order G-1, G-2, G-3), {n_folds} folds: fold f is a random "
                f"50:50 train/test split (seed f), the paper's 'five different compositions'; {val_fraction:.0%} "
                "of each training half validates (our choice: the paper names no validation set). With all "
                f"three groupings, folds 0-{n_folds - 1} are G-1, then G-2, then G-3."
            ),
            papers=("000",),
            notes=(
                f"Expected files: {self.layout}. Images resized to 256x256 (bilinear), labels nearest "
                "neighbour. Volume ids are '<grouping>_<file stem>'. The paper excludes images containing "
                "none of the five classes from evaluation; they are kept here (a metric convention)."
            ),
        )

    def groups(self, raw_dir: Path) -> list[str]:
        present = [g for g in GROUPS if (raw_dir / g).is_dir()]
        if not present:
            raise self.missing(raw_dir / "G-1")
        return present

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        for group in self.groups(raw_dir):
            for name, img_path, lab_path in paired_files(
                raw_dir / group / "images", raw_dir / group / "labels", self.layout
            ):
                image, raw_label = read_slice(img_path), read_slice(lab_path, labels=True)
                if image.shape != raw_label.shape:
                    raise UserError(f"{lab_path}: label shape {raw_label.shape} != image shape {image.shape}")
                label, mask = map_labels(raw_label, CLASSES, str(lab_path))
                yield Volume(
                    f"{group}_{name}",
                    resize2d(image.astype(np.float32), SIZE, nearest=False),
                    resize2d(label, SIZE, nearest=True),
                    resize2d(mask, SIZE, nearest=True),
                    source=str(img_path),
                )

    def folds(self, ids: list[str]) -> list[Fold]:
        folds = []
        for group in GROUPS:
            members = [i for i in ids if i.startswith(f"{group}_")]
            if members:
                folds += random_halves_folds(members, self.n_folds, self.val_fraction)
        return folds


@register_dataset("c-merolae")
def c_merolae() -> CMerolaeAdapter:
    return CMerolaeAdapter()
