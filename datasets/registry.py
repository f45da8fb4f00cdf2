"""The dataset registry: adapters in this repo register by decorator, outside packages through the
``segrepro.datasets`` entry-point group."""

from __future__ import annotations

from collections.abc import Callable

from segrepro.datasets.adapter import DatasetAdapter
from segrepro.registry import Registry

DATASETS: Registry[DatasetAdapter] = Registry(
    "dataset",
    "segrepro.datasets",
    builtin_modules=(
        "segrepro.datasets.synthetic",
        "segrepro.datasets.drosophila_vnc",
        "segrepro.datasets.drosophila_vnc_3d",
        "segrepro.datasets.urocell",
        "segrepro.datasets.lucchi_pp",
        "segrepro.datasets.c_merolae",
        "segrepro.datasets.arabidopsis",
        "segrepro.datasets.fib_sem_hela",
        "segrepro.datasets.ctc",
    ),
)


def register_dataset(name: str) -> Callable[[Callable[[], DatasetAdapter]], Callable[[], DatasetAdapter]]:
    """Decorate a zero-argument factory that returns the adapter registered as ``name``."""
    return DATASETS.decorator(name)


def get_dataset(name: str) -> DatasetAdapter:
    return DATASETS.get(name)
