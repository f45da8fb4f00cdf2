"""The Markdown comparison table (``segrepro compare``) against hand-made records and a published table."""

from __future__ import annotations

import pytest
from fixture_data import make_record, write_csv, write_record

from segrepro.cli import main
from segrepro.leaderboard.report import comparison, to_markdown


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """Paper ``p`` publishes fg dice 80 ± 2 (percent) for method M (baseline m) on dataset d; three runs of m
    score 0.78, 0.80, 0.82, and one run on another dataset scores 0.10."""
    pkg = tmp_path / "pub" / "p"
    header = ("paper", "table", "dataset", "method", "class", "metric", "value", "std")
    write_csv(pkg / "published.csv", header, [("p", "1", "d", "M", "fg", "dice", "80", "2")])
    write_csv(pkg / "methods.csv", ("table", "method", "baseline", "scale"), [("1", "M", "m", "100")])
    runs = tmp_path / "runs"
    for seed, dice in enumerate((0.78, 0.80, 0.82)):
        scores = {"background": {"dice": 1.0}, "fg": {"dice": dice}}
        write_record(runs, make_record("d", "m", "p", "quick", 0, seed, scores, ("background", "fg")))
    other = {"background": {"dice": 1.0}, "fg": {"dice": 0.10}}
    write_record(runs, make_record("e", "m", "p", "quick", 0, 0, other, ("background", "fg")))
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tmp_path / "pub"))
    return runs


def test_markdown_row_holds_the_published_and_reproduced_numbers(tree):
    table = comparison([tree], "p", "d", "quick")
    lines = to_markdown(table).splitlines()
    assert len(lines) == 3  # header, rule, the one published number with runs
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells == ["M", "fg", "80.00 ± 2.00", "80.00 ± 2.00", "3", "+0.00", "within spread (quick tier)"]


def test_no_runs_of_another_tier(tree):
    assert comparison([tree], "p", "d", "paper").empty


def test_cli_prints_the_table_and_rejects_an_unknown_paper(tree, capsys):
    assert main(["compare", "--paper", "p", "--runs", str(tree)]) == 0
    assert "| M | fg | 80.00 ± 2.00 |" in capsys.readouterr().out
    assert main(["compare", "--paper", "zz", "--runs", str(tree)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "segrepro: error: paper 'zz' has no published table; papers with one: p"


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """Paper ``q`` publishes, on dataset ``real`` (no runs), dice and recall of classes M and E and their mean
    dice for method P (baseline p) and the dice of M for method B (baseline b). p ran on stand-ins ``s1`` and
    ``s2``, b only on ``s2``; the stand-ins call the classes m, e and x (x is not the paper's)."""
    pkg = tmp_path / "pub" / "q"
    header = ("paper", "table", "dataset", "method", "class", "metric", "value", "std")
    rows = [
        ("q", "1", "real", "P", "M", "dice", "0.9", ""),
        ("q", "1", "real", "P", "M", "recall", "0.8", ""),
        ("q", "1", "real", "P", "E", "dice", "0.7", ""),
        ("q", "1", "real", "P", "mean", "dice", "0.8", ""),
        ("q", "1", "real", "B", "M", "dice", "0.5", ""),
    ]
    write_csv(pkg / "published.csv", header, rows)
    write_csv(
        pkg / "methods.csv", ("table", "method", "baseline", "scale"), [("1", "P", "p", "1"), ("1", "B", "b", "1")]
    )
    runs, classes = tmp_path / "runs", ("background", "m", "e", "x")
    scores = {"background": {"dice": 1.0, "recall": 1.0}, "m": {"dice": 0.6, "recall": 0.5}}
    scores |= {"e": {"dice": 0.2, "recall": 0.1}, "x": {"dice": 0.0, "recall": 0.0}}
    write_record(runs, make_record("s1", "p", "q", "quick", 0, 0, scores, classes))
    write_record(
        runs, make_record("s2", "p", "q", "quick", 0, 0, scores | {"m": {"dice": 0.1, "recall": 0.1}}, classes)
    )
    write_record(
        runs, make_record("s2", "b", "q", "quick", 0, 0, scores | {"m": {"dice": 0.3, "recall": 0.3}}, classes)
    )
    monkeypatch.setenv("SEGREPRO_PUBLISHED_DIR", str(tmp_path / "pub"))
    return runs


def test_stand_in_rows_take_the_first_stand_in_each_baseline_ran_on_and_the_mapped_classes(stand_in):
    table = comparison([stand_in], "q", "real", "quick", ("s1", "s2"), {"M": "m", "E": "e"})
    got = {(r["method"], r["class"], r["metric"]): (r["run_dataset"], r["mean"]) for r in table.to_dict("records")}
    assert got == {
        ("P", "M", "dice"): ("s1", pytest.approx(0.6)),
        ("P", "M", "recall"): ("s1", pytest.approx(0.5)),
        ("P", "E", "dice"): ("s1", pytest.approx(0.2)),
        ("P", "mean", "dice"): ("s1", pytest.approx(0.4)),  # over the mapped m and e, not x
        ("B", "M", "dice"): ("s2", pytest.approx(0.3)),
    }
    assert list(table["method"]) == ["P", "P", "P", "P", "B"]  # the published table's order
    assert (table["verdict"] == "not comparable").all() and table["why"].str.contains("substitute").all()


def test_stand_in_markdown_names_the_metric_and_the_stand_in(stand_in):
    lines = to_markdown(comparison([stand_in], "q", "real", "quick", ("s1", "s2"), {"M": "m", "E": "e"})).splitlines()
    assert lines[0] == "| method | class | metric | published | reproduced | on | runs | delta | verdict |"
    assert [c.strip() for c in lines[5].strip("|").split("|")] == [
        "P", "**mean**", "dice", "80.00", "40.00", "s1", "1", "-40.00", "not comparable"
    ]  # fmt: skip


def test_cli_compare_on_a_stand_in_and_its_bad_input(stand_in, capsys):
    args = ["compare", "--paper", "q", "--runs", str(stand_in), "--class", "M=m", "--class", "E=e"]
    assert main([*args, "--dataset", "real", "--on", "s2"]) == 0
    assert "| B | M | dice | 50.00 | 30.00 | s2 | 1 | -20.00 | not comparable |" in capsys.readouterr().out
    for bad, message in (
        (["--on", "s2"], "a stand-in dataset (--on) replaces one published dataset: name it with --dataset"),
        (["--dataset", "real", "--class", "Z=z"], "--class names a published class (E, M), not Z"),
        (["--dataset", "real", "--class", "M"], "--class takes PUBLISHED=RUN (a published class name = a class"),
    ):
        assert main([*args, *bad]) == 2
        assert capsys.readouterr().err.strip().startswith(f"segrepro: error: {message}")


def test_metric_keeps_only_that_metrics_numbers_and_an_unknown_one_is_named(stand_in, capsys):
    table = comparison([stand_in], "q", "real", "quick", ("s1",), {"M": "m", "E": "e"}, ("recall",))
    assert list(zip(table["method"], table["class"], table["metric"], strict=True)) == [("P", "M", "recall")]
    args = ["compare", "--paper", "q", "--runs", str(stand_in), "--dataset", "real", "--on", "s1", "--class", "M=m"]
    assert main([*args, "--metric", "auc"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "segrepro: error: paper q publishes no auc here; its metrics: dice, recall"
