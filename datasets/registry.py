"""The dataset registry: adapters in this repo register by decorator, outside packages through the
``segrepro.datasets`` entry-point group.

Built-in adapters are found, not listed: every module of ``segrepro.datasets`` is imported on first
lookup (they are light: numpy, no torch), and those that define an adapter register it there.
"""

from __future__ import annotations

from collections.abc import Callable

from segrepro.datasets.adapter import DatasetAdapter
from segrepro.registry import Registry

DATASETS: Registry[DatasetAdapter] = Registry("dataset", "segrepro.datasets", package="segrepro.datasets")


def register_dataset(name: str) -> Callable[[Callable[[], DatasetAdapter]], Callable[[], DatasetAdapter]]:
    """Decorate a zero-argument factory that returns the adapter registered as ``name``."""
    return DATASETS.decorator(name)


def get_dataset(name: str) -> DatasetAdapter:
    return DATASETS.get(name)


def instance_datasets() -> list[str]:
    """Names of the registered datasets whose cards say they carry instance labels."""
    return [name for name, adapter in DATASETS if adapter.card.instances]
