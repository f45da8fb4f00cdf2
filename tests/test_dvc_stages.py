"""The optional stages of dvc.yaml: absent from the default `dvc repro`, rendered when params.yaml
selects them (paper 001's reproduction, one stage per id; the stress sweep, one per dataset)."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from segrepro.baselines import get_baseline
from segrepro.stress import parse_ratios

ROOT = Path(__file__).resolve().parents[1]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def dvc(repo: Path, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def repo_with(repo: Path, section: str, key: str, value: list[str]) -> Path:
    """A git + DVC repo with this project's dvc.yaml and params.yaml, ``params[section][key] = value``."""
    repo.mkdir(parents=True)
    shutil.copy(ROOT / "dvc.yaml", repo)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params[section][key] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc(repo, "init", "-q")
    return repo


def test_fujii2021_reproduction_is_off_by_default_and_one_stage_per_selected_id(tmp_path):
    assert PARAMS["reproduce_fujii2021"]["baselines"] == []
    off = repo_with(tmp_path / "off", "reproduce_fujii2021", "baselines", [])
    assert "reproduce-fujii2021" not in dvc(off, "stage", "list")
    ids = ["fujii2021-unet-sce-iou", "fujii2021-xnet-sce-and-iou"]
    listed = dvc(repo_with(tmp_path / "on", "reproduce_fujii2021", "baselines", ids), "stage", "list")
    for entry_id in ids:
        assert f"reproduce-fujii2021@{entry_id}" in listed


def test_stress_stage_is_off_by_default_and_runs_the_default_sweep_when_selected(tmp_path):
    assert PARAMS["stress"]["datasets"] == []
    assert "stress@" not in dvc(repo_with(tmp_path / "off", "stress", "datasets", []), "stage", "list")
    repo = repo_with(tmp_path / "on", "stress", "datasets", ["synthetic-2d"])
    assert "stress@synthetic-2d" in dvc(repo, "stage", "list")
    for dep in ("data/prepared/synthetic-2d", "benchmark", "baselines"):  # what the stage needs to exist
        (repo / dep).mkdir(parents=True)
        (repo / dep / "x").write_text("x")
    dry = dvc(repo, "repro", "--dry", "--single-item", "stress@synthetic-2d")
    cmd = next(line for line in dry.splitlines() if "segrepro stress" in line)
    args = PARAMS["stress"]["args"]
    ids = args["baseline"]
    assert f"--baseline {' '.join(ids)} " in cmd and f"--ratios {args['ratios']} " in cmd and "--tier quick" in cmd
    assert f"--seeds {' '.join(map(str, args['seeds']))} " in cmd and len(args["seeds"]) == 3  # bands over 3 seeds
    assert len(ids) == 7 and {get_baseline(i).paper for i in ids} == {"000"}
    ratios = sorted(t.ratio for t in parse_ratios(args["ratios"], 4))
    assert len(ratios) >= 5 and ratios[0] <= 1e-3 and ratios[-1] >= 1
    assert STAGES["stress"]["do"]["outs"] == [{"results/reference/stress/${item}": {"cache": False}}]
