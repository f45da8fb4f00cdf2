"""The leaderboard's views as plain pandas, on the known fixture and small hand-made cases."""

import numpy as np
import pandas as pd
import pytest
from fixture_data import (
    METHODS_HEADER,
    PUBLISHED_HEADER,
    UNET_DICE,
    XNET_DICE,
    make_record,
    with_instances,
    write_csv,
    write_record,
)

from segrepro.leaderboard import data, views
from segrepro.metrics.statistics import compare_entries

FG_MEAN = np.array(XNET_DICE) - 0.15  # fixture: mean of (d - 0.05, d, d - 0.4) over the foreground


def test_rankings_rank_within_each_tier_with_mean_and_ci(folders):
    results = data.load_results(folders)
    table = views.rankings(results, results.runs, "drosophila-vnc", "dice", "mitochondria")
    paper = table[table["tier"] == "paper"].set_index("baseline")
    assert paper.loc["xnet-sce-iou", "rank"] == 1 and paper.loc["unet-sce", "rank"] == 2
    assert paper.loc["xnet-sce-iou", "mean"] == pytest.approx(np.mean(XNET_DICE))
    assert paper.loc["unet-sce", "std"] == pytest.approx(np.std(UNET_DICE, ddof=1))
    assert paper.loc["xnet-sce-iou", "ci_low"] < np.mean(XNET_DICE) < paper.loc["xnet-sce-iou", "ci_high"]
    assert paper.loc["xnet-sce-iou", ["n", "runs", "folds", "seeds"]].tolist() == [6, 6, 3, 2]
    smoke = table[table["tier"] == "smoke"]
    assert smoke["rank"].tolist() == [1] and smoke["source"].tolist() == ["yours"]  # ranked in its own tier
    assert np.isnan(smoke["ci_low"].iloc[0])  # one run: no interval
    mean = views.rankings(results, results.runs, "drosophila-vnc", "dice", "mean").set_index(["tier", "baseline"])
    assert mean.loc[("paper", "xnet-sce-iou"), "mean"] == pytest.approx(FG_MEAN.mean())


def test_instance_metrics_ranked_by_pq_for_a_dataset_with_instances_only(tmp_path):
    folder = tmp_path / "runs"
    classes = ("background", "cell")
    cells = {"background": {"dice": 0.9}, "cell": {"dice": 0.7}}
    for baseline, pqs in (("j4", (0.6, 0.7, 0.8)), ("dsc", (0.5, 0.55, 0.6))):
        for fold, pq in enumerate(pqs):
            rec = make_record("synthetic-cells-2d", baseline, "002", "quick", fold, 0, cells, classes)
            write_record(folder, with_instances(rec, pq))
    write_record(folder, make_record("synthetic-cells-2d", "ce", "002", "quick", 0, 0, cells, classes))
    write_record(folder, make_record("drosophila-vnc", "ce", "001", "quick", 0, 0))
    results = data.load_results(data.Folders((("yours", folder),), tmp_path, ()))
    table = views.instances(results, results.runs, "synthetic-cells-2d")
    assert table["baseline"].tolist() == ["j4", "dsc"] and table["rank"].tolist() == [1, 2]  # ce made no instances
    j4 = table.iloc[0]
    assert j4["pq"] == pytest.approx(0.7) and j4["sq"] == pytest.approx(0.8) and j4["rq"] == pytest.approx(0.875)
    assert j4["p05"] == pytest.approx(0.9) and j4["n"] == 3 and j4["pq_ci_low"] < 0.7 < j4["pq_ci_high"]
    assert views.instances(results, results.runs, "drosophila-vnc").empty  # no instance labels: no table
    # the semantic views are unchanged: the cell class keeps its dice, the mean has no instance metric
    assert views.rankings(results, results.runs, "synthetic-cells-2d", "pq", "mean")["n"].sum() == 0


