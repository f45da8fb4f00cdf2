"""One run: (dataset, baseline, fold, seed, tier), its id, and the checks made before any work."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from segrepro import paths
from segrepro.baselines import get_baseline
from segrepro.datasets import DATASETS, PreparedDataset, get_dataset, load_prepared
from segrepro.entry import TIERS, BaselineEntry
from segrepro.errors import UserError
from segrepro.metrics import get_convention

MAX_SEED = 2**63  # seeds are 0 <= seed < 2**63 (what every generator the run seeds accepts)


@dataclass(frozen=True)
class RunSpec:
    dataset: str
    baseline: str
    fold: int = 0
    seed: int = 0
    tier: str = "smoke"

    @property
    def run_id(self) -> str:
        return f"{self.dataset}__{self.baseline}__{self.tier}__f{self.fold}__s{self.seed}"

    def fit_spec(self) -> RunSpec:
        """The run whose fit stage (checkpoint) this one predicts from: itself, or the same run of the entry
        its baseline shares the fit with (``BaselineEntry.shares_fit_with``)."""
        source = get_baseline(self.baseline).shares_fit_with
        return replace(self, baseline=source) if source else self

    @property
    def checkpoint(self) -> Path:
        """The checkpoint this run predicts from: its fit run's (``fit_spec``)."""
        return paths.checkpoint_path(self.fit_spec().run_id)


def check_seed(seed: int) -> None:
    if not 0 <= seed < MAX_SEED:
        raise UserError(f"--seed must be between 0 and 2**63 - 1, not {seed}")


def check_dataset_name(name: str) -> None:
    """A registered dataset or one prepared from a YAML card; an unknown name lists the known ones."""
    if not (paths.prepared_dir(name) / "meta.json").exists():
        get_dataset(name)


def open_dataset(name: str) -> PreparedDataset:
    """A prepared dataset, registered or prepared from a YAML card, or a ``UserError`` saying what to do."""
    check_dataset_name(name)
    return load_prepared(name)


def check_spec(spec: RunSpec) -> tuple[BaselineEntry, PreparedDataset]:
    """Resolve the ids and check every argument, or raise a ``UserError`` saying what to do."""
    if spec.tier not in TIERS:
        raise UserError(f"unknown tier {spec.tier!r}; choose one of {', '.join(TIERS)}")
    check_seed(spec.seed)
    if spec.fold < 0:
        raise UserError(f"--fold must be 0 or more, not {spec.fold}")
    check_dataset_name(spec.dataset)
    entry = get_baseline(spec.baseline)
    entry.recipe(spec.tier)
    get_convention(entry.convention)
    data = load_prepared(spec.dataset)
    if data.spatial_dims not in entry.spatial_dims:
        slices = f"{spec.dataset}-slices"  # a 3-D dataset's z-slices as 2-D images (datasets/slices.py)
        hint = f"; run it on the z-slices: --dataset {slices}" if 2 in entry.spatial_dims and slices in DATASETS else ""
        raise UserError(
            f"baseline {entry.id} supports {entry.spatial_dims}-D data, {spec.dataset} is {data.spatial_dims}-D{hint}"
        )
    if getattr(entry.target_transform, "needs_instances", False) and not data.has_instances:
        from segrepro.datasets.registry import instance_datasets

        raise UserError(
            f"baseline {entry.id} needs instance labels and {spec.dataset} has none; datasets with instance "
            f"labels: {', '.join(instance_datasets())}, or your own card with an instances: folder"
        )
    data.fold(spec.fold)
    return entry, data
