"""Names become file names: a dataset name, baseline id or run id that is not a slug is refused where
the path is built, so nothing the CLI writes lands outside the data and results folders."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from segrepro import paths
from segrepro.errors import UserError

HOSTILE = ["../../escaped", "/tmp/escaped", "a/b", "..", ".", "a..b", "Mixed-Case", "x" * 201, ""]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "segrepro.cli", *args], capture_output=True, text=True, cwd=cwd, env=os.environ.copy()
    )


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name", ["synthetic-2d", "my.data_v2", "a", "x" * 200, "ds__unet-ce__smoke__f0__s-1"])
def test_slugs_are_accepted(name):
    assert paths.check_slug(name, "dataset") == name


@pytest.mark.parametrize("name", [*HOSTILE, None, 7])
def test_non_slugs_are_refused_by_every_path_helper(name, workdir):
    for helper in (paths.raw_dir, paths.prepared_dir, paths.run_record, paths.stress_dir):
        with pytest.raises(UserError, match="is not a valid name: use at most 200 lower-case letters"):
            helper(name)


def test_built_paths_stay_inside_their_folders(workdir):
    assert paths.prepared_dir("d").parent == paths.data_dir() / "prepared"
    assert paths.raw_dir("d").parent == paths.data_dir() / "raw"
    assert paths.run_record("r").parent == paths.runs_dir()
    assert paths.run_record("r", workdir / "elsewhere") == workdir / "elsewhere" / "r.json"
    assert paths.stress_dir("d").parent == paths.results_dir() / "stress"


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/segrepro-escaped", "sub/dir"])
def test_card_with_a_path_as_name_is_a_one_line_error_and_writes_nothing(workdir, name):
    mine = workdir / "mine"
    (mine / "images").mkdir(parents=True)
    (mine / "labels").mkdir()
    card = {"name": name, "spatial_dims": 2, "images": "images", "labels": "labels", "classes": []}
    card["classes"] = [{"name": "bg", "values": [0]}, {"name": "fg", "values": [1]}]
    (mine / "card.yaml").write_text(yaml.safe_dump(card))
    before = tree(workdir.parent)
    proc = run_cli("datasets", "prepare", "--card", str(mine / "card.yaml"), cwd=workdir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "card.yaml: name" in proc.stderr and "is not a valid name" in proc.stderr
    assert tree(workdir.parent) == before
    assert not Path("/tmp/segrepro-escaped").exists()


def test_run_on_a_traversing_dataset_name_is_refused_before_any_work(prepared_2d, workdir):
    """An attacker's prepared folder two levels above data/prepared: today's run would train on it and
    write its record two levels above results/runs."""
    shutil.copytree(prepared_2d, workdir / "escaped")
    before = tree(workdir)
    proc = run_cli("run", "--dataset", "../../escaped", "--baseline", "unet-ce", "--quiet", cwd=workdir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "segrepro: error: dataset '../../escaped' is not a valid name: use " + paths.SLUG_RULE
    )
    assert tree(workdir) == before


@pytest.mark.parametrize(
    "args",
    [
        ("datasets", "show", "../x"),
        ("datasets", "fetch", "../x", "--source", "."),
        ("datasets", "prepare", "../x"),
        ("stress", "--dataset", "../x", "--baseline", "unet-ce", "--ratios", "1:10", "--dry-run"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_other_commands_refuse_traversing_names(workdir, args):
    before = tree(workdir)
    proc = run_cli(*args, cwd=workdir)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "'../x'" in proc.stderr  # not a slug, or not registered
    assert tree(workdir) == before
