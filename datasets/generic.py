"""The generic adapter: a user's folder of 2-D slices or 3-D volumes (TIFF, PNG, NIfTI) plus a small
YAML card becomes a prepared dataset (``segrepro datasets prepare --card card.yaml``).

Card keys (the README has a complete example): ``name``, ``spatial_dims`` (2 or 3), ``images`` and
``labels`` (folders relative to the card; files are paired by name without suffix), ``classes``
(list of ``{name, values, colour}``; ``values`` are the raw label values of the class), and optional
``title``, ``description``, ``ignore`` (label values masked out of every loss and metric),
``voxel_size`` (in array order, (z, y, x) for volumes), ``voxel_unit``, ``licence``, ``citation``,
``split`` (``{folds: K}`` rotating folds over the files in natural order, every K-th file or, with
``blocks: contiguous``, K consecutive blocks for serial sections; or one explicit fold
``{train: [...], val: [...], test: [...]}`` of file names without suffix). NIfTI arrays are read in
``(x, y, z)`` order and prepared as ``(z, y, x)``. Preparing a card under a name already prepared
from a different card is refused unless forced. ``instances`` (a folder of instance-label files
paired by name: 0 = no instance, any positive integer one object; paper 002's entries need them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from segrepro import paths
from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import ClassSpec, DatasetCard
from segrepro.datasets.readers import image_files, map_labels, paired_files, read_array, stem
from segrepro.datasets.synthetic import rotating_folds
from segrepro.errors import UserError
from segrepro.yaml_files import read_yaml

REQUIRED = ("name", "spatial_dims", "images", "labels", "classes")
OPTIONAL = (
    "title",
    "description",
    "ignore",
    "voxel_size",
    "voxel_unit",
    "licence",
    "citation",
    "split",
    "instances",
)
DEFAULT_FOLDS = 5
EXPLICIT = ("train", "val", "test")
BLOCKS = ("interleaved", "contiguous")


class GenericAdapter(DatasetAdapter):
    """A dataset described by a YAML card; build it with ``GenericAdapter.from_yaml(path)``."""

    def __init__(self, spec: dict[str, Any], card_path: Path) -> None:
        self.spec = spec
        self.card_path = card_path
        self.root = card_path.parent
        ignore = spec.get("ignore")
        self.ignore = tuple(ignore) if isinstance(ignore, list) else (() if ignore is None else (ignore,))
        self.card = DatasetCard(
            name=spec["name"],
            title=spec.get("title", spec["name"]),
            description=spec.get("description", f"user dataset from {card_path}"),
            spatial_dims=spec["spatial_dims"],
            classes=tuple(
                ClassSpec(c["name"], tuple(c["values"]), c.get("colour", "#888888")) for c in spec["classes"]
            ),
            licence=spec.get("licence", "unspecified"),
            citation=spec.get("citation", "unspecified"),
            voxel_size=tuple(spec["voxel_size"]) if spec.get("voxel_size") else None,
            voxel_unit=spec.get("voxel_unit", "nm"),
            splits=str(spec.get("split", {"folds": DEFAULT_FOLDS})),
            notes=f"Generic adapter; ignore values {list(self.ignore)} are masked.",
            instances="instances" in spec,
            extra={"card_file": str(card_path.resolve())},
        )

    @classmethod
    def from_yaml(cls, path: Path) -> GenericAdapter:
        """Read and check a card; every problem is a one-line ``UserError`` naming the card."""
        spec = read_yaml(path)
        check_spec(spec, path)
        return cls(spec, path)

    def fetch(self, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
        """Nothing to fetch: the card points at the user's files."""

    def prepare(self, raw_dir: Path, out_dir: Path, force: bool = False) -> Path:
        """As ``DatasetAdapter.prepare``, but refuses to replace data prepared from another card
        (or another version of this one) unless ``force``."""
        if not force:
            self._check_replaces(out_dir)
        return super().prepare(raw_dir, out_dir)

    def _check_replaces(self, out_dir: Path) -> None:
        try:
            old = json.loads((out_dir / "meta.json").read_text())["card"]
        except (OSError, ValueError, KeyError, TypeError):
            return  # nothing there, or damaged data that preparing again repairs
        if old != json.loads(json.dumps(self.card.to_dict())):
            origin = (old.get("extra") or {}).get("card_file") or "a registered dataset"
            raise UserError(
                f"{out_dir} already holds {self.card.name!r} prepared from a different card ({origin}); "
                "nothing was replaced: run again with --force to replace it, or give this card another name"
            )

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        expects = f"files paired by name in {self.spec['images']}/ and {self.spec['labels']}/ (card {self.card_path})"
        for name, img_path, lab_path in paired_files(
            self.root / self.spec["images"], self.root / self.spec["labels"], expects
        ):
            image, raw_label = _read(img_path), _read(lab_path, labels=True)
            if image.shape != raw_label.shape:
                raise UserError(f"{lab_path}: label shape {raw_label.shape} != image shape {image.shape}")
            label, mask = map_labels(raw_label, self.card.classes, str(lab_path), self.ignore)
            if "instances" not in self.spec:
                yield Volume(name, image.astype(np.float32), label, mask, source=str(img_path))
                continue
            inst_path = self._instance_file(name)
            yield Volume(name, image.astype(np.float32), label, mask, str(inst_path), _read(inst_path))

    def _instance_file(self, name: str) -> Path:
        """The card's instance-label file named like the image ``name``."""
        folder = self.root / self.spec["instances"]
        found = [p for p in image_files(folder) if stem(p) == name]
        if not found:
            raise UserError(f"{folder / name}: missing instance labels; expected one file per image name in {folder}")
        return found[0]

    def folds(self, ids: list[str]) -> list[Fold]:
        split = self.spec.get("split") or {"folds": DEFAULT_FOLDS}
        if "folds" in split:
            k = split["folds"]
            if len(ids) < 3 or not 3 <= k <= len(ids):
                raise UserError(f"{self.card_path}: split.folds={k} needs 3 <= folds <= {len(ids)} volumes")
            return rotating_folds(ids, k, contiguous=split.get("blocks") == "contiguous")
        parts = tuple(tuple(str(i) for i in split.get(key) or ()) for key in EXPLICIT)
        unknown = sorted(set(sum(parts, ())) - set(ids))
        if unknown:
            raise UserError(f"{self.card_path}: split names unknown files {unknown[:3]} (known: {ids[:5]}...)")
        if not all(parts):
            raise UserError(f"{self.card_path}: split needs non-empty train, val and test lists")
        return [Fold(*parts)]


