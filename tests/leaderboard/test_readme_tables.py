"""The README's reproduction tables are ``segrepro compare`` over the committed reference records: in each
"## Reproduction: paper ..." section, every ``segrepro compare`` command, run on ``results/reference/runs``,
prints exactly the first table that follows it."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from segrepro.cli import main

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "results" / "reference" / "runs"


def sections() -> dict[str, str]:
    """``{paper: section text}`` of the README's reproduction sections."""
    readme = (REPO / "README.md").read_text()
    out = {}
    for match in re.finditer(r"^## Reproduction: paper (\d{3})", readme, flags=re.M):
        end = readme.find("\n## ", match.end())
        out[match.group(1)] = readme[match.start() : end if end >= 0 else None]
    return out


def compare_commands() -> list[tuple[str, str]]:
    return [
        (paper, line.strip())
        for paper, text in sections().items()
        for line in text.splitlines()
        if line.strip().startswith("segrepro compare ")
    ]


def test_each_paper_with_reference_runs_has_its_tables():
    """Papers 001, 003 and 004: one table each on drosophila-vnc (001, 003), two for 002 (synthetic-cells-2d
    and drosophila-vnc-cells) and for 004 (synthetic-3d and drosophila-vnc-3d)."""
    count = {p: sum(paper == p for paper, _ in compare_commands()) for p in sections()}
    assert count == {"001": 1, "002": 2, "003": 1, "004": 2}


@pytest.mark.parametrize(("paper", "command"), compare_commands())
def test_each_table_is_its_commands_output_on_the_committed_records(paper, command, capsys):
    assert main([*shlex.split(command, comments=True)[1:], "--runs", str(REFERENCE)]) == 0
    text = sections()[paper]
    lines = text[text.index(command) :].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert "\n".join(lines[first:end]) == capsys.readouterr().out.strip()


VNC3D_ROWS = {  # the per-fold table of paper 004 on drosophila-vnc-3d: its row names and their entries
    "HighRes3DNet": "highres3dnet",
    "CON": "highres3dnet-con",
    "HighRes3DZMNet": "highres3dzmnet",
    "HighRes3DZMNet with CON": "highres3dzmnet-con",
    "HighRes3DZMNet with CON and SM": "highres3dzmnet-con-sm",
    "TRAN": "highres3dnet-tran",
    "merged binary classifiers": "highres3dnet-merged",
    "proposed pipeline": "pipeline",
    "U-Net": "unet",
    "V-Net": "vnet",
    "DeepMedic": "deepmedic",
}


def test_paper_004_per_fold_table_is_the_records_mean_of_mitochondria_and_synapses():
    """Each cell: the mean DSC of mitochondria and synapses (paper convention, percent) of that entry's record
    on that fold; an empty cell, no record."""
    text = sections()["004"]
    start = text.index("| entry | fold 0 | fold 1 | fold 2 |")
    lines = text[start:].splitlines()
    table = lines[: next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))]
    rows = [line.strip("|").split("|") for line in table[2:]]
    assert {r[0].strip() for r in rows} == set(VNC3D_ROWS)
    for name, *cells in rows:
        for fold, cell in enumerate(cells):
            path = REFERENCE / f"drosophila-vnc-3d__zerovnik2020-{VNC3D_ROWS[name.strip()]}__quick__f{fold}__s0.json"
            if not cell.strip():
                assert not path.exists(), f"{name} fold {fold} has a record but no number"
                continue
            per_class = json.loads(path.read_text())["metrics"]["paper"]["per_class"]
            mean = 50 * (per_class["mitochondria"]["dice"] + per_class["synapse"]["dice"])
            assert float(cell) == pytest.approx(mean, abs=0.051), f"{name} fold {fold}"
