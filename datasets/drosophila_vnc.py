"""Drosophila VNC ssTEM, stack 1 (Gerhard et al. 2013): paper 001's five-class benchmark.

Twenty 1024x1024 serial sections with dense labels. Paper 001 (Fujii et al. 2021) cuts each section
into sixteen non-overlapping 256x256 crops (320 crops) and splits them 192/64/64 into train,
validation and test over five folds; this adapter prepares exactly those crops.

Classes (the prepared class ids, in the paper's table order): 0 membrane (raw values 0/32/64/96,
oriented membrane, and 128, membrane junction), 1 mitochondria (191), 2 synapse (223),
3 glia/extracellular (159), 4 intracellular (255). The paper has no background class; class 0 is a
real class, so paper 001's mean IoU averages all five classes (see the entries' convention), not the
foreground classes 1..4 of segrepro's canonical mean.

Folds **[reconstruction]**: the paper does not say how crops were assigned to folds. The 320 crop
ids (sorted) are shuffled once with ``numpy.random.default_rng(0)`` and dealt into five chunks of 64
(``ids[i::5]``); fold f tests on chunk f, validates on chunk (f+1) mod 5 and trains on the other
three (192 crops). Every crop is tested exactly once over the five folds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.segmentation import expand_labels, relabel_sequential

from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import ClassSpec, DatasetCard, SourceFile
from segrepro.datasets.registry import register_dataset
from segrepro.datasets.synthetic import rotating_folds
from segrepro.errors import UserError
from segrepro.metrics.instances import drop_small

UPSTREAM = (
    "https://raw.githubusercontent.com/unidesigner/groundtruth-drosophila-vnc/4a5f051466d24d8dc1e855ab55658bb1b1dcd6bf/"
)
N_SECTIONS = 20
SECTION = 1024
CROP = 256
N_FOLDS = 5
FOLD_SEED = 0

CLASSES = (
    ClassSpec("membrane", (0, 32, 64, 96, 128), "#f58231"),
    ClassSpec("mitochondria", (191,), "#e6194b"),
    ClassSpec("synapse", (223,), "#4363d8"),
    ClassSpec("glia/extracellular", (159,), "#3cb44b"),
    ClassSpec("intracellular", (255,), "#dddddd"),
)

# sha256 of each upstream file at the pinned commit (from the mirror's SHA256SUMS).
CHECKSUMS = """
ac5effe12dd4ba1be1ba7a65606cca52d75f227b8342b1375a6c9c6f1b1d2d46  stack1/labels/labels00000000.png
04310c96efc2456b98f50320d55c25e0a73448b9e761d9c0f675d561484e112f  stack1/labels/labels00000001.png
9caa63a024514b628e017d5df87b6e97304cdb33c77dedddf3b05af0094f8cfd  stack1/labels/labels00000002.png
e6c0deddfdbc19bc50ebef75f23800ab75ab233e4bb7e37a7a0f9f0d4ffcbc3d  stack1/labels/labels00000003.png
5cc5cab300fa49ed707dce371ce117fe2ef2e3d5ad1b7ade7e6a912dac627c21  stack1/labels/labels00000004.png
e79b0bbc7db40879cc3b3e548f04ce36c08268188cef48cd36acc0fc117fc89f  stack1/labels/labels00000005.png
7a0d0a0b5068747f30f2db273fd7b9add8370c324a073eb1bb8b642df162157d  stack1/labels/labels00000006.png
01f993e245165b2adce9a46306e0026e096112af93b5e031c6f0968463143e87  stack1/labels/labels00000007.png
e412bd39fa5ccc797ba7a3ffdf450fa6dc5b0ff2412375e381cf22c580540b21  stack1/labels/labels00000008.png
c4932566c11bedd58333ab2fc60c1f211509ef5db9bdb841d0df086f4a3bb794  stack1/labels/labels00000009.png
beecf7d14b69f0fe7e856fd45a3d49fa15c40a0e3efccc48ee3d7cba8018ceea  stack1/labels/labels00000010.png
f9bec2fdddf5b502a3e74ae91769006b6d9b6de34dab3e2b16ed4a5a8d42156c  stack1/labels/labels00000011.png
186c123ce2d61e48b0a8f5336a6d5e7ae6ee5ab7e2dc93c36d00f642f5584b3c  stack1/labels/labels00000012.png
5cc3e9f7a6be05e45dbcc84ae1238d828ab32ee9def5520f26cb689cb93110bb  stack1/labels/labels00000013.png
a0dc0b705ac63863599ccd2b1c181ee9b2552a29693e4bee6851dd5d39d2cc7e  stack1/labels/labels00000014.png
fcf4d6dcda4a10bf1f93267041b555c5bb49429817a22cd10f3a7d98ff6e6583  stack1/labels/labels00000015.png
e5bdd253501b70c55e2ae06b2b1aa715a48ee5e2f943d8964cd78b8a75bec06c  stack1/labels/labels00000016.png
50c5d28232371017ae3faf83bdab988f43d7a87c131859a00b8e57bdc20409f4  stack1/labels/labels00000017.png
97621f0125964ed403b2d01430564ab35afd07a11aa1b6fcfebc8a5ff61c98bc  stack1/labels/labels00000018.png
06e38c05c48420af2d34b1baa1cbfc1effcbbe69c17a6410cccb899f48b59b37  stack1/labels/labels00000019.png
b76df299a184d9a8616aa7867a1b0f577313e97cc9fef826a0f76f65f9676383  stack1/raw/00.tif
718808c0149d6e24ee7b12085695c1ff8e3afb8e5dd13e18ca291fc9b60fcd09  stack1/raw/01.tif
0e2480e0164bcbc2704d76232919f5fcc0540988c6f91a8a78b8f514718717a4  stack1/raw/02.tif
1d6ca42fad097c8647b5e077ade1e7cb124d09aa11ef51b22c74367a44b04af6  stack1/raw/03.tif
6be1ca5151edf4ffbe79745ce3a1cad784a83fc5843120820ba4133474c41bab  stack1/raw/04.tif
5c208cd81d2bebe969e07f5c6717514e8c5c2e9967bac3685ddb71add9142b94  stack1/raw/05.tif
db5ad4774950f7b0656853328bd8ef1e43f7b0790bf417c760a0cf1a1ac9999e  stack1/raw/06.tif
5a0611902a45f3bf368ffc3312c74b0f2a8f923bba6f73d9041c727d3060bfbf  stack1/raw/07.tif
9cff4e390c3604152a2b7a70d99e96edc45d1e50b48ae64b042ed2220fbdfbb9  stack1/raw/08.tif
eeb17b2971d467a96525d879037d69d5973c998f5e4bcafe6d9adec08b4457a5  stack1/raw/09.tif
6a9debebb6e78e0789b732d16ef4755011b5047299f9f1c22edb28a06c106a16  stack1/raw/10.tif
318f17e45754e890ab7df384a1f3941bebeea4864fe4b49a34758a858de56bbe  stack1/raw/11.tif
6e1a8b23083641cb4a066d281ff4c5149056a0f17b32e68d04c57948ef6f5547  stack1/raw/12.tif
564970a899a67aab0ad899d22d19c43b68f6eeb01d893f5770ebc114cb4bd12c  stack1/raw/13.tif
7a3bfd5951dbe637c764e51835a3d59c63de33b2dbcc9b0d70a0302a30dde904  stack1/raw/14.tif
80ab55b19d877d791f2e008343ea1eb2315bd9dfe53bec141ea99c05a66b20c0  stack1/raw/15.tif
ea86c994d2b9a2fe0764fcdbafd8b1fa21c091cb8ebac333e3c64ed6aa645647  stack1/raw/16.tif
5cb536a565b57e6ccd47ef619d1f4e7cd4eae8d11eb5a1c7ea8bf6ac50d51eca  stack1/raw/17.tif
bbe3f7b85d499899e7dec31ec9be1f75cd82fad710dc8a68bd24531fecf3e584  stack1/raw/18.tif
a9c2710133d4791cad456db91fdf03d2cf44f3c517514f55efda596f4a4cd642  stack1/raw/19.tif
"""


def _sources() -> tuple[SourceFile, ...]:
    pairs = (line.split() for line in CHECKSUMS.strip().splitlines())
    return tuple(SourceFile(path, UPSTREAM + path, digest) for digest, path in pairs)


def raw_path(section: int) -> str:
    return f"stack1/raw/{section:02d}.tif"


def label_path(section: int) -> str:
    return f"stack1/labels/labels{section:08d}.png"


def crop_id(section: int, row: int, col: int) -> str:
    """``s07_y2_x3``: section 7, crop row 2, crop column 3 (256-pixel steps)."""
    return f"s{section:02d}_y{row}_x{col}"


def label_lut() -> np.ndarray:
    """Raw 8-bit label value -> class id; 255 marks values the card does not know."""
    lut = np.full(256, 255, dtype=np.uint8)
    for k, spec in enumerate(CLASSES):
        lut[list(spec.values)] = k
    return lut


def read_gray(path: Path, dataset: str = "drosophila-vnc") -> np.ndarray:
    """One 8-bit greyscale image as a 2-D array, or a one-line error naming the file (and, when it is
    missing, the fetch command of ``dataset``, the dataset reading it)."""
    if not path.exists():
        raise UserError(f"{path}: missing; run `segrepro datasets fetch {dataset}` first")
    try:
        with Image.open(path) as im:
            arr = np.asarray(im)
    except OSError as exc:
        raise UserError(f"{path}: cannot read image ({exc})") from exc
    if arr.ndim != 2:
        raise UserError(f"{path}: expected a single-channel image, got shape {arr.shape}")
    return arr


def read_section(raw_dir: Path, section: int, dataset: str = "drosophila-vnc") -> tuple[np.ndarray, np.ndarray]:
    """Section ``section`` as ``(image uint8, class ids uint8)``, both 1024x1024, or a one-line error
    (``dataset``: the dataset reading it, whose fetch command a missing file names)."""
    image = read_gray(raw_dir / raw_path(section), dataset)
    raw_label = read_gray(raw_dir / label_path(section), dataset)
    for path, arr in ((raw_path(section), image), (label_path(section), raw_label)):
        if arr.shape != (SECTION, SECTION):
            raise UserError(f"{raw_dir / path}: shape {arr.shape}, expected ({SECTION}, {SECTION})")
    label = label_lut()[raw_label]
    if (label == 255).any():
        bad = np.unique(raw_label[label == 255]).tolist()[:5]
        raise UserError(f"{raw_dir / label_path(section)}: label values {bad} are not in the card")
    return image, label


class DrosophilaVNCAdapter(DatasetAdapter):
    """Stack 1 of the Drosophila VNC ssTEM ground truth, as paper 001's 320 crops and five folds."""

    card = DatasetCard(
        name="drosophila-vnc",
        title="Drosophila VNC ssTEM (stack 1), paper 001 crops",
        description=(
            "20 serial ssTEM sections of the Drosophila first-instar larva ventral nerve cord, 1024x1024, "
            "cut into 320 non-overlapping 256x256 crops (paper 001). Dense five-class labels."
        ),
        spatial_dims=2,
        classes=CLASSES,
        licence="CC BY-NC-SA 3.0",
        citation=(
            "Gerhard S, Funke J, Martel J, Cardona A, Fetter R. Segmented anisotropic ssTEM dataset of neural "
            "tissue. figshare (2013), doi:10.6084/m9.figshare.856713"
        ),
        voxel_size=(4.6, 4.6),
        sources=_sources(),
        splits=(
            "Paper 001: 192 train / 64 validation / 64 test crops, five folds. Reconstruction: the 320 sorted crop "
            "ids are shuffled with numpy default_rng(0) and dealt into five chunks of 64 (ids[i::5]); fold f tests "
            "on chunk f, validates on chunk (f+1) mod 5, trains on the other three."
        ),
        papers=("001",),
        notes=(
            "Class 0 (membrane) is a real class, not background: paper 001's mean IoU is over all five classes. "
            "Sections are 45-50 nm thick (anisotropic); each crop is prepared as an independent 2-D image. "
            "Upstream: git repository unidesigner/groundtruth-drosophila-vnc at commit "
            "4a5f051466d24d8dc1e855ab55658bb1b1dcd6bf."
        ),
    )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        per_side = SECTION // CROP
        for s in range(N_SECTIONS):
            image, label = read_section(raw_dir, s, self.card.name)  # -cells reads its own raw folder
            for r in range(per_side):
                for c in range(per_side):
                    sl = (slice(r * CROP, (r + 1) * CROP), slice(c * CROP, (c + 1) * CROP))
                    yield Volume(
                        crop_id(s, r, c),
                        image[sl].astype(np.float32),
                        label[sl],
                        np.ones((CROP, CROP), np.uint8),
                        source=f"{raw_dir / label_path(s)} crop y{r} x{c}",
                    )

    def folds(self, ids: list[str]) -> list[Fold]:
        order = np.random.default_rng(FOLD_SEED).permutation(len(ids))
        return rotating_folds([sorted(ids)[i] for i in order], N_FOLDS)


