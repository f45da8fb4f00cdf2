"""The adapter contract every dataset implements, and the shared prepare step.

An adapter yields volumes (image, label, validity mask) and the official folds; ``prepare``
validates each volume and writes the canonical form (see ``prepared.py``) into a staging folder that
replaces the old one only when complete, so a failed prepare leaves nothing half-written.
"""

from __future__ import annotations

import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
from tqdm import tqdm

from segrepro.datasets.card import DatasetCard
from segrepro.datasets.checksums import file_record, prepared_checksums, sha256_of, stat_key, write_stamp
from segrepro.datasets.fetch import fetch_sources, verify_sources
from segrepro.errors import UserError
from segrepro.io import replace_dir_atomic, staging_dir, write_json_atomic, writing_into


@dataclass
class Volume:
    """One image of a prepared dataset: a 2-D slice ``(H, W)`` or a 3-D volume ``(D, H, W)``.

    ``label`` holds class ids (indices into the card's classes); ``mask`` is 1 where voxels are
    scored and 0 where they are ignored by every loss and metric. ``source`` names the file(s) it
    came from, for error messages.
    """

    id: str
    image: np.ndarray
    label: np.ndarray
    mask: np.ndarray
    source: str = ""
    instances: np.ndarray | None = None


@dataclass(frozen=True)
class Fold:
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]


@dataclass
class PrepareStats:
    class_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    masked: int = 0
    total: int = 0


def validate_volume(vol: Volume, card: DatasetCard) -> None:
    """Raise a one-line ``UserError`` naming the file when a volume cannot be used."""
    where = vol.source or vol.id
    if vol.image.ndim != card.spatial_dims:
        raise UserError(f"{where}: image has {vol.image.ndim} dimensions, expected {card.spatial_dims}")
    if vol.image.shape != vol.label.shape:
        raise UserError(f"{where}: image shape {vol.image.shape} != label shape {vol.label.shape}")
    if vol.mask.shape != vol.label.shape:
        raise UserError(f"{where}: mask shape {vol.mask.shape} != label shape {vol.label.shape}")
    if vol.image.size == 0:
        raise UserError(f"{where}: empty volume")
    if not np.all(np.isfinite(vol.image)):
        raise UserError(f"{where}: image contains NaN or inf values")
    bad = np.setdiff1d(np.unique(vol.label), np.arange(card.n_classes))
    if bad.size:
        raise UserError(f"{where}: label values {bad.tolist()[:5]} are not class ids 0..{card.n_classes - 1}")
    if vol.instances is not None:
        validate_instances(vol.instances, vol.label, vol.mask, where)


def validate_instances(instances: np.ndarray, label: np.ndarray, mask: np.ndarray, where: str) -> None:
    """Instance labels: non-negative integers of the label's shape, inside non-background or ignored voxels."""
    if instances.shape != label.shape:
        raise UserError(f"{where}: instance labels shape {instances.shape} != label shape {label.shape}")
    if not (np.issubdtype(instances.dtype, np.integer) or instances.dtype == bool):
        raise UserError(f"{where}: instance labels must be integers, not {instances.dtype}")
    if instances.size and instances.min() < 0:
        raise UserError(f"{where}: instance labels must be non-negative (0 = no instance)")
    stray = int(((instances > 0) & (label == 0) & (mask > 0)).sum())
    if stray:
        raise UserError(
            f"{where}: instance labels cover {stray} scored background voxels; an instance must lie on "
            "labelled (non-background) voxels or inside the ignore mask"
        )


