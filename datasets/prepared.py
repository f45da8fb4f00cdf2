"""Read access to a prepared dataset (the canonical form written by ``DatasetAdapter.prepare``).

Layout of ``data/prepared/<name>/``::

    images/<id>.npy   float32, (H, W) or (D, H, W)
    labels/<id>.npy   uint8 class ids
    masks/<id>.npy    uint8, 1 = scored, 0 = ignored everywhere
    instances/<id>.npy  optional int32 instance labels
    meta.json         the card, volume ids, class counts and frequencies, data hash
    splits.json       {"folds": [{"train": [...], "val": [...], "test": [...]}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from segrepro import paths
from segrepro.datasets.adapter import Fold
from segrepro.errors import UserError


@dataclass
class PreparedDataset:
    name: str
    root: Path

    @cached_property
    def meta(self) -> dict[str, Any]:
        return json.loads((self.root / "meta.json").read_text())

    @cached_property
    def folds(self) -> list[Fold]:
        raw = json.loads((self.root / "splits.json").read_text())["folds"]
        return [Fold(tuple(f["train"]), tuple(f["val"]), tuple(f["test"])) for f in raw]

    @property
    def class_names(self) -> list[str]:
        return [c["name"] for c in self.meta["card"]["classes"]]

    @property
    def n_classes(self) -> int:
        return len(self.meta["card"]["classes"])

    @property
    def spatial_dims(self) -> int:
        return int(self.meta["card"]["spatial_dims"])

    @property
    def data_hash(self) -> str:
        return str(self.meta["data_hash"])

    def fold(self, index: int) -> Fold:
        if not 0 <= index < len(self.folds):
            raise UserError(f"dataset {self.name} has folds 0..{len(self.folds) - 1}, not {index}")
        return self.folds[index]

    def load(self, volume_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image, label and validity mask of one volume, memory-mapped."""
        return tuple(  # type: ignore[return-value]
            np.load(self.root / sub / f"{volume_id}.npy", mmap_mode="r") for sub in ("images", "labels", "masks")
        )

    @property
    def has_instances(self) -> bool:
        return (self.root / "instances").is_dir()

    def load_instances(self, volume_id: str) -> np.ndarray | None:
        """Instance labels of one volume (int32, 0 = none, masked voxels 0), or None where the dataset has none."""
        path = self.root / "instances" / f"{volume_id}.npy"
        return np.load(path, mmap_mode="r") if path.exists() else None


def load_prepared(name: str, root: Path | None = None) -> PreparedDataset:
    """Open a prepared dataset, or say which command prepares it."""
    root = root or paths.prepared_dir(name)
    if not (root / "meta.json").exists() or not (root / "splits.json").exists():
        raise UserError(f"dataset {name!r} is not prepared in {root}; run: segrepro datasets prepare {name}")
    return PreparedDataset(name, root)
