"""UroCell (paper 004, Žerovnik Mekuč et al. 2020): five labelled 256³ FIB-SEM sub-volumes of mouse
urothelial cells, classes background / mitochondria / endolysosomes.

Upstream layout (git repository ``MancaZerovnikMekuc/UroCell``, pinned commit below)::

    data/fib1-<id>.nii.gz          raw FIB-SEM sub-volume
    mito/binary/fib1-<id>.nii.gz   mitochondria, 0/1 (float32 upstream; any numeric dtype accepted)
    lyso/binary/fib1-<id>.nii.gz   endolysosomes, 0/1

The label files' sha256 come from the local mirror's ``SHA256SUMS``. The raw volumes' checksums
cannot be known before the first real download: their ``sha256`` is None and ``fetch`` pins what it
observes in ``data/raw/urocell/PINNED_SHA256SUMS`` (see ``fetch.py``), verifying against it ever
after. The NIfTI headers carry a meaningless zoom, so the voxel size comes from the dataset README
(16 x 16 x 15 nm in x, y, z). Arrays are stored ``(x, y, z)`` in NIfTI and prepared as ``(z, y, x)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import ClassSpec, DatasetCard, SourceFile
from segrepro.datasets.masks import ARTEFACT_STD, BORDER_WIDTH, segmentation_mask
from segrepro.datasets.readers import map_labels, read_array, require_files
from segrepro.datasets.registry import register_dataset
from segrepro.errors import UserError

REPO = "MancaZerovnikMekuc/UroCell"
COMMIT = "4bab22add57dd00dacb7ecffae2205e6d1422299"
BASE_URL = f"https://github.com/{REPO}/raw/{COMMIT}"
VOLUMES = ("fib1-0-0-0", "fib1-1-0-3", "fib1-3-2-1", "fib1-3-3-0", "fib1-4-3-0")
LABEL_SHA256 = {
    "lyso/binary/fib1-0-0-0.nii.gz": "5a375f187f550c05026d9af7391ebbfc9c5ce61352e2bc5c725ed30c51a2303b",
    "lyso/binary/fib1-1-0-3.nii.gz": "b897addd02816e44fe8b852ba4c569732528cbe24ba497e4273a874f67d61e8c",
    "lyso/binary/fib1-3-2-1.nii.gz": "4c30c787f5d0253c3527bc0c0c9bd4844ddd6dba01d9133940630da723319b4c",
    "lyso/binary/fib1-3-3-0.nii.gz": "5a20f4f3b2add96ff0b3514b46dbfa94868eea51ce7c4ce59c59f8dc65976b3e",
    "lyso/binary/fib1-4-3-0.nii.gz": "d2e86d591a516b97cb8af97faf2e389a97627e8248b8adc90b1655038351fdc7",
    "mito/binary/fib1-0-0-0.nii.gz": "ad8880384847865c254b853dde6c8bb13fbef6c9b04a950486a2fe28418fffc2",
    "mito/binary/fib1-1-0-3.nii.gz": "d9bfe96c42a5033c96f24b41e6067cd4efb0a2b2443614c86a8649c86f7b0351",
    "mito/binary/fib1-3-2-1.nii.gz": "87b1fdf0e1c8f684f875317dc73de007977333855cd9465f53f6f798fb2b88c7",
    "mito/binary/fib1-3-3-0.nii.gz": "ad4800dad560789f09295eacd9cc5461d11deefbbe72208fdaff3cd575ba79d6",
    "mito/binary/fib1-4-3-0.nii.gz": "4a6c6b43dbd442af93567b5ed3583199e161e407ebf69fbdc87b85ba2e54099a",
}
BINARY = (ClassSpec("0", (0,)), ClassSpec("1", (1,)))  # the values of every upstream label file


def sources() -> tuple[SourceFile, ...]:
    """Raw volumes first (sha256 pinned at first download), then the ten label volumes."""
    raw = tuple(SourceFile(f"data/{v}.nii.gz", f"{BASE_URL}/data/{v}.nii.gz", None) for v in VOLUMES)
    labels = tuple(SourceFile(p, f"{BASE_URL}/{p}", s) for p, s in sorted(LABEL_SHA256.items()))
    return raw + labels


def to_zyx(arr: np.ndarray) -> np.ndarray:
    """NIfTI ``(x, y, z)`` -> the prepared ``(z, y, x)`` order (C-contiguous: no copy for NIfTI's F order)."""
    return np.ascontiguousarray(np.transpose(arr, (2, 1, 0)))


def read_label(raw_dir: Path, volume: str) -> np.ndarray:
    """Class ids ``(z, y, x)``: 1 where ``mito/binary`` is 1, 2 where ``lyso/binary`` is 1, else 0.

    Each file must hold only 0 and 1 (any numeric dtype); a voxel labelled in both is an error.
    """
    mito_path = raw_dir / "mito" / "binary" / f"{volume}.nii.gz"
    lyso_path = raw_dir / "lyso" / "binary" / f"{volume}.nii.gz"
    mito, _ = map_labels(to_zyx(read_array(mito_path)), BINARY, str(mito_path))
    lyso, _ = map_labels(to_zyx(read_array(lyso_path)), BINARY, str(lyso_path))
    if lyso.shape != mito.shape:
        raise UserError(f"{lyso_path}: shape {lyso.shape} differs from the mitochondria label's {mito.shape}")
    both = int(np.count_nonzero(mito & lyso))
    if both:
        raise UserError(f"{lyso_path}: {both} voxels are labelled both mitochondrion and endolysosome")
    label = mito.copy()
    label[lyso > 0] = 2
    return label


class UroCellAdapter(DatasetAdapter):
    """UroCell with paper 004's segmentation masks (``border_width`` and ``artefact_std`` are parameters) as
    its validity mask, or with ``segmentation_masks=False`` none (every voxel trained on and scored): the SM
    ablation as a dataset option, registered as ``urocell`` and ``urocell-nosm``."""

    def __init__(
        self,
        border_width: int = BORDER_WIDTH,
        artefact_std: float = ARTEFACT_STD,
        segmentation_masks: bool = True,
        name: str = "urocell",
    ) -> None:
        self.border_width = border_width
        self.artefact_std = artefact_std
        self.segmentation_masks = segmentation_masks
        self.card = DatasetCard(
            name=name,
            title="UroCell FIB-SEM (mitochondria, endolysosomes)",
            description=(
                "Five annotated 256x256x256 FIB-SEM sub-volumes of mouse urinary bladder umbrella cells "
                "(Helios NanoLab 650, xy binned by 3). Labels: mito/binary and lyso/binary (0/1)."
            ),
            spatial_dims=3,
            classes=(
                ClassSpec("background", (0,), "#000000"),
                ClassSpec("mitochondria", (1,), "#4363d8"),
                ClassSpec("endolysosomes", (1,), "#f58231"),
            ),
            licence="CC BY-NC-SA 4.0",
            citation=(
                "Žerovnik Mekuč M. et al., Automatic segmentation of mitochondria and endolysosomes in "
                "volumetric electron microscopy data, Computers in Biology and Medicine 119 (2020) 103693, "
                "doi:10.1016/j.compbiomed.2020.103693"
            ),
            voxel_size=(15.0, 16.0, 16.0),
            voxel_unit="nm",
            sources=sources(),
            splits=(
                "5 leave-one-volume-out folds (paper 004): fold i tests on volume i, validates on volume "
                "i+1 (mod 5; our choice, the paper names no validation volume), trains on the other three. "
                f"Volume order: {', '.join(VOLUMES)}."
            ),
            papers=("004",),
            notes=(
                "Label values: mitochondria = 1 in mito/binary/*.nii.gz, endolysosomes = 1 in "
                "lyso/binary/*.nii.gz (any numeric dtype with values 0/1). Raw volumes data/*.nii.gz have "
                "no published checksum: the first fetch pins the observed sha256 in "
                "data/raw/urocell/PINNED_SHA256SUMS and later fetches verify against it. Voxel size "
                "(z, y, x) = (15, 16, 16) nm from the dataset README; the NIfTI headers are wrong. Validity mask: "
                + (
                    "paper 004's segmentation masks: lines of voxels along any axis with intensity std < "
                    f"{artefact_std} (on intensities min-max scaled to [0, 1], a reconstruction) and a band of "
                    f"{border_width} voxel(s) on each side of every object boundary (width a reconstruction)."
                    if segmentation_masks
                    else "none (paper 004's rows without SM): every voxel is trained on and scored."
                )
            ),
            extra={
                "upstream": f"https://github.com/{REPO}",
                "commit": COMMIT,
                "border_width": border_width,
                "segmentation_masks": segmentation_masks,
            },
        )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        require_files(
            (raw_dir / s.path for s in self.card.sources),
            f"UroCell expects the upstream layout in {raw_dir}; run: segrepro datasets fetch {self.card.name}",
        )
        for v in VOLUMES:
            path = raw_dir / "data" / f"{v}.nii.gz"
            image = to_zyx(read_array(path)).astype(np.float32)
            label = read_label(raw_dir, v)
            if image.shape != label.shape:
                raise UserError(f"{path}: image shape {image.shape} != label shape {label.shape}")
            if self.segmentation_masks:
                mask = segmentation_mask(image, label, self.artefact_std, self.border_width)
            else:
                mask = np.ones(label.shape, np.uint8)
            yield Volume(v, image, label, mask, source=str(path))

    def folds(self, ids: list[str]) -> list[Fold]:
        return leave_one_out_folds(ids)


def leave_one_out_folds(ids: list[str]) -> list[Fold]:
    """Fold i: test volume i, validation volume i+1 (cyclic), training the rest."""
    n = len(ids)
    return [
        Fold(tuple(ids[j] for j in range(n) if j not in (i, (i + 1) % n)), (ids[(i + 1) % n],), (ids[i],))
        for i in range(n)
    ]


@register_dataset("urocell")
def urocell() -> UroCellAdapter:
    return UroCellAdapter()


@register_dataset("urocell-nosm")
def urocell_nosm() -> UroCellAdapter:
    """UroCell without paper 004's segmentation masks (the table-1 rows without SM)."""
    return UroCellAdapter(segmentation_masks=False, name="urocell-nosm")
