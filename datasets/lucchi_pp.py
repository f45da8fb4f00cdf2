"""Lucchi++ (paper 004's comparison): the EPFL hippocampus FIB-SEM stacks of Lucchi et al. with the
improved mitochondria labels of Casser et al. (arXiv:1812.06024).

Expected layout in ``data/raw/lucchi-pp/`` (the ``Lucchi++.zip`` archive of Casser et al., linked from
their data page https://sites.google.com/view/connectomics/ and described in their paper, section 4;
the folder may also sit inside a ``Lucchi++/`` directory as the archive unpacks)::

    Train_In/   165 PNG slices (768 x 1024, grey), the training volume, in file-name order
    Train_Out/  165 PNG label slices: 0 background, 255 mitochondria (1 also accepted)
    Test_In/    165 PNG slices, the test volume
    Test_Out/   165 PNG label slices

Slices are paired by natural file-name order. It cannot be downloaded here (the archive sits behind
a web page, no stable file URL or checksum), so users bring the files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import Fold, Volume
from segrepro.datasets.byo import BringYourOwnAdapter
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.masks import ARTEFACT_STD, BORDER_WIDTH, segmentation_mask
from segrepro.datasets.readers import image_files, map_labels, read_slice
from segrepro.datasets.registry import register_dataset
from segrepro.errors import UserError

FOLDERS = ("Train_In", "Train_Out", "Test_In", "Test_Out")


class LucchiPPAdapter(BringYourOwnAdapter):
    """Train and test volumes as published; the last ``val_fraction`` of the training slices validate."""

    layout = "Train_In/, Train_Out/, Test_In/, Test_Out/ with one PNG or TIFF per slice (labels 0/255)"
    where_to_get = "download Lucchi++.zip from https://sites.google.com/view/connectomics/"

    def __init__(
        self, val_fraction: float = 0.2, border_width: int = BORDER_WIDTH, artefact_std: float = ARTEFACT_STD
    ) -> None:
        self.val_fraction = val_fraction
        self.border_width = border_width
        self.artefact_std = artefact_std
        self.card = DatasetCard(
            name="lucchi-pp",
            title="Lucchi++ FIB-SEM hippocampus (mitochondria)",
            description=(
                "Two 165 x 768 x 1024 FIB-SEM volumes of mouse CA1 hippocampus (Lucchi et al.) with the "
                "re-annotated, smoother mitochondria labels of Casser et al. (Lucchi++)."
            ),
            spatial_dims=3,
            classes=(ClassSpec("background", (0,), "#000000"), ClassSpec("mitochondria", (255, 1), "#4363d8")),
            licence="research use; see https://www.epfl.ch/labs/cvlab/data/data-em/ and the Lucchi++ page",
            citation=(
                "Casser V., Kang K., Pfister H., Haehn D., Fast mitochondria segmentation for connectomics, "
                "arXiv:1812.06024, 2018 (Lucchi++ labels); Lucchi A. et al., IEEE TMI 31(2) 2012 (images)"
            ),
            voxel_size=(5.0, 5.0, 5.0),
            voxel_unit="nm",
            sources=(),
            splits=(
                "1 fold: the published training volume trains, the published test volume tests; the last "
                f"{val_fraction:.0%} of the training slices (volume 'val') validate (our choice: none is published)."
            ),
            papers=("004",),
            notes=(
                f"Expected files: {self.layout}. Validity mask as for UroCell (paper 004 applied its pipeline "
                f"unchanged): artefact lines (std < {artefact_std}) and a {border_width}-voxel band on each "
                "side of object borders (reconstructions, see datasets/masks.py)."
            ),
            extra={"upstream": "https://sites.google.com/view/connectomics/"},
        )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        root = raw_dir / "Lucchi++" if (raw_dir / "Lucchi++").is_dir() else raw_dir
        train_img, train_lab = self._stack(root, "Train")
        test_img, test_lab = self._stack(root, "Test")
        n_val = max(1, round(self.val_fraction * train_img.shape[0]))
        if n_val >= train_img.shape[0]:
            raise UserError(f"{root / 'Train_In'}: {train_img.shape[0]} slices are too few to hold out {n_val}")
        cut = train_img.shape[0] - n_val
        for vid, img, lab, src in (
            ("train", train_img[:cut], train_lab[:cut], root / "Train_In"),
            ("val", train_img[cut:], train_lab[cut:], root / "Train_In"),
            ("test", test_img, test_lab, root / "Test_In"),
        ):
            mask = segmentation_mask(img, lab, self.artefact_std, self.border_width)
            yield Volume(vid, img, lab, mask, source=str(src))

    def _stack(self, root: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
        """One volume ``(z, y, x)`` and its class ids, from the ``<part>_In``/``<part>_Out`` slices."""
        img_dir, lab_dir = root / f"{part}_In", root / f"{part}_Out"
        images, labels = image_files(img_dir), image_files(lab_dir)
        for folder, files in ((img_dir, images), (lab_dir, labels)):
            if not files:
                raise self.missing(folder)
        if len(images) != len(labels):
            raise UserError(f"{lab_dir}: {len(labels)} label slices for {len(images)} image slices in {img_dir}")
        img = np.stack(_same_shape([read_slice(p) for p in images], images)).astype(np.float32)
        lab_slices = [map_labels(read_slice(p, labels=True), self.card.classes, str(p))[0] for p in labels]
        lab = np.stack(_same_shape(lab_slices, labels))
        return img, lab

    def folds(self, ids: list[str]) -> list[Fold]:
        return [Fold(("train",), ("val",), ("test",))]


def _same_shape(slices: list[np.ndarray], paths: list[Path]) -> list[np.ndarray]:
    for arr, path in zip(slices, paths, strict=True):
        if arr.shape != slices[0].shape:
            raise UserError(f"{path}: slice shape {arr.shape} differs from {paths[0].name}'s {slices[0].shape}")
    return slices


@register_dataset("lucchi-pp")
def lucchi_pp() -> LucchiPPAdapter:
    return LucchiPPAdapter()