class DatasetAdapter(ABC):
    """Base class of every dataset adapter; subclasses set ``card`` and implement two methods."""

    card: DatasetCard

    def fetch(self, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
        """Download (or copy from ``mirror``, or from ``base_url`` in the upstream layout) and verify
        every source file into ``raw_dir``."""
        fetch_sources(self.card, raw_dir, mirror, base_url)

    @abstractmethod
    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        """Yield the dataset's volumes in canonical form (class ids, validity mask)."""

    @abstractmethod
    def folds(self, ids: list[str]) -> list[Fold]:
        """The official folds over the prepared volume ids."""

    def prepare(self, raw_dir: Path, out_dir: Path) -> Path:
        """Write the canonical prepared form of the dataset to ``out_dir`` atomically.

        Source files with a known checksum are verified before they are read; the prepared files'
        checksums are kept in ``meta.json`` (and their stamp beside it) for ``PreparedDataset.verify``.
        """
        verify_sources(self.card, raw_dir)
        stage = staging_dir(out_dir)
        try:
            with writing_into(out_dir.parent):
                names = self._write_prepared(raw_dir, stage)
            replace_dir_atomic(stage, out_dir)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        write_stamp(out_dir, {rel: stat_key(out_dir / rel) for rel in names})
        return out_dir

    def _write_prepared(self, raw_dir: Path, stage: Path) -> list[str]:
        """Write everything into ``stage``; returns the names of the checksummed files."""
        stats = self._write_volumes(raw_dir, stage)
        ids = sorted((p.stem for p in (stage / "images").glob("*.npy")), key=natural_key)
        folds = self.folds(ids)
        self._check_folds(folds, ids)
        splits = stage / "splits.json"
        write_json_atomic(
            splits, {"folds": [{"train": list(f.train), "val": list(f.val), "test": list(f.test)} for f in folds]}
        )
        data_hash, files = prepared_checksums(stage)
        files[splits.name] = file_record(splits, sha256_of(splits))
        counts = stats.class_counts
        scored = max(int(counts.sum()), 1)
        meta = {
            "card": self.card.to_dict(),
            "volumes": ids,
            "class_counts": {c.name: int(n) for c, n in zip(self.card.classes, counts, strict=True)},
            "class_frequencies": {c.name: float(n) / scored for c, n in zip(self.card.classes, counts, strict=True)},
            "masked_fraction": stats.masked / max(stats.total, 1),
            "data_hash": data_hash,
            "files": files,
        }
        write_json_atomic(stage / "meta.json", meta)
        return list(files)

    def _write_volumes(self, raw_dir: Path, stage: Path) -> PrepareStats:
        for sub in ("images", "labels", "masks"):
            (stage / sub).mkdir()
        stats = PrepareStats(class_counts=np.zeros(self.card.n_classes, dtype=np.int64))
        seen: set[str] = set()
        for vol in tqdm(self.volumes(raw_dir), desc=f"prepare {self.card.name}", unit="vol", leave=False):
            validate_volume(vol, self.card)
            if vol.id in seen:
                raise UserError(f"{vol.source or vol.id}: volume id {vol.id!r} occurs twice")
            seen.add(vol.id)
            label = vol.label.astype(np.uint8 if self.card.n_classes < 256 else np.int16)
            mask = (vol.mask > 0).astype(np.uint8)
            np.save(stage / "images" / f"{vol.id}.npy", vol.image.astype(np.float32))
            np.save(stage / "labels" / f"{vol.id}.npy", label)
            np.save(stage / "masks" / f"{vol.id}.npy", mask)
            if vol.instances is not None:
                (stage / "instances").mkdir(exist_ok=True)
                # masked like the rest: ignored voxels belong to no instance
                np.save(stage / "instances" / f"{vol.id}.npy", np.where(mask > 0, vol.instances, 0).astype(np.int32))
            stats.class_counts += np.bincount(label[mask > 0].ravel(), minlength=self.card.n_classes)[
                : self.card.n_classes
            ]
            stats.masked += int(mask.size - mask.sum())
            stats.total += int(mask.size)
        if not seen:
            raise UserError(f"{raw_dir}: no volumes found for dataset {self.card.name}")
        return stats

    def _check_folds(self, folds: list[Fold], ids: list[str]) -> None:
        known = set(ids)
        for i, f in enumerate(folds):
            parts = zip(("train", "val", "test"), (f.train, f.val, f.test), strict=True)
            for (a, part_a), (b, part_b) in combinations(parts, 2):
                both = sorted(set(part_a) & set(part_b), key=natural_key)
                if both:
                    raise UserError(f"{self.card.name}: fold {i} puts {both[:3]} in both {a} and {b}")
            unknown = set(f.train + f.val + f.test) - known
            if unknown:
                raise UserError(f"{self.card.name}: fold {i} names unknown volumes {sorted(unknown)[:3]}")


def natural_key(text: str) -> list[object]:
    """Sort key that orders ``img2`` before ``img10`` (serial sections stay in order)."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]
