"""A dataset card: what a dataset is, where it comes from, and how its labels map to classes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClassSpec:
    """One class of the prepared label map; its index in ``DatasetCard.classes`` is its id.

    ``values`` are the raw label values (in the upstream files) that map to this class.
    """

    name: str
    values: tuple[int, ...] = ()
    colour: str = "#888888"


@dataclass(frozen=True)
class SourceFile:
    """One upstream file: its path under the raw folder, its URL and its sha256 (None until pinned)."""

    path: str
    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetCard:
    name: str
    title: str
    description: str
    spatial_dims: int
    classes: tuple[ClassSpec, ...]
    licence: str
    citation: str
    voxel_size: tuple[float, ...] | None = None
    voxel_unit: str = "nm"
    sources: tuple[SourceFile, ...] = ()
    splits: str = ""
    papers: tuple[str, ...] = ()
    notes: str = ""
    instances: bool = False  # volumes carry instance labels (instances/<id>.npy): paper 002's entries need them
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
