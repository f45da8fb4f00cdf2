"""The claims ledger: claims files checked strictly, and each verdict reached from fixture run records."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segrepro import claims as C
from segrepro.baselines import BASELINES
from segrepro.cli import main
from segrepro.datasets import DATASETS
from segrepro.errors import UserError
from segrepro.leaderboard import data, views

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from fixture_data import make_record, write_record

A, B, B2 = "fujii2021-xnet-sce-and-iou", "fujii2021-unet-sce-iou", "fujii2021-double-unet-sce-iou"
TOP = 'paper: "001"\n'
CLAIMS = f"""
paper: "001"
claims:
  - id: a-beats-b
    quote: A is better than B.
    source: table 2
    datasets: [drosophila-vnc, arabidopsis-cells]
    metric: iou
    class: mean
    a: {A}
    b: {B}
    direction: higher
    effect: 2.18
    scale: 100
  - id: a-beats-both
    quote: A is better than B and B2 on synapses.
    source: table 2
    datasets: [drosophila-vnc]
    metric: iou
    class: synapse
    a: {A}
    b: [{B}, {B2}]
    direction: higher
"""


def write_claims(root: Path, text: str = CLAIMS, package: str = "p001") -> Path:
    path = root / package / "claims.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def record(dataset, baseline, tier, fold, seed, mean_iou, synapse_iou):
    scores = {
        "background": {"iou": 0.9},
        "membrane": {"iou": mean_iou},
        "mitochondria": {"iou": mean_iou},
        "synapse": {"iou": synapse_iou},
    }
    return make_record(dataset, baseline, "001", tier, fold, seed, scores, convention="fujii2021")


def fixture_records() -> list[dict]:
    """drosophila-vnc, tier quick: 5 folds of A, B, B2 (A ahead of B on the mean, behind B2 on synapses);
    tier paper: 3 folds only; synthetic-2d: 5 folds of A and B where B is ahead (a transfer that fails)."""
    out = []
    for fold in range(5):
        out += [
            record("drosophila-vnc", A, "quick", fold, 0, 0.70 + 0.01 * fold, 0.50),
            record("drosophila-vnc", B, "quick", fold, 0, 0.68 + 0.01 * fold, 0.40 + 0.01 * fold),
            record("drosophila-vnc", B2, "quick", fold, 0, 0.60, 0.55 + 0.001 * fold),
            record("synthetic-2d", A, "quick", fold, 0, 0.50, 0.3),
            record("synthetic-2d", B, "quick", fold, 0, 0.55 + 0.01 * fold, 0.3),
        ]
    for fold in range(3):
        out += [
            record("drosophila-vnc", A, "paper", fold, 0, 0.74, 0.5),
            record("drosophila-vnc", B, "paper", fold, 0, 0.72, 0.4),
        ]
    return out


def load(root: Path) -> list[C.Claim]:
    return C.load_all_claims(root, BASELINES.names(), DATASETS.names())


def scores_of(claims: list[C.Claim], *folders_of_records: tuple[Path, list[dict]]) -> pd.DataFrame:
    """The records written into their folders and read as the page and ``segrepro claims`` read them (a
    later folder wins on the same run)."""
    for folder, records in folders_of_records:
        for rec in records:
            write_record(folder, rec)
    runs = tuple((str(folder), folder) for folder, _ in folders_of_records)
    return views.claim_scores(data.load_results(data.Folders(runs, folders_of_records[0][0], ())), claims)


def test_every_verdict_from_fixture_records(tmp_path):
    claims = load(write_claims(tmp_path / "pub").parents[1])
    verdicts, comparisons = C.judge(claims, scores_of(claims, (tmp_path / "runs", fixture_records())))
    got = {(r["claim"], r["dataset"], r["tier"]): r for r in verdicts.to_dict("records")}
    holds = got[("a-beats-b", "drosophila-vnc", "quick")]
    assert holds["verdict"] == C.HOLDS and holds["n_pairs"] == 5 and not holds["transfer"]
    assert holds["mean_difference"] == pytest.approx(0.04)  # mean over 3 classes: (2 x 0.02 + 0.1 - 0.02) / 3
    assert holds["p_value"] == pytest.approx(1 / 32) and holds["published_effect"] == pytest.approx(0.0218)
    assert "Wilcoxon" in holds["test"]
    short = got[("a-beats-b", "drosophila-vnc", "paper")]
    assert short["verdict"] == C.UNDETERMINED and short["n_pairs"] == 3
    assert "needs at least 5" in short["detail"] and "run 2 more" in short["detail"]
    missing = got[("a-beats-b", "arabidopsis-cells", "")]
    assert missing["verdict"] == C.NOT_TESTABLE and "arabidopsis-cells" in missing["detail"]
    transfer = got[("a-beats-b", "synthetic-2d", "quick")]
    assert transfer["transfer"] and transfer["verdict"] == C.DOES_NOT_HOLD
    assert "the other way" in transfer["detail"]
    both = got[("a-beats-both", "drosophila-vnc", "quick")]  # beats B on synapses, loses to B2
    assert both["verdict"] == C.DOES_NOT_HOLD and both["held"] == "1/2" and B2 in both["detail"]
    sub = comparisons[(comparisons["claim"] == "a-beats-both") & (comparisons["dataset"] == "drosophila-vnc")]
    sub = sub[sub["tier"] == "quick"]
    assert sorted(zip(sub["b"], sub["outcome"], strict=True)) == [(B2, C.DOES_NOT_HOLD), (B, C.HOLDS)]
    assert set(verdicts["verdict"]) == set(C.VERDICTS)


def test_data_that_is_here_makes_a_claim_without_runs_undetermined_not_untestable(tmp_path):
    """Only B ran on drosophila-vnc: its data is here, so a claim of A vs B there needs runs (undetermined: 0
    pairs, run 5); arabidopsis-cells has no run at all, so it is not testable here."""
    claims = load(write_claims(tmp_path / "pub").parents[1])
    records = [record("drosophila-vnc", B, "quick", fold, 0, 0.7, 0.4) for fold in range(2)]
    verdicts, _ = C.judge(claims, scores_of(claims, (tmp_path / "runs", records)))
    got = {(r["claim"], r["dataset"], r["tier"]): r for r in verdicts.to_dict("records")}
    assert set(got) == {
        ("a-beats-b", "drosophila-vnc", "quick"),
        ("a-beats-b", "arabidopsis-cells", ""),
        ("a-beats-both", "drosophila-vnc", "quick"),
    }
    for claim in ("a-beats-b", "a-beats-both"):
        short = got[(claim, "drosophila-vnc", "quick")]
        assert short["verdict"] == C.UNDETERMINED and short["n_pairs"] == 0
        assert "run 5 more fold(s) or seed(s) of both at tier quick" in short["detail"]
    missing = got[("a-beats-b", "arabidopsis-cells", "")]
    assert missing["verdict"] == C.NOT_TESTABLE and missing["detail"].startswith("nothing ran on arabidopsis-cells")


def test_later_records_win_and_failed_runs_are_left_out(tmp_path):
    claims = load(write_claims(tmp_path / "pub").parents[1])
    first = record("drosophila-vnc", A, "quick", 0, 0, 0.1, 0.1)
    again = record("drosophila-vnc", A, "quick", 0, 0, 0.9, 0.9)
    failed = make_record("drosophila-vnc", B, "001", "quick", 0, 0, status="failed")
    scores = scores_of(claims, (tmp_path / "reference", [first, failed]), (tmp_path / "yours", [again]))
    mean = scores[(scores["class"] == "mean") & (scores["block"] == "paper")]
    assert mean["value"].tolist() == [pytest.approx(0.9)]
    assert set(scores["baseline"]) == {A}


def test_pooled_instance_metrics_are_scores_of_class_cell_in_both_blocks(tmp_path):
    base = load(write_claims(tmp_path / "pub").parents[1])[0]
    claim = C.Claim(**{**vars(base), "classes": ("cell",), "metrics": ("p05", "pq", "rq", "sq")})
    rec = record("drosophila-vnc", A, "quick", 0, 0, 0.5, 0.5)
    rec["metrics"]["instances"] = {"pooled": {"pq": 0.61, "sq": 0.8, "rq": 0.76, "p05": 0.7, "tp": 5}}
    scores = scores_of([claim], (tmp_path / "runs", [rec, record("drosophila-vnc", A, "quick", 1, 0, 0.5, 0.5)]))
    cell = scores[scores["class"] == "cell"]
    assert sorted(zip(cell["block"], cell["metric"], cell["value"], strict=True)) == [
        (block, m, v)
        for block in ("canonical", "paper")
        for m, v in sorted({"p05": 0.7, "pq": 0.61, "rq": 0.76, "sq": 0.8}.items())
    ]
    assert set(cell["fold"]) == {0}  # the record without instance metrics adds none


def test_one_sided_test_needs_five_pairs_at_five_percent():
    assert C.min_pairs(0.05) == 5 and C.min_pairs(0.01) == 7
    assert C.compare(np.ones(4), np.zeros(4), "higher").outcome == C.UNDETERMINED
    ok = C.compare(np.arange(1, 6), np.zeros(5), "higher")
    assert ok.outcome == C.HOLDS and ok.p_value == pytest.approx(1 / 32)
    assert C.compare(np.arange(1, 6), np.zeros(5), "lower").outcome == C.DOES_NOT_HOLD
    assert C.compare(np.zeros(6), np.zeros(6), "higher").outcome == C.DOES_NOT_HOLD  # no difference at all


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (f"a: {A}", f"a: {A}u", f"unknown entry '{A}u'; did you mean '{A}'"),
        ("metric: iou\n    class: mean", "metric: miou\n    class: mean", "unknown metric 'miou'"),
        ("[drosophila-vnc, arabidopsis-cells]", "[drosophila-vnx]", "unknown dataset 'drosophila-vnx'"),
        ("direction: higher\n    effect", "direction: up\n    effect", "claims/0/direction"),
        ("id: a-beats-both", "id: a-beats-b", "claim id 'a-beats-b' is used twice"),
        (f"b: {B}", f"b: {A}", "compared with itself"),
        ("quote: A is better than B.", "quote: [unclosed", "not valid YAML at line"),
        (TOP, f"{TOP}transfer_classes:\n  drosophila-vnx: {{synapse: granule}}\n", "unknown dataset 'drosophila-vnx'"),
        (TOP, f"{TOP}transfer_classes:\n  synthetic-2d: {{synapsee: granule}}\n", "unknown claim class 'synapsee'"),
        (
            TOP,
            f"{TOP}transfer_classes:\n  drosophila-vnc: {{synapse: granule}}\n",
            "'drosophila-vnc' is a paper dataset",
        ),
        ("class: synapse", "class: synapse\n    mean_of: [synapse, membrane]", "mean_of is given, but class 'mean'"),
    ],
)
def test_a_bad_claims_file_is_a_one_line_error(tmp_path, monkeypatch, capsys, old, new, message):
    assert old in CLAIMS
    write_claims(tmp_path, CLAIMS.replace(old, new, 1))
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load(tmp_path)
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tmp_path))
    assert main(["claims", "--runs", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message.split(";")[0].split("[")[0] in err


def test_claims_command_prints_and_writes_the_verdicts(tmp_path, monkeypatch, capsys):
    write_claims(tmp_path / "published")
    for rec in fixture_records():
        write_record(tmp_path / "runs", rec)
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tmp_path / "published"))
    out_csv = tmp_path / "out" / "claims.csv"
    assert main(["claims", "--runs", str(tmp_path / "runs"), "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "one-sided Wilcoxon signed-rank" in out and "needing at least 5 pairs" in out
    assert "[holds] paper 001 a-beats-b on drosophila-vnc, tier quick (published effect +0.0218)" in out
    assert "[does not hold] paper 001 a-beats-b on synthetic-2d (transfer), tier quick" in out
    assert "[not testable here] paper 001 a-beats-b on arabidopsis-cells" in out
    assert out_csv.exists() and (tmp_path / "out" / "claims_comparisons.csv").exists()
    assert main(["claims", "--paper", "004", "--runs", str(tmp_path / "runs")]) == 2
    assert "papers with claims: 001" in capsys.readouterr().err


def test_shipped_claims_files_are_valid():
    root = Path(__file__).resolve().parents[2] / "baselines"
    claims = load(root)
    assert {"000", "001", "002"} <= {c.paper for c in claims}  # every paper package with a claims.yaml
    vnc = next(c for c in claims if c.id == "xnet-beats-unet-vnc")
    assert (vnc.a, vnc.b, vnc.metrics, vnc.classes) == (A, (B,), ("iou",), ("mean",))
    assert vnc.published_effect == pytest.approx(0.0218)
    best = next(c for c in claims if c.id == "rwcdl-best-minority")
    assert len(best.b) == 6 and set(best.classes) == {"peroxisome", "mitochondrion", "nucleus"}
    assert len(best.comparisons()) == 2 * 3 * 6


def test_a_no_gain_claim_holds_unless_a_is_significantly_ahead():
    assert C.compare(np.ones(4), np.zeros(4), C.NO_GAIN).outcome == C.UNDETERMINED  # too few pairs to tell
    ahead = C.compare(np.arange(1, 6), np.zeros(5), C.NO_GAIN)
    assert ahead.outcome == C.DOES_NOT_HOLD and ahead.p_value == pytest.approx(1 / 32)
    mixed = C.compare(np.array([0.1, -0.1, 0.05, -0.05, 0.02, -0.02]), np.zeros(6), C.NO_GAIN)
    assert mixed.outcome == C.HOLDS
    assert C.compare(-np.arange(1, 6), np.zeros(5), C.NO_GAIN).outcome == C.HOLDS  # a behind: no gain either


def test_paper_003_claims_are_shipped_and_a_no_gain_verdict_says_why(tmp_path):
    claims = {c.id: c for c in load(Path(__file__).resolve().parents[2] / "baselines") if c.paper == "003"}
    assert set(claims) >= {"every-network-beats-ilastik", "eunet-beats-unet", "grain-filter-no-gain-unet"}
    ilastik = claims["every-network-beats-ilastik"]
    assert ilastik.direction == "lower" and len(ilastik.comparisons()) == 3 * 4
    grain = claims["grain-filter-no-gain-unet"]
    assert grain.direction == C.NO_GAIN
    per_class = {"background": {"dice": 0.9}, "mitochondria": {"dice": 0.0}}
    one_class = C.Claim(**{**vars(grain), "classes": ("mitochondria",)})
    records = [
        make_record(
            "fib-sem-hela",
            baseline,
            "003",
            "quick",
            fold,
            0,
            {**per_class, "mitochondria": {"dice": value + 0.01 * fold}},
            classes=("background", "mitochondria"),
            counts_per_class=(9000, 600),
            convention="meyer2021",
        )
        for fold in range(5)
        for baseline, value in (("meyer2021-unet-f", 0.8), ("meyer2021-unet", 0.7))
    ]
    verdicts, _ = C.judge([one_class], scores_of([one_class], (tmp_path / "runs", records)))
    row = verdicts[verdicts["dataset"] == "fib-sem-hela"].iloc[0]
    assert row["verdict"] == C.DOES_NOT_HOLD and "significantly ahead" in row["detail"]


def test_a_transfer_compares_only_the_claims_classes_the_dataset_has(tmp_path):
    """Paper 003's grain-filter claim names three FIB-SEM classes; drosophila-vnc has two of them
    (mitochondria, and cell membrane under its own name, membrane, as the claims file maps it) and
    synthetic-2d none (its runs are scored for another claim judged alongside): the transfer pairs those two
    and says which was left out, and where none is present it is not testable (not "run more folds")."""
    grain = {c.id: c for c in load(Path(__file__).resolve().parents[2] / "baselines")}["grain-filter-no-gain-unet"]
    mixed = np.array([0.1, -0.1, 0.05, -0.05, 0.02])  # no significant gain: the no-gain claim holds
    classes = {"drosophila-vnc": ("membrane", "mitochondria"), "synthetic-2d": ("background", "granule")}
    records = [
        make_record(
            dataset, baseline, "003", "quick", fold, 0, {bg: {"dice": 0.9}, fg: {"dice": value}},
            classes=(bg, fg), counts_per_class=(9000, 600), convention="meyer2021",
        )
        for dataset, (bg, fg) in classes.items()
        for fold, d in enumerate(mixed)
        for baseline, value in (("meyer2021-unet-f", 0.7 + d), ("meyer2021-unet", 0.7))
    ]  # fmt: skip
    granule = C.Claim(**{**vars(grain), "id": "granule-claim", "classes": ("granule",)})  # judged alongside
    scores = scores_of([grain, granule], (tmp_path / "runs", records))
    verdicts, comparisons = C.judge([grain], scores)
    got = {r["dataset"]: r for r in verdicts.to_dict("records")}
    vnc = got["drosophila-vnc"]
    assert vnc["transfer"] and vnc["verdict"] == C.HOLDS and vnc["n_pairs"] == 5
    assert "read on drosophila-vnc: cell membrane as membrane" in vnc["detail"]
    assert "left out, not classes of drosophila-vnc: endoplasmic reticulum" in vnc["detail"]
    assert set(comparisons.loc[comparisons["dataset"] == "drosophila-vnc", "class"]) == {"mitochondria", "membrane"}
    other = got["synthetic-2d"]
    assert other["verdict"] == C.NOT_TESTABLE and "has none of the claim's classes" in other["detail"]


def test_a_mean_claim_with_mean_of_averages_those_classes_only(tmp_path):
    """Paper 004's mean DSC is over mitochondria and endolysosomes. On a stand-in with more classes (here
    membrane, which the merged binary heads never predict) the claim reads the mean of the two, under their
    names there (endolysosomes as synapse): the merge is ahead on both, so the claim holds, where the mean
    over every foreground class, dragged down by membrane, has it behind."""
    merged, plain = "zerovnik2020-highres3dnet-merged", "zerovnik2020-highres3dnet"
    base = C.Claim(
        paper="004", id="merged-improves-mean-dsc", quote="q", source="s", datasets=("urocell",),
        metrics=("dice",), classes=("mean",), a=merged, b=(plain,), direction="higher",
        transfer_classes={"drosophila-vnc": {"endolysosomes": "synapse"}}, mean_of=("mitochondria", "endolysosomes"),
    )  # fmt: skip
    records = [
        make_record(
            "drosophila-vnc", baseline, "004", "quick", fold, 0,
            {"background": {"dice": 0.9}, "membrane": {"dice": membrane},
             "mitochondria": {"dice": 0.5 + gain + 0.01 * fold}, "synapse": {"dice": 0.2 + gain}},
            classes=("background", "membrane", "mitochondria", "synapse"), convention="zerovnik2020",
        )
        for fold in range(5)
        for baseline, membrane, gain in ((merged, 0.0, 0.05 + 0.01 * fold), (plain, 0.8, 0.0))
    ]  # fmt: skip

    def verdict(claim: C.Claim, folder: Path) -> dict:
        rows = C.judge([claim], scores_of([claim], (folder, records)))[0]
        return rows[rows["dataset"] == "drosophila-vnc"].iloc[0].to_dict()

    paper_mean = verdict(base, tmp_path / "paper-mean")
    assert paper_mean["verdict"] == C.HOLDS and paper_mean["n_pairs"] == 5
    assert paper_mean["mean_difference"] == pytest.approx(np.mean([0.05 + 0.01 * f for f in range(5)]))
    assert "mean of mitochondria, synapse" in paper_mean["detail"]
    every_class = verdict(C.Claim(**{**vars(base), "mean_of": ()}), tmp_path / "every-class")
    assert every_class["verdict"] == C.DOES_NOT_HOLD and every_class["mean_difference"] < 0
