"""Read users' label, mask and probability files (``.npy``, ``.tif``/``.tiff``, ``.png``, ``.nii``/``.nii.gz``,
and the ``.npz`` files of ``segrepro predict``, through the one reader of ``segrepro.datasets.readers``) and
check that they fit, with one-line ``UserError`` messages that name the file and the problem; map raw label
values through a dataset card; pair folders of files by name."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segrepro import paths
from segrepro.datasets import readers
from segrepro.datasets.card import ClassSpec
from segrepro.errors import UserError

SUFFIXES = (*readers.IMAGE_SUFFIXES, ".npy", ".npz")


@dataclass(frozen=True)
class LabelMap:
    """Raw label values -> class ids as a dataset card says (``--card`` or ``--dataset``): ISBI-style files
    where membrane is 0, say, are scored without inverting them by hand. ``ignore`` values are masked."""

    source: str
    classes: tuple[ClassSpec, ...]
    ignore: tuple[float, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def card_label_map(card: Path) -> LabelMap:
    """The classes and ignore values of a YAML card (the generic adapter's, checked the same way)."""
    from segrepro.datasets.generic import GenericAdapter

    adapter = GenericAdapter.from_yaml(card)
    return LabelMap(str(card), adapter.card.classes, adapter.ignore)


def dataset_label_map(name: str) -> LabelMap:
    """The label mapping of a registered dataset, or of one prepared from a card (read from its card file)."""
    from segrepro.datasets import DATASETS, get_dataset

    if name not in DATASETS:
        meta = paths.prepared_dir(name) / "meta.json"
        if not meta.is_file():
            get_dataset(name)  # the registry's one-line error lists the known datasets
        try:
            card_file = json.loads(meta.read_text())["card"].get("extra", {}).get("card_file")
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise UserError(f"{meta}: not a readable prepared dataset ({type(exc).__name__}); give --card") from exc
        if card_file is None or not Path(card_file).is_file():
            raise UserError(f"dataset {name!r}: its card file is gone; give it with --card path/to/card.yaml")
        return card_label_map(Path(card_file))
    classes = get_dataset(name).card.classes
    values = [v for c in classes for v in c.values]
    if not all(c.values for c in classes) or len(set(values)) != len(values):
        raise UserError(
            f"dataset {name!r} does not map single label values to classes (its adapter combines files); "
            "score its prepared class ids with --n-classes, or describe your files with --card"
        )
    return LabelMap(f"dataset {name}", classes)


def read_mapped_labels(
    path: Path, label_map: LabelMap, shape: tuple[int, ...] | None = None, ignore: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Class ids and validity mask of a file of raw label values, mapped through ``label_map``; a value the
    card does not know is an error (with ``ignore`` False, so are its ignore values: a prediction has none)."""
    raw = readers.read_array(Path(path), squeeze=False)
    if shape is not None and raw.shape != shape:
        raise UserError(f"{path}: shape {raw.shape} does not match the target's {shape}")
    if np.iscomplexobj(raw):
        raise UserError(f"{path}: labels must be real label values, found {raw.dtype}")
    return readers.map_labels(raw, label_map.classes, str(path), label_map.ignore if ignore else ())


def label_files(folder: Path) -> dict[str, Path]:
    """The readable files directly in ``folder`` by name without suffix, in natural order."""
    files = [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(SUFFIXES)]
    by_name: dict[str, Path] = {}
    for f in sorted(files, key=lambda p: readers.natural_key(p.name)):
        if readers.stem(f) in by_name:
            raise UserError(f"{f}: two files named {readers.stem(f)!r} in {folder} (one per name)")
        by_name[readers.stem(f)] = f
    return by_name


def paired_folders(
    target: Path, others: Sequence[tuple[str, Path]], subset: str | None = None
) -> list[tuple[str, Path, dict[str, Path]]]:
    """``(name, target file, {option: file})`` for every file of the ``target`` folder, matched by name
    without suffix in each of the ``(option, folder)`` pairs; a file without its partner is an error.
    With ``subset`` (an option's name) only the target files that its folder has are paired: a run's
    test split scored against a dataset's whole labels folder."""
    every = label_files(target)
    if not every:
        raise UserError(f"{target}: no label files ({', '.join(SUFFIXES)})")
    found = {option: label_files(folder) for option, folder in others}
    targets = every if subset is None else {n: p for n, p in every.items() if n in found[subset]}
    if not targets:
        raise UserError(f"{dict(others)[subset]}: no file named as a file of {target} (matched by name without suffix)")
    for option, files in found.items():
        missing = [n for n in targets if n not in files]
        extra = [n for n in files if n not in every]
        if missing or extra:
            folder = dict(others)[option]
            what = f"no {option} file for {missing[0]!r}" if missing else f"{files[extra[0]]} has no target file"
            raise UserError(f"{folder}: {what} (files are matched by name without suffix to {target})")
    return [(name, path, {option: files[name] for option, files in found.items()}) for name, path in targets.items()]


def read_labels(path: Path, n_classes: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Integer class ids in ``[0, n_classes)``, of ``shape`` when given."""
    arr = readers.read_array(Path(path), squeeze=False)  # as stored: shapes are compared as the user saved them
    if shape is not None and arr.shape != shape:
        raise UserError(f"{path}: shape {arr.shape} does not match the target's {shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    elif not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise UserError(f"{path}: labels must be integer class ids, found {arr.dtype} values that are not")
        arr = arr.astype(np.int64)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= n_classes:
            raise UserError(
                f"{path}: class ids range over [{lo}, {hi}], outside [0, {n_classes - 1}] for --n-classes {n_classes}"
            )
    return arr


def read_instances(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Instance labels of ``shape``: non-negative integers, 0 = no instance, each other id one object."""
    arr = readers.read_array(Path(path), squeeze=False, key="instances")
    if arr.shape != shape:
        raise UserError(f"{path}: instance labels shape {arr.shape} does not match the target's {shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise UserError(f"{path}: instance labels must be integers, found {arr.dtype}")
    if arr.size and int(arr.min()) < 0:
        raise UserError(f"{path}: instance labels must be non-negative (0 = no instance)")
    return arr


def read_mask(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Boolean validity mask of ``shape``: 1 (or True) where scored, 0 elsewhere."""
    arr = readers.read_array(Path(path), squeeze=False)
    if arr.shape != shape:
        raise UserError(f"{path}: mask shape {arr.shape} does not match the target's {shape}")
    if arr.dtype != bool and (np.iscomplexobj(arr) or not np.isin(arr, (0, 1)).all()):
        raise UserError(f"{path}: a mask must hold only 0 and 1")
    return arr.astype(bool)


def read_probs(path: Path, n_classes: int, shape: tuple[int, ...]) -> np.ndarray:
    """Channel-first class scores ``(K, *shape)``, finite."""
    arr = readers.read_array(Path(path), squeeze=False, key="probabilities")
    if arr.shape != (n_classes, *shape):
        raise UserError(
            f"{path}: probabilities have shape {arr.shape}, expected {(n_classes, *shape)} "
            "(channel first, one channel per class)"
        )
    if np.iscomplexobj(arr) or not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)):
        raise UserError(f"{path}: probabilities must be finite real numbers, found {arr.dtype}")
    return arr


def read_pair(
    target: Path,
    pred: Path,
    n_classes: int,
    mask: Path | None = None,
    probs: Path | None = None,
    label_map: LabelMap | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Target and predicted class ids, the validity mask (the user's, and the card's ignore values) and the
    probabilities of one pair; with ``label_map`` both label files hold raw values mapped through it."""
    if label_map is None:
        t = read_labels(target, n_classes)
        p = read_labels(pred, n_classes, t.shape)
        valid = None
    else:
        t, card_mask = read_mapped_labels(target, label_map)
        p, _ = read_mapped_labels(pred, label_map, t.shape, ignore=False)
        valid = card_mask.astype(bool) if label_map.ignore else None
    if mask is not None:
        user = read_mask(mask, t.shape)
        valid = user if valid is None else valid & user
    return t, p, valid, None if probs is None else read_probs(probs, n_classes, t.shape)
