"""Dataset adapters: cards, verified fetch, prepare into the canonical form, the papers' splits."""

from segrepro.datasets.adapter import DatasetAdapter, Fold, Volume
from segrepro.datasets.card import ClassSpec, DatasetCard, SourceFile
from segrepro.datasets.prepared import PreparedDataset, load_prepared
from segrepro.datasets.registry import DATASETS, get_dataset, register_dataset

__all__ = [
    "DATASETS",
    "ClassSpec",
    "DatasetAdapter",
    "DatasetCard",
    "Fold",
    "PreparedDataset",
    "SourceFile",
    "Volume",
    "get_dataset",
    "load_prepared",
    "register_dataset",
]