def test_rankings_count_failures_and_order_lower_is_better(tmp_path):
    folder = tmp_path / "runs"
    for baseline, hd in (("a", 5.0), ("b", 2.0)):
        write_record(
            folder,
            make_record(
                "d", baseline, "x", "quick", 0, 0, {"background": {"hd95": 0}, "fg": {"hd95": hd}}, ("background", "fg")
            ),
        )
    write_record(folder, make_record("d", "a", "x", "quick", 1, 0, status="failed"))
    results = data.load_results(data.Folders((("yours", folder),), tmp_path, ()))
    table = views.rankings(results, results.runs, "d", "hd95", "fg").set_index("baseline")
    assert table.loc["b", "rank"] == 1 and table.loc["a", "rank"] == 2
    assert table.loc["a", ["runs", "failed", "n"]].tolist() == [2, 1, 1]


def test_filters_select_runs(folders):
    runs = data.load_results(folders).runs
    assert len(views.select_runs(runs, tiers=["smoke"])) == 1
    assert len(views.select_runs(runs, sources=["reference"], papers=["001"])) == 12
    assert views.select_runs(runs, datasets=["urocell"]).empty


def test_per_class_puts_the_rarest_class_first(folders):
    results = data.load_results(folders)
    table = views.per_class(results, views.select_runs(results.runs, tiers=["paper"]), "drosophila-vnc", "dice")
    assert table["class"].drop_duplicates().tolist() == ["synapse", "mitochondria", "membrane", "background"]
    row = table.set_index(["baseline", "class"]).loc[("unet-sce", "synapse")]
    assert row["share"] == pytest.approx(0.01) and row["mean"] == pytest.approx(np.mean(UNET_DICE) - 0.4)


def verdicts(table: pd.DataFrame) -> dict:
    return {(r.method, r.tier if isinstance(r.tier, str) else None): r.verdict for r in table.itertuples()}


def test_published_vs_reproduced_verdicts_on_the_fixture(folders):
    results, tables = data.load_results(folders), data.load_tables(folders)
    table = views.published_vs_reproduced(tables.published, results)
    assert verdicts(table) == {
        ("X-Net (SCE and IoU)", "paper"): "within spread",  # 82.5 % vs mean 0.825
        ("X-Net (SCE and IoU)", "smoke"): "undetermined (smoke tier)",  # judged, marked with its tier
        ("U-Net (SCE)", "paper"): "worse",  # 90.0 % vs 0.705
        ("Double U-Net", None): "open",  # no baseline registered
        ("X-Net (SCE and IoU)", None): "open",  # arabidopsis: no run yet
    }
    row = table[(table["method"] == "U-Net (SCE)")].iloc[0]
    assert row["published"] == pytest.approx(0.9) and row["published_std"] == pytest.approx(0.01)
    assert row["delta"] == pytest.approx(np.mean(UNET_DICE) - 0.9)
    assert "tier smoke" in table[table["tier"] == "smoke"]["why"].iloc[0]


def published(tmp_path, value, std="", dataset="d", scale="1"):
    pkg = tmp_path / "pub" / "p"
    write_csv(
        pkg / "published.csv",
        ("paper", "table", "dataset", "method", "class", "metric", "value", "std"),
        [("p", "1", dataset, "M", "fg", "dice", value, std)],
    )
    write_csv(pkg / "methods.csv", ("table", "method", "baseline", "scale"), [("1", "M", "m", scale)])
    return data.load_tables(data.Folders((), tmp_path / "pub", ())).published


def runs_of(tmp_path, dices, convention="canonical", paper_dice=None, legacy=False, dataset="d", tier="paper"):
    """Runs of baseline ``m`` with the given foreground dice; ``paper_dice`` is the score of the
    paper-convention block (the canonical scores where None)."""
    folder = tmp_path / "runs"
    for seed, dice in enumerate(dices):
        scores = {"background": {"dice": 1.0}, "fg": {"dice": dice}}
        paper = None if paper_dice is None else {"background": {"dice": 1.0}, "fg": {"dice": paper_dice}}
        rec = make_record(
            dataset,
            "m",
            "p",
            tier,
            0,
            seed,
            scores,
            ("background", "fg"),
            convention=convention,
            paper_scores=paper,
            legacy=legacy,
        )
        write_record(folder, rec)
    return data.load_results(data.Folders((("reference", folder),), tmp_path, ()))


