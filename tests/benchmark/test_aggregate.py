import json

import numpy as np
import pandas as pd
import pytest

from segrepro.aggregate import aggregate
from segrepro.errors import UserError
from segrepro.metrics.statistics import bootstrap_ci, bootstrap_cis


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


def test_board_carries_a_seeded_bootstrap_ci(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    dices = [0.5, 0.6, 0.7, 0.55]
    for i, dice in enumerate(dices):
        (runs / f"r{i}.json").write_text(json.dumps(record(f"r{i}", "a", "x", dice, seed=i)))
    (runs / "single.json").write_text(json.dumps(record("single", "a", "y", 0.3)))
    aggregate(runs, tmp_path)
    board = pd.read_csv(tmp_path / "leaderboard.csv").set_index("baseline")
    low, high = board.loc["x", "dice_ci_low"], board.loc["x", "dice_ci_high"]
    assert min(dices) <= low < board.loc["x", "dice_mean"] < high <= max(dices)
    assert pd.isna(board.loc["y", "dice_ci_low"])  # one run: no spread to resample
    assert len(board) == 2  # still one row per (dataset, baseline, tier)
    aggregate(runs, tmp_path)
    again = pd.read_csv(tmp_path / "leaderboard.csv").set_index("baseline")
    assert again.loc["x", "dice_ci_low"] == low and again.loc["x", "dice_ci_high"] == high


def test_bootstrap_ci_covers_the_mean_and_narrows_with_more_runs():
    rng = np.random.default_rng(1)
    few, many = rng.normal(0.6, 0.05, 5), rng.normal(0.6, 0.05, 200)
    lo_few, hi_few = bootstrap_ci(few)
    lo_many, hi_many = bootstrap_ci(many)
    assert lo_few < few.mean() < hi_few and lo_many < many.mean() < hi_many
    assert hi_many - lo_many < hi_few - lo_few
    assert all(np.isnan(bootstrap_ci([0.5, float("nan")])))  # one finite value: no interval


def test_many_groups_at_once_match_the_plain_percentile_bootstrap():
    """bootstrap_cis shares draws between groups of one size; each interval is still the textbook one:
    resample with the seeded generator, take the means' percentiles."""
    rng = np.random.default_rng(3)
    groups = [rng.uniform(size=n) for n in (2, 5, 5, 9)] + [np.array([0.4, np.nan, 0.6, 0.9])]
    for group, (lo, hi) in zip(groups, bootstrap_cis(groups), strict=True):
        v = group[np.isfinite(group)]
        draws = np.random.default_rng(0).integers(0, v.size, size=(10_000, v.size))
        assert (lo, hi) == pytest.approx(tuple(np.quantile(v[draws].mean(axis=1), [0.025, 0.975])), abs=1e-12)
    assert np.isnan(bootstrap_cis([[0.5]])[0]).all()