@register_dataset("drosophila-vnc")
def drosophila_vnc() -> DrosophilaVNCAdapter:
    return DrosophilaVNCAdapter()


MEMBRANE = 0  # class id of membrane in drosophila-vnc
CELL_GROWTH = 3  # pixels a profile grows into the membrane band (13.8 nm at 4.6 nm/pixel): most neighbours meet
MIN_PROFILE = 30  # pixels; smaller non-membrane specks are not cell profiles


def cells_from_membrane(membrane: np.ndarray, growth: int = CELL_GROWTH, min_size: int = MIN_PROFILE) -> np.ndarray:
    """Instance labels (int32, 0 = none) from a membrane map, as paper 002's touching cells.

    Each 4-connected region that is not membrane and has at least ``min_size`` pixels is one cell profile;
    profiles grow into the membrane by up to ``growth`` pixels (scikit-image ``expand_labels``: Euclidean
    distance, the nearest profile wins), so neighbours separated by a thin membrane meet and touch.
    Membrane farther than ``growth`` from every profile stays background."""
    profiles, _ = ndimage.label(~np.asarray(membrane, dtype=bool))
    profiles = drop_small(profiles, min_size)
    return relabel_sequential(expand_labels(profiles, distance=growth))[0].astype(np.int32)


class DrosophilaVNCCellsAdapter(DrosophilaVNCAdapter):
    """drosophila-vnc's crops with cell-profile instances derived from the membrane labels (paper 002)."""

    card = replace(
        DrosophilaVNCAdapter.card,
        name="drosophila-vnc-cells",
        title="Drosophila VNC ssTEM (stack 1), touching cell profiles (instances)",
        description=(
            "drosophila-vnc's 320 crops (256x256) with instance labels: each 4-connected non-membrane region of "
            f"at least {MIN_PROFILE} pixels is one cell profile, grown {CELL_GROWTH} pixels into the membrane band "
            "(scikit-image expand_labels, Euclidean distance) so that neighbours touch. Classes: background "
            "(membrane no profile reaches) and cell."
        ),
        classes=(ClassSpec("background", (), "#000000"), ClassSpec("cell", (), "#3cb44b")),
        papers=("002",),
        notes=(
            "Derived by segrepro (datasets/drosophila_vnc.py: cells_from_membrane) from the drosophila-vnc labels; "
            "same files, crops, folds and licence. Mitochondria and synapses lie inside profiles; glia and "
            "extracellular regions become profiles too. Profiles cut by a crop's edge are separate per crop."
        ),
        instances=True,
    )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        for vol in super().volumes(raw_dir):
            instances = cells_from_membrane(vol.label == MEMBRANE)
            label = (instances > 0).astype(np.uint8)
            yield Volume(vol.id, vol.image, label, vol.mask, vol.source, instances)


@register_dataset("drosophila-vnc-cells")
def drosophila_vnc_cells() -> DrosophilaVNCCellsAdapter:
    return DrosophilaVNCCellsAdapter()