@pytest.mark.parametrize(
    ("dices", "value", "std", "verdict"),
    [
        ((0.80, 0.82, 0.84), "0.70", "", "better"),
        ((0.80, 0.82, 0.84), "0.95", "", "worse"),
        ((0.80, 0.82, 0.84), "0.855", "", "within spread"),  # 2 sd of the runs = 0.04
        ((0.80, 0.82, 0.84), "0.87", "", "worse"),
        ((0.80,), "0.70", "", "undetermined"),  # one run, no published std
        ((0.80,), "0.75", "0.03", "within spread"),  # the paper's own std gives the spread
    ],
)
def test_verdict_against_the_run_to_run_spread(tmp_path, dices, value, std, verdict):
    table = views.published_vs_reproduced(published(tmp_path, value, std), runs_of(tmp_path, dices))
    assert table["verdict"].tolist() == [verdict]


def test_scale_converts_percent(tmp_path):
    table = views.published_vs_reproduced(published(tmp_path, "82", scale="100"), runs_of(tmp_path, (0.80, 0.82, 0.84)))
    assert table["published"].iloc[0] == pytest.approx(0.82) and table["verdict"].iloc[0] == "within spread"


def test_paper_convention_block_is_used_and_a_record_without_one_is_not_comparable(tmp_path):
    pub = published(tmp_path, "0.5")
    own = runs_of(tmp_path / "new", (0.80, 0.82), convention="per-slice", paper_dice=0.5)
    row = views.published_vs_reproduced(pub, own).iloc[0]
    assert row["mean"] == pytest.approx(0.5) and row["verdict"] == "within spread"
    assert row["scored_as"] == "per-slice" and row["n"] == 2
    old = runs_of(tmp_path / "old", (0.80, 0.82), convention="per-slice", legacy=True)  # before the metrics engine
    row = views.published_vs_reproduced(pub, old).iloc[0]
    assert row["mean"] == pytest.approx(0.81) and row["scored_as"] == "canonical"
    assert row["verdict"] == "not comparable" and "no block scored in the paper's convention" in row["why"]


@pytest.mark.parametrize(
    ("dices", "value", "verdict"),
    [((0.50, 0.52, 0.54), "0.80", "worse (quick tier)"), ((0.80, 0.82, 0.84), "0.83", "within spread (quick tier)")],
)
def test_a_quick_tier_number_shows_its_delta_and_spread_verdict_marked_with_its_tier(tmp_path, dices, value, verdict):
    row = views.published_vs_reproduced(published(tmp_path, value), runs_of(tmp_path, dices, tier="quick")).iloc[0]
    assert row["verdict"] == verdict and row["delta"] == pytest.approx(np.mean(dices) - float(value))
    assert "tier quick" in row["why"] and "sd" in row["why"]


def test_every_reason_for_not_comparable_is_given(tmp_path):
    pub = published(tmp_path, "0.5")
    results = runs_of(tmp_path, (0.80, 0.82), convention="per-slice", legacy=True, tier="quick")
    why = views.published_vs_reproduced(pub, results)["why"].iloc[0]
    assert "tier quick" in why and "convention" in why


def test_a_published_metric_no_run_produces_stays_open(tmp_path):
    pkg = tmp_path / "pub" / "p"
    write_csv(
        pkg / "published.csv",
        ("paper", "table", "dataset", "method", "class", "metric", "value", "std"),
        [("p", "6", "d", "M", "fg", "class_ratio", "0.01", ""), ("p", "6", "d", "M", "fg", "dice", "0.8", "")],
    )
    write_csv(pkg / "methods.csv", ("table", "method", "baseline", "scale"), [("6", "M", "m", "1")])
    pub = data.load_tables(data.Folders((), tmp_path / "pub", ())).published
    table = views.published_vs_reproduced(pub, runs_of(tmp_path, (0.80, 0.82))).set_index("metric")
    assert table.loc["class_ratio", "verdict"] == "open" and "score no class_ratio" in table.loc["class_ratio", "why"]
    assert table.loc["dice", "verdict"] == "within spread"


