"""The CLI's readable cards and lists: aligned columns, the cards as sections and tables, ``--json``
for machines, values printed as text (never as markup), and one-line errors for a bad ``--classes``."""

import json
import re

import pytest

from segrepro.cli import main
from segrepro.display import dataset_card, fmt, show


def column_starts(header: str, names: list[str]) -> list[int]:
    return [header.index(name) for name in names]


@pytest.mark.parametrize(
    ("args", "headers"),
    [
        (["datasets", "list"], ["name", "dims", "classes", "state", "title"]),
        (["baselines", "list"], ["id", "paper", "title"]),
    ],
)
def test_lists_are_aligned_columns(args, headers, prepared_2d, capsys):
    assert main(args) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    starts = column_starts(header, headers)
    assert len(rows) >= 9
    for row in rows:
        if not row[: starts[1]].strip():  # a long title wrapped onto its own line
            continue
        for start in starts[1:]:
            assert row[start - 1] == " " and row[start] != " ", (row, start)
    if args[0] == "datasets":
        assert re.search(r"^synthetic-2d\s+2-D\s+4\s+prepared\s+Synthetic", "\n".join(rows), re.M)
        assert re.search(r"^urocell\s+3-D\s+3\s+not prepared\s+UroCell", "\n".join(rows), re.M)


def test_baselines_show_is_a_readable_card_with_the_json_counts(capsys):
    assert main(["baselines", "show", "unet-ce", "--classes", "3", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert main(["baselines", "show", "unet-ce", "--classes", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("unet-ce: U-Net (MONAI) + cross entropy\n")
    assert re.search(r"^citation\s+Ronneberger", text, re.M)
    assert re.search(r"^ recipe\s+smoke\s+quick\s+paper$", text, re.M)
    assert re.search(r"^ patch 3-D\s+32x32x32\s+32x48x48\s+96x96x96$", text, re.M)
    for dims in (2, 3):
        counts = [card["parameters"][f"{tier} ({dims}-D, 3 classes)"] for tier in ("smoke", "quick", "paper")]
        assert re.search(
            rf"^ parameters {dims}-D, 3 classes\s+" + r"\s+".join(f"{n:,}" for n in counts) + "$", text, re.M
        )
    assert "{" not in text and all(line == line.rstrip() for line in text.splitlines())


def test_baselines_show_counts_parameters_for_large_class_counts(capsys):
    """65536 classes on the 54M-parameter paper tier, counted from shapes (the meta device), exactly."""
    assert main(["baselines", "show", "yudistira2020-dl", "--classes", "65536", "--json"]) == 0
    params = json.loads(capsys.readouterr().out)["parameters"]
    assert main(["baselines", "show", "yudistira2020-dl", "--classes", "2", "--json"]) == 0
    two = json.loads(capsys.readouterr().out)["parameters"]["paper (2-D, 2 classes)"]
    # the head is a 3x3 conv from 2 x 64 channels to K - 1 sigmoid outputs: (9 * 128 + 1) weights+bias per output
    assert params["paper (2-D, 65536 classes)"] - two == (65535 - 1) * (9 * 128 + 1)


@pytest.mark.parametrize("classes", ["-3", "0", "1", "65537"])
def test_bad_classes_is_a_one_line_error(classes, capsys):
    assert main(["baselines", "show", "unet-ce", "--classes", classes]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "segrepro: error: --classes is the number of classes (background included) to count parameters for: "
        f"2 to 65536, not {classes}"
    ]


def test_datasets_show_readable_and_json(prepared_2d, capsys):
    assert main(["datasets", "show", "synthetic-2d", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert main(["datasets", "show", "synthetic-2d"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("synthetic-2d: Synthetic EM-like 2-D\n")
    counts = card["prepared"]["class_counts"]
    for i, c in enumerate(card["classes"]):
        assert re.search(rf"^ {i}\s+{c['name']}\s+{i}\s+{c['colour']}\s+{counts[c['name']]:,}\s+0\.\d+$", text, re.M)
    assert re.search(rf"^data hash\s+{card['prepared']['data_hash']}$", text, re.M)
    assert main(["datasets", "show", "urocell"]) == 0
    text = capsys.readouterr().out
    assert "of 15 files shown (--json lists all)" in text and "pinned at the first download" in text
    assert text.rstrip().endswith("Not prepared; run: segrepro datasets prepare urocell")


def test_card_values_are_printed_as_text_not_markup(capsys):
    card = {
        "name": "mine",
        "title": "[bold red]x[/bold red] :smile:",
        "spatial_dims": 2,
        "classes": [{"name": "[link=http://h/]bg[/link]", "values": [0], "colour": "#000000"}],
        "notes": "[/]",
    }
    show(*dataset_card(card, None, "mine"))
    text = capsys.readouterr().out
    assert "mine: [bold red]x[/bold red] :smile:" in text
    assert "[link=http://h/]bg[/link]" in text and re.search(r"^notes\s+\[/\]$", text, re.M)


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), ([], "-"), (1e-8, "1e-08"), (20000, "20,000"), ({"betas": [0.5, 0.999]}, "betas (0.5, 0.999)")],
)
def test_fmt(value, text):
    assert fmt(value) == text