def _read(path: Path, labels: bool = False) -> np.ndarray:
    arr = read_array(path, labels=labels)
    return np.ascontiguousarray(arr.T) if path.name.lower().endswith((".nii", ".nii.gz")) else arr


def check_spec(spec: Any, path: Path) -> None:
    """Raise one line for the first problem in a card's content."""
    if not isinstance(spec, dict):
        raise UserError(f"{path}: the card must be a YAML mapping with keys {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if k not in spec]
    if missing:
        raise UserError(f"{path}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(spec) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(REQUIRED + OPTIONAL)}")
    try:
        paths.check_slug(spec["name"], "name")
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    if spec["spatial_dims"] not in (2, 3):
        raise UserError(f"{path}: spatial_dims must be 2 or 3, not {spec['spatial_dims']!r}")
    classes = spec["classes"]
    if not isinstance(classes, list) or len(classes) < 2:
        raise UserError(f"{path}: classes must list at least two classes (the first is the background)")
    for c in classes:
        values = c.get("values") if isinstance(c, dict) else None
        if not isinstance(c, dict) or "name" not in c or not isinstance(values, list) or not values:
            raise UserError(f"{path}: each class needs a name and a non-empty list of values, got {c!r}")
        if not all(isinstance(v, (int, float)) for v in values):
            raise UserError(f"{path}: class {c['name']!r} values must be numbers, got {values!r}")
    ignore = spec.get("ignore")
    ignore = ignore if isinstance(ignore, list) else ([] if ignore is None else [ignore])
    if not all(isinstance(v, (int, float)) for v in ignore):
        raise UserError(f"{path}: ignore must be a label value or a list of them, got {spec['ignore']!r}")
    owners: dict[float, str] = {}
    for owner, values in [(f"class {c['name']!r}", c["values"]) for c in classes] + [("ignore", ignore)]:
        for v in values:
            if v in owners:
                where = f"twice in {owner}" if owners[v] == owner else f"to both {owners[v]} and {owner}"
                raise UserError(f"{path}: label value {v} belongs {where}; give each value to one class")
            owners[v] = owner
    check_split(spec.get("split"), path)
    vs = spec.get("voxel_size")
    if vs is not None and (not isinstance(vs, list) or len(vs) != spec["spatial_dims"]):
        raise UserError(f"{path}: voxel_size must list {spec['spatial_dims']} numbers")


def check_split(split: Any, path: Path) -> None:
    """Raise one line for a ``split`` that is not ``{folds: K[, blocks: B]}`` or one explicit fold."""
    if split is None:
        return
    if not isinstance(split, dict) or not set(split) <= {"folds", "blocks", *EXPLICIT}:
        raise UserError(
            f"{path}: split must be {{folds: K}} (optionally with blocks: contiguous) or "
            "{train: [...], val: [...], test: [...]}"
        )
    explicit = [key for key in EXPLICIT if key in split]
    if "folds" in split and (not isinstance(split["folds"], int) or isinstance(split["folds"], bool)):
        raise UserError(f"{path}: split.folds must be a whole number, not {split['folds']!r}")
    for key in explicit:
        if not isinstance(split[key], list):
            raise UserError(f"{path}: split.{key} must be a list of file names without suffix, not {split[key]!r}")
    if "folds" in split and explicit:
        raise UserError(
            f"{path}: split has both folds (rotating folds) and {', '.join(explicit)} (one explicit fold); keep one"
        )
    if "blocks" in split and ("folds" not in split or split["blocks"] not in BLOCKS):
        raise UserError(f"{path}: split.blocks goes with folds: K and is one of {', '.join(BLOCKS)}")
    for a, b in combinations(explicit, 2):
        both = sorted({str(n) for n in split[a]} & {str(n) for n in split[b]})
        if both:
            raise UserError(f"{path}: split lists {both[:3]} in both {a} and {b}; a file belongs to one part")
