"""The README's paper-004 reproduction tables are ``segrepro compare`` over the committed reference records:
each command in the section, run on ``results/reference/runs``, prints exactly the table that follows it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from segrepro.cli import main

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "results" / "reference" / "runs"
TITLE = "## Reproduction: paper 004"


def section() -> str:
    readme = (REPO / "README.md").read_text()
    start = readme.index(TITLE)
    end = readme.find("\n## ", start + len(TITLE))
    return readme[start : end if end >= 0 else None]


def compare_commands() -> list[str]:
    return [line.strip() for line in section().splitlines() if line.strip().startswith("segrepro compare ")]


def test_the_section_shows_two_tables_from_compare():
    assert len(compare_commands()) == 2  # synthetic-3d (the 13 rows' stand-in) and drosophila-vnc-3d


@pytest.mark.parametrize("command", compare_commands())
def test_each_table_is_its_commands_output_on_the_committed_records(command, capsys):
    assert main([*shlex.split(command)[1:], "--runs", str(REFERENCE)]) == 0
    text = section()
    lines = text[text.index(command) :].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert "\n".join(lines[first:end]) == capsys.readouterr().out.strip()
