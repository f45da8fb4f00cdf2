import json

import pandas as pd
import pytest

from segrepro.aggregate import aggregate
from segrepro.errors import UserError


def record(run_id, dataset, baseline, dice, status="ok", seed=0):
    canon = {
        "per_class": {"background": {"dice": 0.99}, "cell": {"dice": dice}},
        "mean": {"dice": dice, "iou": dice / 2, "precision": dice, "recall": dice},
    }
    return {
        "schema_version": 1,
        "run_id": run_id,
        "status": status,
        "reason": None if status == "ok" else "boom",
        "dataset": {"name": dataset},
        "baseline": {"id": baseline, "paper": "segrepro"},
        "fold": 0,
        "seed": seed,
        "tier": "smoke",
        "metrics": {"canonical": canon, "counts_per_image": {}} if status == "ok" else None,
        "provenance": {
            "git_commit": None,
            "versions": {},
            "device": "cpu",
            "command": "x",
            "started": "t",
            "wall_time_s": 1.0,
        },
    }


def test_board_has_one_row_per_dataset_baseline_with_mean_std(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for i, (ds, bl, dice, status) in enumerate(
        [("a", "x", 0.5, "ok"), ("a", "x", 0.7, "ok"), ("a", "y", 0.2, "ok"), ("a", "y", 0.0, "failed")]
    ):
        (runs / f"r{i}.json").write_text(json.dumps(record(f"r{i}", ds, bl, dice, status, seed=i)))
    (runs / "broken.json").write_text("{not json")
    _, problems = aggregate(runs, tmp_path)
    assert [p.name for p, _ in problems] == ["broken.json"]
    on_disk = pd.read_csv(tmp_path / "leaderboard.csv")
    row = on_disk.set_index("baseline").loc["x"]
    assert (
        row["n_runs"] == 2 and row["dice_mean"] == pytest.approx(0.6) and row["dice_std"] == pytest.approx(0.1414, 1e-3)
    )
    assert on_disk.set_index("baseline").loc["y", "n_failed"] == 1
    per_class = pd.read_csv(tmp_path / "per_class.csv")
    assert set(per_class["class"]) == {"background", "cell"}


def test_no_records_is_a_clear_error(tmp_path):
    (tmp_path / "runs").mkdir()
    with pytest.raises(UserError, match="no valid run records"):
        aggregate(tmp_path / "runs", tmp_path)
