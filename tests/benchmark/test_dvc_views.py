"""segrepro dvc-views: the leaderboard as DVC's nested metrics, and each run's curves as DVC plot CSVs."""

import json

import pandas as pd

from segrepro.cli import main
from segrepro.dvc_views import write_dvc_views


def test_metrics_tree_and_one_curve_file_per_run(tmp_path):
    board = pd.DataFrame(
        [
            {"dataset": "d", "baseline": "b", "tier": "smoke", "n_runs": 2, "n_failed": 1, "dice_mean": 0.5},
            {"dataset": "d", "baseline": "c", "tier": "smoke", "n_runs": 1, "n_failed": 1, "dice_mean": float("nan")},
            {"dataset": "d", "baseline": "b", "tier": "smoke", "n_runs": 3, "n_failed": 0, "dice_mean": 0.9},
        ]
    ).assign(source=["yours", "yours", "submitted"])  # a bundle's runs of b: not the pipeline's
    records = [
        {"run_id": "r1", "curves": {"train_loss": [[15, 1.0], [30, 0.5]], "val_score": [[15, 0.25]]}},
        {"run_id": "r2", "curves": None},  # a failed run: no curves, no files
    ]
    folder = write_dvc_views(board, records, tmp_path)
    assert json.loads((folder / "metrics.json").read_text()) == {
        "d": {
            "b": {"smoke": {"dice_mean": 0.5, "n_runs": 2, "n_failed": 1}},
            "c": {"smoke": {"n_runs": 1, "n_failed": 1}},
        }
    }
    assert (folder / "curves" / "train_loss" / "r1.csv").read_text() == "iteration,train_loss\n15,1.0\n30,0.5\n"
    assert (folder / "curves" / "val_score" / "r1.csv").read_text() == "iteration,val_score\n15,0.25\n"
    assert sorted(p.name for p in (folder / "curves").rglob("*.csv")) == ["r1.csv", "r1.csv"]
    write_dvc_views(board, records[1:], tmp_path)  # the curves folder is replaced, not added to
    assert not list((folder / "curves").rglob("*.csv"))


def test_without_a_leaderboard_it_says_to_aggregate_first(workdir, capsys):
    assert main(["dvc-views"]) == 2
    assert "run segrepro aggregate first" in capsys.readouterr().err
    assert not (workdir / "results" / "dvc").exists()
