"""A smoke-tier run of synthetic-2d made once per session (checkpoint, predictions, record), copied
into each test's working directory where a test needs a fitted run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from segrepro import paths
from segrepro.datasets import get_dataset
from segrepro.protocol import RunSpec, execute

SPEC = RunSpec("synthetic-2d", "unet-dicece", tier="smoke")


@pytest.fixture(scope="session")
def fitted_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fitted")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPRO_DATA_DIR", str(root / "data"))
        mp.setenv("SEGREPRO_RESULTS_DIR", str(root / "results"))
        get_dataset("synthetic-2d").prepare(paths.raw_dir("synthetic-2d"), paths.prepared_dir("synthetic-2d"))
        assert execute(SPEC, progress=False).record["status"] == "ok"
    return root


@pytest.fixture
def fitted(fitted_root: Path, workdir: Path) -> RunSpec:
    """``workdir`` holding the session's fitted smoke run of ``SPEC`` (data and results)."""
    for sub in ("data", "results"):
        shutil.copytree(fitted_root / sub, workdir / sub)
    return SPEC
