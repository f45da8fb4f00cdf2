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
