"""drosophila-vnc-3d: the Drosophila VNC ssTEM stack 1 as anisotropic 3-D volumes, paper 004's real 3-D test
bed here (UroCell's raw volumes cannot be downloaded on this machine) **[segrepro's choice]**.

The twenty 1024x1024 sections are stacked and cut into sixteen 256x256 columns: one volume of 20 x 256 x 256
voxels per column, voxel size (50, 4.6, 4.6) nm (section spacing ~45-50 nm). Classes and label values are
``drosophila-vnc``'s (membrane, mitochondria, synapse, glia/extracellular, intracellular): mitochondria
(class 1) and synapses (class 2) are the rare classes, in the places of paper 004's mitochondria and
endolysosomes.

Validity mask (``segmentation_masks``, default on): paper 004's segmentation masks, i.e. acquisition-artefact
lines and a band around the borders of the rare classes' objects (mitochondria, synapses); the dense classes
tile the whole image, so masking their borders would mask most voxels (our choice). Off: every voxel scored.

Folds: leave columns out. Column ids ``c_y<row>_x<col>`` sorted; fold f tests on the four columns with
``col == f``, validates on ``col == f + 1`` (mod 4) and trains on the other eight.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import DatasetCard
from segrepro.datasets.drosophila_vnc import (
    CLASSES,
    CROP,
    N_SECTIONS,
    SECTION,
    DrosophilaVNCAdapter,
    read_section,
)
from segrepro.datasets.masks import artefact_line_mask, border_mask
from segrepro.datasets.registry import register_dataset
from segrepro.datasets.synthetic import rotating_folds

SECTION_NM = 50.0
PIXEL_NM = 4.6
RARE = (1, 2)  # mitochondria, synapse
N_FOLDS = SECTION // CROP


def column_id(row: int, col: int) -> str:
    return f"c_y{row}_x{col}"


def read_stack(raw_dir: Path, dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The 20 sections as ``(image float32, class ids uint8)`` of shape ``(20, 1024, 1024)`` (``dataset``:
    the dataset reading them, whose fetch command a missing file names)."""
    sections = [read_section(raw_dir, s, dataset) for s in range(N_SECTIONS)]
    return np.stack([img for img, _ in sections]).astype(np.float32), np.stack([lab for _, lab in sections])


class DrosophilaVNC3DAdapter(DatasetAdapter):
    """Stack 1 as sixteen anisotropic 20x256x256 columns, leave-columns-out folds."""

    def __init__(self, segmentation_masks: bool = True, name: str = "drosophila-vnc-3d") -> None:
        self.segmentation_masks = segmentation_masks
        base = DrosophilaVNCAdapter.card
        self.card = DatasetCard(
            name=name,
            title="Drosophila VNC ssTEM (stack 1) as 3-D columns",
            description=(
                "The 20 serial sections of stack 1 stacked and cut into 16 anisotropic columns of 20x256x256 "
                "voxels (50 nm sections, 4.6 nm pixels): the real 3-D data available offline for paper 004."
            ),
            spatial_dims=3,
            classes=CLASSES,
            licence=base.licence,
            citation=base.citation,
            voxel_size=(SECTION_NM, PIXEL_NM, PIXEL_NM),
            voxel_unit="nm",
            sources=base.sources,
            splits=(
                "4 leave-columns-out folds over the sorted column ids c_y<row>_x<col>: fold f tests on the "
                "columns with col = f, validates on col = f+1 (mod 4), trains on the other 8 (segrepro's choice)."
            ),
            papers=("004",),
            notes=(
                "Mitochondria (1) and synapse (2) are the rare classes, standing in for paper 004's mitochondria "
                "and endolysosomes. Validity mask: "
                + (
                    "paper 004's segmentation masks (artefact lines; borders of mitochondria and synapses only)."
                    if segmentation_masks
                    else "none (every voxel scored)."
                )
            ),
            extra={"segmentation_masks": segmentation_masks},
        )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        images, labels = read_stack(raw_dir, self.card.name)
        per_side = SECTION // CROP
        for r in range(per_side):
            for c in range(per_side):
                sl = (slice(None), slice(r * CROP, (r + 1) * CROP), slice(c * CROP, (c + 1) * CROP))
                image, label = images[sl], labels[sl]
                mask = np.ones(label.shape, np.uint8)
                if self.segmentation_masks:
                    rare = np.where(np.isin(label, RARE), label, 0)
                    mask = artefact_line_mask(image) & border_mask(rare)
                yield Volume(column_id(r, c), image, label, mask, source=f"{raw_dir / 'stack1'} column y{r} x{c}")

    def folds(self, ids: list[str]) -> list[Fold]:
        return rotating_folds(sorted(ids), N_FOLDS)


@register_dataset("drosophila-vnc-3d")
def drosophila_vnc_3d() -> DrosophilaVNC3DAdapter:
    return DrosophilaVNC3DAdapter()


@register_dataset("drosophila-vnc-3d-nosm")
def drosophila_vnc_3d_nosm() -> DrosophilaVNC3DAdapter:
    """drosophila-vnc-3d without paper 004's segmentation masks (the table-1 rows without SM)."""
    return DrosophilaVNC3DAdapter(segmentation_masks=False, name="drosophila-vnc-3d-nosm")
