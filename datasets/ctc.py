"""A reader for the Cell Tracking Challenge layout, for paper 002's instance datasets (Guerrero-Peña
et al. 2020: DIC HeLa, T-cells, meristem). Users bring the files (e.g. a CTC training archive).

Expected layout in ``data/raw/<name>/`` (http://celltrackingchallenge.net/datasets/, "naming and
file content conventions")::

    01/t000.tif ...                 frames of sequence 01 (also 02, ...)
    01_GT/SEG/man_seg000.tif ...    instance labels (0 background, 1..N cells) of some frames

Only frames with a ``man_seg`` file are prepared (ids ``01_t000``). Instance labels are kept in
``Volume.instances``; the semantic label is cell (any instance) vs background.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import Fold, Volume
from segrepro.datasets.byo import BringYourOwnAdapter
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.readers import read_array
from segrepro.datasets.registry import register_dataset
from segrepro.datasets.synthetic import rotating_folds
from segrepro.errors import UserError

SEG_NAME = re.compile(r"man_seg(\d+)\.tiff?$")


class CTCAdapter(BringYourOwnAdapter):
    """Any Cell Tracking Challenge dataset; ``val_every``-th training frame validates."""

    layout = "01/t000.tif ... with 01_GT/SEG/man_seg000.tif ... (and 02, ...), the CTC layout"
    where_to_get = "download a training dataset from http://celltrackingchallenge.net/2d-datasets/ and unpack it"

    def __init__(self, name: str = "ctc", spatial_dims: int = 2, val_every: int = 4) -> None:
        self.val_every = val_every
        self.card = DatasetCard(
            name=name,
            title="Cell Tracking Challenge layout (cells, instances)",
            description="Frames with gold-standard segmentation (SEG) of a Cell Tracking Challenge dataset.",
            spatial_dims=spatial_dims,
            classes=(ClassSpec("background", (0,), "#000000"), ClassSpec("cell", (), "#3cb44b")),
            licence="see the dataset's terms on celltrackingchallenge.net",
            citation=(
                "Maška M. et al., The Cell Tracking Challenge: 10 years of objective benchmarking, Nature "
                "Methods 20 (2023); Guerrero-Peña F.A. et al., A weakly supervised method for instance "
                "segmentation of biological cells (J regularization), 2019/2020 (paper 002)"
            ),
            voxel_size=None,
            sources=(),
            splits=(
                "With two or more sequences: one fold per sequence, testing on it and training on the others, "
                f"every {val_every}th of their annotated frames validating (our choice). With one sequence: 3 "
                "rotating folds over its annotated frames."
            ),
            papers=("002",),
            instances=True,
            notes=(
                f"Expected files: {self.layout}. Label values: 0 background, any positive instance id = cell; "
                "instance ids are kept as instances/<id>.npy. Frames without a man_seg file are skipped."
            ),
        )

    def sequences(self, raw_dir: Path) -> list[str]:
        seqs = sorted(p.name for p in raw_dir.glob("[0-9][0-9]") if p.is_dir())
        if not seqs:
            raise self.missing(raw_dir / "01")
        return seqs

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        for seq in self.sequences(raw_dir):
            seg_dir = raw_dir / f"{seq}_GT" / "SEG"
            segs = sorted((m.group(1), p) for p in seg_dir.glob("man_seg*") if (m := SEG_NAME.match(p.name)))
            if not segs:
                raise self.missing(seg_dir / "man_seg000.tif")
            for digits, seg in segs:
                frame = raw_dir / seq / f"t{digits}{seg.suffix}"
                if not frame.is_file():
                    raise UserError(f"{frame}: missing; the frame of {seg}")
                image, instances = read_array(frame), read_array(seg)
                yield Volume(
                    f"{seq}_t{digits}",
                    image.astype(np.float32),
                    (instances > 0).astype(np.uint8),
                    np.ones(instances.shape, np.uint8),
                    source=f"{frame} (instances {seg})",
                    instances=instances,
                )

    def folds(self, ids: list[str]) -> list[Fold]:
        seqs = sorted({i.split("_")[0] for i in ids})
        if len(seqs) == 1:
            return rotating_folds(ids, 3)
        folds = []
        for seq in seqs:
            rest = [i for i in ids if not i.startswith(f"{seq}_")]
            val = tuple(rest[self.val_every - 1 :: self.val_every]) or (rest[-1],)
            train = tuple(i for i in rest if i not in val)
            folds.append(Fold(train, val, tuple(i for i in ids if i.startswith(f"{seq}_"))))
        return folds


@register_dataset("ctc")
def ctc() -> CTCAdapter:
    return CTCAdapter()
