"""Shared fixtures: isolated data/results folders and a small prepared synthetic dataset."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from segrepro import paths
from segrepro.datasets import get_dataset

sys.path.insert(0, str(Path(__file__).parent))  # the plain helper modules beside this file (mirrors, disks)
from disks import small_tmpfs


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with its own data/ and results/."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


@pytest.fixture
def prepared_2d(workdir: Path) -> Path:
    """``synthetic-2d`` prepared inside ``workdir``."""
    return get_dataset("synthetic-2d").prepare(paths.raw_dir("synthetic-2d"), paths.prepared_dir("synthetic-2d"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs at ``tmp_path/disk`` that really fills up (skips where it cannot be mounted)."""
    with small_tmpfs(tmp_path / "disk") as disk:
        yield disk
