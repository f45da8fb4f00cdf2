"""Where data and results live: ``data/`` and ``results/`` under the working directory, or the
folders named by ``SEGREPRO_DATA_DIR`` / ``SEGREPRO_RESULTS_DIR``; the paper packages (published
tables, claims) in the installed ``segrepro.baselines``, or ``SEGREPRO_PUBLISHED_DIR``.

Every path under them that contains a name (a dataset, a run id) is built here, and each name is
checked with ``check_slug`` first, so a name such as ``../../x`` or ``/tmp/x`` can never place a file
outside those folders, whichever caller builds the path.
"""

from __future__ import annotations

import os
import re
from importlib.resources import files
from pathlib import Path

from segrepro.errors import UserError

SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,199}")
SLUG_RULE = "at most 200 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, without '..'"


def check_slug(name: object, what: str) -> str:
    """``name`` if it is a safe file-name component (``SLUG_RULE``), else a ``UserError`` naming ``what``."""
    if not isinstance(name, str) or not SLUG.fullmatch(name) or ".." in name:
        raise UserError(f"{what} {name!r} is not a valid name: use {SLUG_RULE}")
    return name


def data_dir() -> Path:
    return Path(os.environ.get("SEGREPRO_DATA_DIR", "data"))


def raw_dir(dataset: str) -> Path:
    return data_dir() / "raw" / check_slug(dataset, "dataset")


def prepared_dir(dataset: str) -> Path:
    return data_dir() / "prepared" / check_slug(dataset, "dataset")


def results_dir() -> Path:
    return Path(os.environ.get("SEGREPRO_RESULTS_DIR", "results"))


def runs_dir() -> Path:
    return results_dir() / "runs"


def run_record(run_id: str, runs: Path | None = None) -> Path:
    """The record ``<runs>/<run_id>.json`` (``runs`` defaults to ``runs_dir()``)."""
    return (runs or runs_dir()) / f"{check_slug(run_id, 'run id')}.json"


def run_folder(kind: str, run_id: str) -> Path:
    """``results/<kind>/<run_id>``: a run's checkpoint (``models``) or predictions (``predictions``) folder."""
    return results_dir() / kind / check_slug(run_id, "run id")


def checkpoint_path(run_id: str) -> Path:
    """``results/models/<run_id>/checkpoint.pt``: the fit stage's output."""
    return run_folder("models", run_id) / "checkpoint.pt"


def stress_dir(dataset: str) -> Path:
    return results_dir() / "stress" / check_slug(dataset, "dataset")


def published_dir() -> Path:
    """The folder holding the paper packages (``<paper>/published.csv``, ``methods.csv``, ``claims.yaml``)."""
    env = os.environ.get("SEGREPRO_PUBLISHED_DIR")
    return Path(env) if env else Path(str(files("segrepro.baselines")))
