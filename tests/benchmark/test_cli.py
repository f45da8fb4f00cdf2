"""The CLI: help everywhere, one-line errors with a non-zero exit, and a reproducible smoke run."""

import json
import os
import subprocess
import sys

import pytest

from segrepro.cli import build_parser, main
from segrepro.records import validate_record


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "segrepro.cli", *args], capture_output=True, text=True, cwd=cwd, env=os.environ.copy()
    )


def subcommands(parser, prefix=()):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from subcommands(sub, (*prefix, name))


@pytest.mark.parametrize("path", [(), *subcommands(build_parser())], ids=lambda p: " ".join(p) or "segrepro")
def test_every_subcommand_has_help(path, capsys):
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    assert "usage: segrepro" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--dataset", "nope", "--baseline", "unet-ce"], "unknown dataset 'nope'.*Known: .*synthetic-2d"),
        (
            ["run", "--dataset", "synthetic-2d", "--baseline", "unet-cee"],
            "unknown baseline 'unet-cee'.*Did you mean 'unet-ce'",
        ),
        (
            ["run", "--dataset", "synthetic-2d", "--baseline", "unet-ce"],
            "not prepared.*run: segrepro datasets prepare synthetic-2d",
        ),
        (["baselines", "show", "nope"], "unknown baseline 'nope'"),
        (["datasets", "prepare", "nope"], "unknown dataset"),
    ],
)
def test_bad_input_is_one_line_error(workdir, args, message):
    proc = run_cli(*args, cwd=workdir)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert __import__("re").search(message, lines[0])


def test_unwritable_results_folder_is_one_line_error(prepared_2d, workdir, monkeypatch):
    blocker = workdir / "results-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(blocker))
    proc = run_cli("run", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--quiet", cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    assert "cannot write to" in proc.stderr and "Traceback" not in proc.stderr


def test_baselines_show_prints_card_with_parameters_per_tier(capsys):
    assert main(["baselines", "show", "unet-dicece", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["citation"] and set(card["recipes"]) == {"smoke", "quick", "paper"}
    assert all(n > 0 for n in card["parameters"].values())


@pytest.mark.slow
def test_smoke_run_is_schema_valid_and_reproducible(prepared_2d, workdir):
    args = ("run", "--dataset", "synthetic-2d", "--baseline", "unet-dicece", "--tier", "smoke", "--quiet")
    first = run_cli(*args, cwd=workdir)
    assert first.returncode == 0, first.stderr
    path = workdir / "results" / "runs" / "synthetic-2d__unet-dicece__smoke__f0__s0.json"
    rec1 = json.loads(path.read_text())
    validate_record(rec1)
    assert rec1["status"] == "ok"  # its speed is measured in tests/perf/bench_smoke_run.md, not asserted here
    second = run_cli(*args, cwd=workdir)
    assert second.returncode == 0, second.stderr
    rec2 = json.loads(path.read_text())
    assert rec1["metrics"] == rec2["metrics"]
    assert 0 <= rec1["metrics"]["canonical"]["mean"]["dice"] <= 1


def test_a_reader_that_goes_away_is_not_a_traceback(monkeypatch):
    """``segrepro ... | head -1``: a closed pipe ends the command quietly, with exit 0 (not a BrokenPipeError)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    with open(write, "w", buffering=1) as closed_pipe:  # line-buffered: the first print meets the closed pipe
        monkeypatch.setattr(sys, "stdout", closed_pipe)
        assert main(["baselines", "list"]) == 0
