"""Fixture files for the leaderboard tests, written into a temporary folder (nothing downloaded)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the plain helper module fixture_data beside this file

import fixture_data

from segrepro.leaderboard.data import SOURCE_MINE, SOURCE_REFERENCE, Folders


@pytest.fixture
def fixture_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The known fixture (``fixture_data.write_fixture``), with the environment pointing the app at it."""
    tree = fixture_data.write_fixture(tmp_path)
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tree["results"]))
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tree["published"]))
    return tree


@pytest.fixture
def folders(fixture_tree: dict[str, Path]) -> Folders:
    results = fixture_tree["results"]
    return Folders(
        runs=((SOURCE_REFERENCE, results / "reference" / "runs"), (SOURCE_MINE, results / "runs")),
        published=fixture_tree["published"],
        stress=((SOURCE_REFERENCE, results / "reference" / "stress"), (SOURCE_MINE, results / "stress")),
    )