def test_dataset_substitute_is_not_comparable(tmp_path):
    pub = published(tmp_path, "0.8", dataset="private-cells")
    results = runs_of(tmp_path, (0.80, 0.82))
    assert views.published_vs_reproduced(pub, results)["verdict"].tolist() == ["open"]
    row = views.published_vs_reproduced(pub, results, {"private-cells": "d"}).iloc[0]
    assert row["verdict"] == "not comparable" and "substitute" in row["why"] and row["mean"] == pytest.approx(0.81)


def test_stress_curves_average_repeats_and_sort_by_ratio(folders, fixture_tree):
    path = fixture_tree["results"] / "stress" / "synthetic-2d" / "stress.csv"
    extra = "\n".join(f"{r},{r},unet-sce,mitochondria,balanced_accuracy,{v}" for r, v in ((0.01, 0.8), (0.001, 0.7)))
    path.write_text(path.read_text() + extra + "\n")
    curve = views.stress_curves(data.load_tables(folders).stress, "synthetic-2d", "mitochondria", "balanced_accuracy")
    unet = curve[curve["baseline"] == "unet-sce"]
    assert unet["ratio"].tolist() == [0.001, 0.01, 0.1]
    assert unet["mean"].tolist() == pytest.approx([0.6, 0.7, 0.7]) and unet["n"].tolist() == [2, 2, 1]


def test_run_provenance_and_curves():
    record = make_record("d", "m", "p", "quick", 2, 7)
    prov = views.provenance(record).set_index("field")["value"]
    assert prov["git commit"] == record["provenance"]["git_commit"] and prov["seed"] == "7"
    assert prov["data hash"] == "abc123" and prov["version: torch"] == "2.13.0" and prov["tier"] == "quick"
    assert prov["cpu"] == "AMD EPYC, 2 logical CPUs, AVX2"
    curves = views.curves(record)
    assert curves.groupby("curve").size().to_dict() == {"train_loss": 3, "val_score": 2}


def test_stress_curves_skip_undefined_scores(folders, fixture_tree):
    """``segrepro stress`` writes an undefined score (and an unknown achieved ratio) as an empty cell."""
    path = fixture_tree["results"] / "stress" / "synthetic-2d" / "stress.csv"
    path.write_text(
        path.read_text() + "0.01,,unet-sce,mitochondria,balanced_accuracy,\n0.1,0.1,unet-sce,all,train_seconds,3.2\n"
    )
    tables = data.load_tables(folders)
    assert tables.problems == []
    curve = views.stress_curves(tables.stress, "synthetic-2d", "mitochondria", "balanced_accuracy")
    unet = curve[curve["baseline"] == "unet-sce"].set_index("ratio")
    assert unet.loc[0.01, "mean"] == pytest.approx(0.6) and unet.loc[0.01, "n"] == 1


def test_two_entries_scores_pair_by_dataset_fold_and_seed(folders):
    """The fixture's two paper-tier baselines ran the same 3 folds x 2 seeds: six pairs, X-Net ahead."""
    results = data.load_results(folders)
    scores = views.scores_for(results, results.runs[results.runs["tier"] == "paper"], "dice", ["mitochondria"])
    xnet, unet = (scores[scores["baseline"] == b] for b in ("xnet-sce-iou", "unet-sce"))
    result = compare_entries(xnet, unet, name_a="xnet", name_b="unet", metric="dice")
    assert result.n == 6 and result.mean_difference == pytest.approx(np.mean(XNET_DICE) - np.mean(UNET_DICE))
    assert result.ci_low > 0 and result.test.startswith("Wilcoxon signed-rank")


