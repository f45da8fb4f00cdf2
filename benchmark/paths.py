"""Where data and results live: ``data/`` and ``results/`` under the working directory, or the
folders named by ``SEGREPRO_DATA_DIR`` / ``SEGREPRO_RESULTS_DIR``; the paper packages (published
tables, claims) in the installed ``segrepro.baselines``, or ``SEGREPRO_PUBLISHED_DIR``."""

from __future__ import annotations

import os
from importlib.resources import files
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


def published_dir() -> Path:
    """The folder holding the paper packages (``<paper>/published.csv``, ``methods.csv``, ``claims.yaml``)."""
    env = os.environ.get("SEGREPRO_PUBLISHED_DIR")
    return Path(env) if env else Path(str(files("segrepro.baselines")))
