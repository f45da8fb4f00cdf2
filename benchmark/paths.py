"""Where data and results live: ``data/`` and ``results/`` under the working directory, or the
folders named by ``SEGREPRO_DATA_DIR`` / ``SEGREPRO_RESULTS_DIR``."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    return Path(os.environ.get("SEGREPRO_DATA_DIR", "data"))


def raw_dir(dataset: str) -> Path:
    return data_dir() / "raw" / dataset


def prepared_dir(dataset: str) -> Path:
    return data_dir() / "prepared" / dataset


def results_dir() -> Path:
    return Path(os.environ.get("SEGREPRO_RESULTS_DIR", "results"))


def runs_dir() -> Path:
    return results_dir() / "runs"