def test_the_page_opens_on_the_dataset_of_your_newest_run():
    runs = pd.DataFrame(
        {
            "source": ["reference", "yours", "yours", "reference"],
            "dataset": ["drosophila-vnc", "synthetic-2d", "urocell", "lucchi-pp"],
            "started": ["2026-12-01T10:00:00+00:00", "2026-11-01T09:00:00+00:00", "2026-11-02T09:00:00+00:00",
                        "2026-12-02T10:00:00+00:00"],
        }
    )  # fmt: skip
    assert views.newest_dataset(runs) == "urocell"  # yours first, however new the reference runs are
    assert views.newest_dataset(runs[runs["source"] == "reference"]) == "lucchi-pp"
    assert views.newest_dataset(runs.iloc[:0]) is None


def test_ratio_labels_as_the_cli_writes_them():
    assert [views.ratio_label(r) for r in (0.001, 0.1, 1.0, 2.0, 1 / 300)] == ["1:1000", "1:10", "1:1", "2:1", "1:300"]


def test_a_second_annotator_is_a_reference_line_and_never_ranked(folders, fixture_tree):
    pkg = fixture_tree["published"] / "p003"
    row = ("003", "1", "drosophila-vnc", "2nd expert", "mitochondria", "dice", "0.88", "")
    write_csv(pkg / "published.csv", PUBLISHED_HEADER, [row])
    write_csv(pkg / "methods.csv", (*METHODS_HEADER, "reference"), [("1", "2nd expert", "", "1", "inter-rater")])
    results, tables = data.load_results(folders), data.load_tables(folders)
    assert not tables.problems
    refs = views.reference_lines(tables.published, "drosophila-vnc", "dice")
    assert refs[["reference", "method", "class"]].values.tolist() == [
        ["a second annotator scored this", "2nd expert", "mitochondria"]
    ]
    assert refs["value"].tolist() == [pytest.approx(0.88)]
    assert views.reference_lines(tables.published, "drosophila-vnc", "iou").empty
    assert views.reference_lines(tables.published, "arabidopsis-cells", "dice").empty
    ranked = views.rankings(results, results.runs, "drosophila-vnc", "dice", "mitochondria")
    assert "2nd expert" not in set(ranked["baseline"]) and len(ranked) == 3  # the fixture's runs only
    table = views.published_vs_reproduced(tables.published, results)
    assert verdicts(table)[("2nd expert", None)] == "reference"


def test_the_paper_tiers_seed_selection_is_applied_as_segrepro_aggregate_applies_it(tmp_path):
    """Paper 003's best 10 of 15 seeds by validation, read from the tables ``segrepro aggregate`` stored: the
    ranking's statistics cover the kept seeds and equal the board's; the runs tab still lists all 15."""
    from segrepro.aggregate import aggregate

    folder = tmp_path / "runs"
    for seed in range(15):
        dice = {c: {"dice": 0.3 + seed / 100} for c in ("background", "membrane", "mitochondria", "synapse")}
        record = make_record("fib-sem-hela", "meyer2021-unet", "003", "paper", 0, seed, per_class=dice)
        record["curves"]["val_score"] = [[256, 0.1], [512, 1 - abs(seed - 7) / 10]]  # best: seeds near 7
        write_record(folder, record)
    board, _ = aggregate(folder, tmp_path)
    results = data.load_results(data.Folders(((data.SOURCE_REFERENCE, folder),), tmp_path, (), tables=True))
    selected = views.seed_selected(results)
    kept = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # |seed - 7| <= 4, and of 2 and 12 (tied) the lower seed
    assert sorted(selected.runs["seed"]) == kept
    table = views.rankings(selected, selected.runs, "fib-sem-hela", "dice", "mean").iloc[0]
    assert table["n"] == 10 and table["mean"] == pytest.approx(np.mean([0.3 + s / 100 for s in kept]))
    assert table["mean"] == pytest.approx(board.iloc[0]["dice_mean"])
    assert views.rankings(results, results.runs, "fib-sem-hela", "dice", "mean").iloc[0]["n"] == 15  # unselected
