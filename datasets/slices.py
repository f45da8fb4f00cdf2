"""A 3-D dataset presented as its 2-D z-slices, so that 2-D methods (paper 003's networks, 2-D U-Nets
applied slice by slice to FIB-SEM stacks) run on it through the same protocol.

``SlicesAdapter(base)`` reads the *prepared* 3-D dataset of the adapter ``base`` (preparing it first when it
is not) and writes every z-slice of every volume as one 2-D case ``<volume>_z<index>``, with its label, validity mask
and instance labels (where the base has them) and the base's classes. Each fold of the base is kept with
every volume replaced by all its slices, so the slices of one volume are always in that volume's split:
no slice of a test volume is ever trained on.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from segrepro import paths
from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import DatasetCard
from segrepro.datasets.prepared import PreparedDataset, load_prepared
from segrepro.datasets.registry import register_dataset
from segrepro.datasets.synthetic import synthetic_3d
from segrepro.errors import UserError

SUFFIX = "-slices"


def slice_id(volume_id: str, z: int) -> str:
    return f"{volume_id}_z{z:03d}"


class SlicesAdapter(DatasetAdapter):
    """The z-slices of the 3-D dataset of adapter ``base`` as a 2-D dataset named ``<base name>-slices``."""

    def __init__(self, base: DatasetAdapter) -> None:
        card = base.card
        if card.spatial_dims != 3:
            raise ValueError(f"{card.name} is {card.spatial_dims}-D; only a 3-D dataset has z-slices")
        self.base_adapter = base
        self.base = base = card.name
        self.card = DatasetCard(
            name=base + SUFFIX,
            title=f"{card.title}: z-slices",
            description=(
                f"Every z-slice of every prepared volume of {base} as one 2-D image (id <volume>_z<index>), "
                "with its label and validity mask (and instance labels where it has them); "
                "for 2-D methods applied slice by slice. "
                f"{base}: {card.description}"
            ),
            spatial_dims=2,
            classes=card.classes,
            licence=card.licence,
            citation=card.citation,
            voxel_size=card.voxel_size[1:] if card.voxel_size else None,
            voxel_unit=card.voxel_unit,
            splits=f"{base}'s folds, each volume replaced by all its z-slices (a volume's slices share its split)",
            papers=card.papers,
            notes=f"Derived from the prepared {base} (prepared first if needed); nothing to fetch of its own.",
            instances=card.instances,
            extra={"slices_of": base},
        )

    def fetch(self, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
        """Fetch the base dataset: the slices have no source files of their own."""
        self.base_adapter.fetch(paths.raw_dir(self.base), mirror, base_url)

    def base_dataset(self) -> PreparedDataset:
        """The prepared base dataset, prepared from its raw files first when it is not prepared yet."""
        root = paths.prepared_dir(self.base)
        if not (root / "meta.json").exists():
            self.base_adapter.prepare(paths.raw_dir(self.base), root)
        return load_prepared(self.base, root)

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        data = self.base_dataset()
        for vid in data.meta["volumes"]:
            image, label, mask = data.load(vid)
            instances = data.load_instances(vid)
            if image.ndim != 3:
                raise UserError(f"{data.root / 'images' / vid}.npy: {image.ndim}-D, expected a 3-D volume")
            for z in range(image.shape[0]):
                yield Volume(
                    slice_id(vid, z),
                    image[z],
                    label[z],
                    mask[z],
                    source=f"{data.root} volume {vid} slice z={z}",
                    instances=None if instances is None else instances[z],
                )

    def folds(self, ids: list[str]) -> list[Fold]:
        data = self.base_dataset()
        by_volume: dict[str, list[str]] = {}
        for sid in ids:
            by_volume.setdefault(sid.rsplit("_z", 1)[0], []).append(sid)

        def expand(volumes: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(s for v in volumes for s in by_volume.get(v, ()))

        return [Fold(expand(f.train), expand(f.val), expand(f.test)) for f in data.folds]


@register_dataset("synthetic-3d" + SUFFIX)
def synthetic_3d_slices() -> SlicesAdapter:
    """synthetic-3d's 40 z-slices per volume as 2-D images, for 2-D entries (paper 003's networks)."""
    return SlicesAdapter(synthetic_3d())
