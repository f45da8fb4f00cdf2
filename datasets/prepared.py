"""Read access to a prepared dataset (the canonical form written by ``DatasetAdapter.prepare``).

Layout of ``data/prepared/<name>/``::

    images/<id>.npy   float32, (H, W) or (D, H, W)
    labels/<id>.npy   uint8 class ids
    masks/<id>.npy    uint8, 1 = scored, 0 = ignored everywhere
    instances/<id>.npy  optional int32 instance labels
    meta.json         the card, volume ids, class counts and frequencies, data hash, and the size
                      and sha256 of every file above and of splits.json (``files``)
    splits.json       {"folds": [{"train": [...], "val": [...], "test": [...]}, ...]}

and beside it ``.<name>.intact.json``, the stamp that spares re-reading intact files (``checksums.py``).

``load_prepared`` checks all of it (``PreparedDataset.verify``) before anything is read, so a
corrupted or truncated file is a one-line error naming it and the command that repairs it.
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
from segrepro.datasets.checksums import file_problem, read_stamp, write_stamp
from segrepro.errors import UserError


@dataclass
class PreparedDataset:
    name: str
    root: Path

    @cached_property
    def meta(self) -> dict[str, Any]:
        return self._read_json("meta.json")

    @cached_property
    def folds(self) -> list[Fold]:
        raw = self._read_json("splits.json").get("folds")
        try:
            return [Fold(tuple(f["train"]), tuple(f["val"]), tuple(f["test"])) for f in raw]
        except (TypeError, KeyError) as exc:
            raise self.broken(self.root / "splits.json", "has no valid folds") from exc

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

    def repair_command(self) -> str:
        """The command that prepares this dataset again (from its YAML card, if it came from one)."""
        try:  # read directly, not via ``meta``: meta.json may be the damaged file being reported
            card_file = json.loads((self.root / "meta.json").read_text())["card"]["extra"].get("card_file")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            card_file = None
        return f"segrepro datasets prepare {f'--card {card_file}' if card_file else self.name}"

    def broken(self, path: Path, problem: str) -> UserError:
        """The one-line error for a damaged prepared file: what is wrong and how to repair it."""
        return UserError(f"{path}: {problem}; prepare the dataset again: {self.repair_command()}")

    def verify(self) -> None:
        """Check meta.json, splits.json and every prepared file against the checksums kept at prepare.

        A file with the size and mtime it had when last found intact (the stamp, see
        ``checksums.py``) is not read again; any other is hashed, and the stamp updated.
        """
        files = self.meta.get("files")
        if not isinstance(files, dict) or not files:
            raise self.broken(self.root / "meta.json", "has no file checksums (prepared by an older segrepro)")
        self.folds  # noqa: B018 (parses splits.json)
        seen = read_stamp(self.root)
        stamp = {}
        for rel, record in files.items():
            path = f"{self.root}/{rel}"  # plain strings: this loop runs before every run
            problem, stamp[rel] = file_problem(path, record, seen.get(rel))
            if problem:
                raise self.broken(Path(path), problem)
        write_stamp(self.root, stamp, seen)

    def fold(self, index: int) -> Fold:
        if not 0 <= index < len(self.folds):
            raise UserError(f"dataset {self.name} has folds 0..{len(self.folds) - 1}, not {index}")
        return self.folds[index]

    def load(self, volume_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image, label and validity mask of one volume, memory-mapped."""
        arrays = (self._load_npy(self.root / sub / f"{volume_id}.npy") for sub in ("images", "labels", "masks"))
        return tuple(arrays)  # type: ignore[return-value]

    def _load_npy(self, path: Path) -> np.ndarray:
        try:
            return np.load(path, mmap_mode="r")
        except (OSError, ValueError) as exc:
            detail = (str(exc).splitlines() or [""])[0]
            raise self.broken(path, f"cannot be read ({type(exc).__name__}: {detail})") from exc

    def _read_json(self, name: str) -> dict[str, Any]:
        path = self.root / name
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise self.broken(path, f"unreadable ({exc})") from exc
        if not isinstance(data, dict):
            raise self.broken(path, "is not a JSON object")
        return data

    @property
    def has_instances(self) -> bool:
        return (self.root / "instances").is_dir()

    def load_instances(self, volume_id: str) -> np.ndarray | None:
        """Instance labels of one volume (int32, 0 = none, masked voxels 0), or None where the dataset has none."""
        path = self.root / "instances" / f"{volume_id}.npy"
        return np.load(path, mmap_mode="r") if path.exists() else None


def load_prepared(name: str, root: Path | None = None) -> PreparedDataset:
    """Open a prepared dataset after checking it (``verify``), or say which command prepares it."""
    root = root or paths.prepared_dir(name)
    if not (root / "meta.json").exists() or not (root / "splits.json").exists():
        raise UserError(f"dataset {name!r} is not prepared in {root}; run: segrepro datasets prepare {name}")
    data = PreparedDataset(name, root)
    data.verify()
    return data
