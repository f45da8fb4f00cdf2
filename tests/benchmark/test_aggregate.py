import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segrepro.aggregate import AGGREGATES, aggregate
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
    _, tables = aggregate(runs, tmp_path, recipes={})
    assert [Path(p.path).name for p in tables.problems] == ["broken.json"]
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
        aggregate(tmp_path / "runs", tmp_path, recipes={})
    (tmp_path / "runs" / "bad.json").write_text('{"a":')
    with pytest.raises(UserError, match=r"1 file\(s\) left out, first .*bad.json: not readable JSON"):
        aggregate(tmp_path / "runs", tmp_path, recipes={})


def test_board_carries_a_seeded_bootstrap_ci(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    dices = [0.5, 0.6, 0.7, 0.55]
    for i, dice in enumerate(dices):
        (runs / f"r{i}.json").write_text(json.dumps(record(f"r{i}", "a", "x", dice, seed=i)))
    (runs / "single.json").write_text(json.dumps(record("single", "a", "y", 0.3)))
    aggregate(runs, tmp_path, recipes={})
    board = pd.read_csv(tmp_path / "leaderboard.csv").set_index("baseline")
    low, high = board.loc["x", "dice_ci_low"], board.loc["x", "dice_ci_high"]
    assert min(dices) <= low < board.loc["x", "dice_mean"] < high <= max(dices)
    assert pd.isna(board.loc["y", "dice_ci_low"])  # one run: no spread to resample
    assert len(board) == 2  # still one row per (dataset, baseline, tier)
    aggregate(runs, tmp_path, recipes={})
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


def test_stale_runs_are_flagged_counted_and_left_out_of_the_statistics(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    hashes = {"old": "0" * 16, "new": "1" * 16, None: None}
    for i, (dice, made_by) in enumerate([(0.5, "new"), (0.7, "new"), (0.1, "old"), (0.6, None)]):
        rec = record(f"r{i}", "a", "x", dice, seed=i)
        rec["recipe_hash"] = hashes[made_by]
        (runs / f"r{i}.json").write_text(json.dumps(rec))
    _, tables = aggregate(runs, tmp_path, recipes={("x", "smoke"): hashes["new"]})
    states = tables.runs.set_index("run_id")["recipe_state"].to_dict()
    assert states == {"r0": "current", "r1": "current", "r2": "stale", "r3": "recipe unknown"}
    row = pd.read_csv(tmp_path / "leaderboard.csv").iloc[0]
    assert row["n_runs"] == 4 and row["n_stale"] == 1 and row["dice_mean"] == pytest.approx(0.6)  # 0.5, 0.7, 0.6
    assert "r2" in row["run_ids"]  # listed, not hidden
    stored = pd.read_parquet(tmp_path / "tables" / "runs.parquet").set_index("run_id")
    assert bool(stored.loc["r2", "stale"]) and stored.loc["r2", "recipe_state"] == "stale"
    recipes = pd.read_parquet(tmp_path / "tables" / "recipes.parquet")
    assert recipes.to_dict("records") == [
        {"baseline": "x", "tier": "smoke", "recipe_hash": "1" * 16, "seeds": "", "keep": 0}
    ]
    _, unchecked = aggregate(runs, tmp_path, recipes={})  # no current recipe known: nothing is called stale
    assert set(unchecked.runs["recipe_state"]) == {"not checked", "recipe unknown"}


def test_tables_hold_runs_scores_shares_and_per_image_counts(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    rec = record("r0", "a", "x", 0.5)
    rec["dataset"]["classes"] = ["background", "cell"]
    rec["metrics"]["counts_per_image"] = {
        "img0": [[90, 1, 2, 7], [8, 2, 1, 89]],
        "img1": [[40, 0, 0, 10], [10, 0, 0, 40]],
    }
    rec["metrics"]["paper_convention"] = "per-image"
    rec["metrics"]["paper"] = {"per_class": {"cell": {"dice": 0.4}}, "mean": {"dice": 0.4}}
    (runs / "r0.json").write_text(json.dumps(rec))
    aggregate(runs, tmp_path, recipes={})
    folder = tmp_path / "tables"
    counts = pd.read_parquet(folder / "counts.parquet")
    assert counts[["image", "class", "tp", "fp", "fn", "tn"]].values.tolist() == [
        ["img0", "background", 90, 1, 2, 7],
        ["img0", "cell", 8, 2, 1, 89],
        ["img1", "background", 40, 0, 0, 10],
        ["img1", "cell", 10, 0, 0, 40],
    ]
    shares = pd.read_parquet(folder / "shares.parquet").set_index("class")["share"]
    assert shares.to_dict() == pytest.approx({"background": 132 / 151, "cell": 19 / 151})
    scores = pd.read_parquet(folder / "scores.parquet")
    assert set(scores["convention"]) == {"canonical", "per-image"}
    assert scores.query("convention == 'per-image' and `class` == 'cell'")["value"].tolist() == [0.4]
    per_class = pd.read_csv(tmp_path / "per_class.csv")
    assert set(per_class["class"]) == {"background", "cell"}  # canonical block only, as before


def test_a_record_added_later_is_read_alone_and_the_tables_updated(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r0.json").write_text(json.dumps(record("r0", "a", "x", 0.5)))
    aggregate(runs, tmp_path, recipes={})
    (runs / "r1.json").write_text(json.dumps(record("r1", "a", "x", 0.7, seed=1)))
    _, tables = aggregate(runs, tmp_path, recipes={})
    assert tables.reread == 1 and tables.stored
    assert pd.read_csv(tmp_path / "leaderboard.csv").loc[0, "dice_mean"] == pytest.approx(0.6)
    assert len(pd.read_parquet(tmp_path / "tables" / "runs.parquet")) == 2


def test_unwritable_tables_folder_is_a_one_line_error(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r0.json").write_text(json.dumps(record("r0", "a", "x", 0.5)))
    (tmp_path / "out").write_text("a file where the output folder should be")
    with pytest.raises(UserError, match="cannot write"):
        aggregate(runs, tmp_path / "out", recipes={})


REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference" / "runs"


def test_committed_reference_records_reaggregate_to_their_own_numbers(tmp_path):
    """The reference records through the results layer give, per dataset and baseline, the mean over its
    records of the scores in their JSON, class by class."""
    board, tables = aggregate(REFERENCE, tmp_path, recipes={})
    records = [json.loads(p.read_text()) for p in REFERENCE.glob("*.json")]
    groups: dict[tuple[str, str], list[dict]] = {}
    for rec in records:
        groups.setdefault((rec["dataset"]["name"], rec["baseline"]["id"]), []).append(rec["metrics"]["canonical"])
    assert tables.problems == [] and len(board) == len(groups) >= 1
    per_class = pd.read_csv(tmp_path / "per_class.csv").set_index(["dataset", "baseline", "class", "metric"])
    for (dataset, baseline), canons in groups.items():
        row = board.set_index(["dataset", "baseline"]).loc[(dataset, baseline)]
        assert row["n_runs"] == len(canons) and row["n_stale"] == 0
        for metric in canons[0]["mean"]:
            if f"{metric}_mean" in row:
                assert row[f"{metric}_mean"] == pytest.approx(np.mean([c["mean"][metric] for c in canons]), rel=1e-12)
        for cls, scores in canons[0]["per_class"].items():
            for metric in scores:
                values = [c["per_class"][cls][metric] for c in canons if c["per_class"][cls][metric] is not None]
                key = (dataset, baseline, cls, metric)
                if not values:  # undefined in every run (e.g. precision of a class never predicted): no number
                    assert key not in per_class.index or per_class.loc[key]["n"] == 0
                    continue
                got = per_class.loc[key]
                assert got["n"] == len(values) and got["mean"] == pytest.approx(np.mean(values))


def test_cli_aggregate_checks_records_against_the_registered_recipes(tmp_path, capsys):
    from segrepro.baselines import get_baseline
    from segrepro.cli import main

    current = get_baseline("unet-ce").recipe("smoke").hash()
    runs = tmp_path / "runs"
    runs.mkdir()
    for i, made_by in enumerate([current, "f" * 16]):
        rec = record(f"r{i}", "a", "unet-ce", 0.5 + i / 10, seed=i)
        rec["recipe_hash"] = made_by
        (runs / f"r{i}.json").write_text(json.dumps(rec))
    assert main(["aggregate", "--runs", str(runs), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'tables'}/" in out and "1 stale run(s)" in out
    stored = pd.read_parquet(tmp_path / "tables" / "runs.parquet").set_index("run_id")["recipe_state"]
    assert stored.to_dict() == {"r0": "current", "r1": "stale"}
    assert pd.read_csv(tmp_path / "leaderboard.csv").loc[0, "dice_mean"] == pytest.approx(0.5)


def with_instances(rec, pq, tp=9, per_image=None):
    rec["metrics"]["instances"] = {
        "matching": "IoU > 0.5",
        "pooled": {"pq": pq, "sq": 0.8, "rq": pq / 0.8, "p05": None, "tp": tp, "fp": 1, "fn": 2},
        "per_image": per_image or {"img0": {"pq": pq, "tp": tp}},
    }
    return rec


def test_instance_metrics_reach_the_tables_and_the_board_for_instance_datasets_only(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    rows = [("cells", "j4", 0.6, 0), ("cells", "j4", 0.8, 1), ("plain", "ce", None, 0)]
    for i, (ds, bl, pq, seed) in enumerate(rows):
        rec = record(f"r{i}", ds, bl, 0.5, seed=seed)
        (runs / f"r{i}.json").write_text(json.dumps(with_instances(rec, pq) if pq is not None else rec))
    aggregate(runs, tmp_path, recipes={})
    scores = pd.read_parquet(tmp_path / "tables" / "scores.parquet")
    cell = scores[(scores["class"] == "cell") & (scores["file"] == "r0.json")].set_index("metric")["value"]
    assert cell["pq"] == 0.6 and cell["sq"] == 0.8 and np.isnan(cell["p05"]) and cell["dice"] == 0.5
    assert "tp" not in cell.index  # counts stay in the record; the tables hold scores
    board = pd.read_csv(tmp_path / "leaderboard.csv").set_index("dataset")
    assert list(board.columns[-16:]) == [f"{m}_{a}" for m in ("p05", "rq", "sq", "pq") for a in AGGREGATES]
    assert board.loc["cells", "pq_mean"] == pytest.approx(0.7) and board.loc["cells", "pq_std"] == pytest.approx(
        0.1414, 1e-3
    )
    assert board.loc["cells", "pq_ci_low"] <= 0.7 <= board.loc["cells", "pq_ci_high"]
    assert np.isnan(board.loc["cells", "p05_mean"])  # null in every record: no number made up
    assert board.loc["plain", ["pq_mean", "sq_mean", "rq_mean"]].isna().all()
    per_class = pd.read_csv(tmp_path / "per_class.csv")
    pq = per_class[(per_class["metric"] == "pq") & (per_class["class"] == "cell")]
    assert pq[["dataset", "mean", "n"]].values.tolist() == [["cells", pytest.approx(0.7), 2]]


def test_board_without_instance_records_has_no_instance_columns(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "r0.json").write_text(json.dumps(record("r0", "a", "x", 0.5)))
    board, _ = aggregate(runs, tmp_path, recipes={})
    assert not [c for c in board.columns if c.startswith(("pq_", "sq_", "rq_", "p05_"))]


@pytest.mark.parametrize(
    ("pooled", "where"),
    [({"pq": "high"}, "metrics/instances/pooled/pq"), ({"pq": [0.5]}, "metrics/instances/pooled/pq")],
)
def test_a_record_with_bad_instance_scores_is_left_out_and_named(tmp_path, pooled, where):
    runs = tmp_path / "runs"
    runs.mkdir()
    rec = record("r0", "a", "x", 0.5)
    rec["metrics"]["instances"] = {"pooled": pooled}
    (runs / "r0.json").write_text(json.dumps(rec))
    (runs / "r1.json").write_text(json.dumps(with_instances(record("r1", "a", "x", 0.5, seed=1), 0.5)))
    bad = with_instances(record("r2", "a", "x", 0.5, seed=2), 0.5, per_image={"img0": {"pq": "x"}})
    (runs / "r2.json").write_text(json.dumps(bad))
    _, tables = aggregate(runs, tmp_path, recipes={})
    problems = {Path(p.path).name: p.message for p in tables.problems}
    assert set(problems) == {"r0.json", "r2.json"}
    assert where in problems["r0.json"] and "metrics/instances/per_image/img0/pq" in problems["r2.json"]
    assert tables.runs["file"].tolist() == ["r1.json"]


def test_paper_tier_statistics_cover_the_seeds_the_selection_keeps(tmp_path):
    """Paper 003's networks at the paper tier: the board's mean is over the best 10 of the 15 seeds by
    validation score (``segrepro.selection``); an incomplete set of seeds counts whole."""
    runs = tmp_path / "runs"
    runs.mkdir()
    for seed in range(15):
        rec = record(f"u{seed}", "fib-sem-hela", "meyer2021-unet", dice=seed / 100, seed=seed)
        rec["tier"] = "paper"
        rec["curves"] = {"val_score": [[256, 0.1], [512, 0.5 + (seed % 5) / 10 + seed / 1000]]}
        (runs / f"u{seed}.json").write_text(json.dumps(rec))
    for seed in range(3):  # three of the fifteen seeds of another network: nothing to select from yet
        rec = record(f"e{seed}", "fib-sem-hela", "meyer2021-eunet", dice=seed / 10, seed=seed)
        rec["tier"] = "paper"
        rec["curves"] = {"val_score": [[256, seed / 10]]}
        (runs / f"e{seed}.json").write_text(json.dumps(rec))
    board, tables = aggregate(runs, tmp_path)  # the registry's recipes and seed selections
    kept = [14, 9, 4, 13, 8, 3, 12, 7, 2, 11]  # by validation score: seed % 5 first, then the seed
    row = board.set_index("baseline").loc["meyer2021-unet"]
    assert row["n_runs"] == 15 and row["dice_mean"] == pytest.approx(np.mean([s / 100 for s in kept]))
    assert row["dice_mean"] != pytest.approx(np.mean([s / 100 for s in range(15)]))
    assert board.set_index("baseline").loc["meyer2021-eunet", "dice_mean"] == pytest.approx(0.1)  # all three
    stored = tables.recipes.set_index(["baseline", "tier"]).loc["meyer2021-unet"]
    assert stored["keep"].to_dict() == {"paper": 10, "quick": 0, "smoke": 0}
