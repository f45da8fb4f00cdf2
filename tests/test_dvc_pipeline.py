"""`dvc repro` end to end on a copy of the repo with a tiny selection; a second repro does nothing."""

import json
import shutil
import subprocess

import pandas as pd
import pytest
import yaml


@pytest.mark.slow
def test_dvc_repro_then_nothing_to_do(repo_copy):
    if shutil.which("dvc") is None:
        pytest.fail("dvc is not on PATH; run the tests through `make test`")
    repo = repo_copy
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params.update(datasets=["synthetic-2d"], baselines=["unet-ce"], tier="smoke")
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    first = subprocess.run(["dvc", "repro"], cwd=repo, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    board = pd.read_csv(repo / "results" / "leaderboard.csv")
    assert list(zip(board["dataset"], board["baseline"], strict=True)) == [("synthetic-2d", "unet-ce")]
    # DVC's own views of the same results (issue 16): the board's mean dice, and the run's training curves
    metrics = subprocess.run(["dvc", "metrics", "show", "--json"], cwd=repo, capture_output=True, text=True)
    assert metrics.returncode == 0, metrics.stderr
    shown = json.loads(metrics.stdout)[""]["data"]["results/dvc/metrics.json"]["data"]
    assert shown["synthetic-2d"]["unet-ce"]["smoke"]["dice_mean"] == pytest.approx(board["dice_mean"][0])
    plots = subprocess.run(["dvc", "plots", "show", "--json"], cwd=repo, capture_output=True, text=True)
    assert plots.returncode == 0 and "errors" not in json.loads(plots.stdout), plots.stdout[:2000]
    names = [name.removeprefix("dvc.yaml::") for name in json.loads(plots.stdout)["data"]]
    assert sorted(names) == [
        f"results/dvc/curves/{curve}/synthetic-2d__unet-ce__smoke__f0__s0.csv" for curve in ("train_loss", "val_score")
    ]  # one plot per run and curve, each once
    second = subprocess.run(["dvc", "repro"], cwd=repo, capture_output=True, text=True)
    assert second.returncode == 0
    assert "Running stage" not in second.stdout
