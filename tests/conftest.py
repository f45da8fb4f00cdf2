"""Shared fixtures: isolated data/results folders, a small prepared synthetic dataset, the real-data mirror."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from segrepro import paths
from segrepro.datasets import get_dataset

sys.path.insert(0, str(Path(__file__).parent))  # the plain helper modules beside this file (mirrors, disks)
from disks import small_tmpfs
from example_method import ENTRY, EXAMPLE, env_with, install, segrepro
from mirrors import mirror_folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs real data (it uses ``mirror``, directly or through a fixture) as ``mirror``."""
    for item in items:
        if "mirror" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mirror)


@pytest.fixture(scope="session")
def mirror() -> Callable[[str], Path]:
    """``mirror(name)``: the local mirror folder of dataset ``name``, the only way tests reach real data; the
    test skips, naming the folder, where it is absent."""
    return mirror_folder


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
def repo_copy(tmp_path: Path) -> Path:
    """``tmp_path/repo``: this repository's files without data, results, the virtualenv, git, dvc.lock or DVC's
    cache and run-cache, so that DVC stages run there for real."""
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".venv", "data", "results", ".git", "*.egg-info", "__pycache__", "dvc.lock")
    shutil.copytree(Path(__file__).resolve().parents[1], repo, ignore=ignore)
    for stale in (repo / ".dvc" / "cache", repo / ".dvc" / "tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    return repo


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs at ``tmp_path/disk`` that really fills up (skips where it cannot be mounted)."""
    with small_tmpfs(tmp_path / "disk") as disk:
        yield disk


@pytest.fixture(scope="session")
def example_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example outside method installed and submitted as its author would (``segrepro submit`` at the
    smoke tier on the embedded synthetic-2d): the bundle it wrote. Made once per session (about 30 s)."""
    root = tmp_path_factory.mktemp("example")
    install(EXAMPLE, root / "site")
    env = env_with(root / "site", root)
    for args in (("datasets", "prepare", "synthetic-2d"), ("submit", ENTRY, "--quiet")):
        done = segrepro(env, root, *args)
        assert done.returncode == 0, done.stderr
    return root / "results" / "bundles" / f"{ENTRY}-smoke.tar.gz"
