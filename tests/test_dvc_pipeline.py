"""`dvc repro` end to end on a copy of the repo with a tiny selection; a second repro does nothing."""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_dvc_repro_then_nothing_to_do(tmp_path):
    if shutil.which("dvc") is None:
        pytest.fail("dvc is not on PATH; run the tests through `make test`")
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT,
        repo,
        ignore=shutil.ignore_patterns(".venv", "data", "results", ".git", "*.egg-info", "__pycache__", "dvc.lock"),
    )
    for stale in (repo / ".dvc" / "cache", repo / ".dvc" / "tmp"):
        shutil.rmtree(stale, ignore_errors=True)  # no run-cache: the stages must really run
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params.update(datasets=["synthetic-2d"], baselines=["unet-ce"], tier="smoke")
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    first = subprocess.run(["dvc", "repro"], cwd=repo, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    board = pd.read_csv(repo / "results" / "leaderboard.csv")
    assert list(zip(board["dataset"], board["baseline"], strict=True)) == [("synthetic-2d", "unet-ce")]
    second = subprocess.run(["dvc", "repro"], cwd=repo, capture_output=True, text=True)
    assert second.returncode == 0
    assert "Running stage" not in second.stdout
