"""The stress sweep stage: absent from the default `dvc repro`; when selected, it runs the default
sweep (the seven paper-000 losses, >= 5 ratios from 1:1 to 1:1000, quick tier) into results/reference/stress."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from segrepro.baselines import get_baseline
from segrepro.stress import parse_ratios

ROOT = Path(__file__).resolve().parents[2]


def dvc(repo: Path, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def repo_with(tmp_path: Path, datasets: list[str]) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    shutil.copy(ROOT / "dvc.yaml", repo)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["stress"]["datasets"] = datasets
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc(repo, "init", "-q")
    return repo


def test_stress_stage_is_off_by_default():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["stress"]
    assert params["datasets"] == []
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert stages["stress"]["foreach"] == "${stress.datasets}"  # an empty list renders no stage


def test_selected_stress_stage_runs_the_default_sweep(tmp_path):
    assert "stress@" not in dvc(repo_with(tmp_path / "off", []), "stage", "list")
    repo = repo_with(tmp_path / "on", ["synthetic-2d"])
    assert "stress@synthetic-2d" in dvc(repo, "stage", "list")
    for dep in ("data/prepared/synthetic-2d", "benchmark", "baselines"):  # what the stage needs to exist
        (repo / dep).mkdir(parents=True)
        (repo / dep / "x").write_text("x")
    dry = dvc(repo, "repro", "--dry", "--single-item", "stress@synthetic-2d")
    cmd = next(line for line in dry.splitlines() if "segrepro stress" in line)
    args = yaml.safe_load((ROOT / "params.yaml").read_text())["stress"]["args"]
    ids = args["baseline"]
    assert f"--baseline {' '.join(ids)} " in cmd and f"--ratios {args['ratios']} --tier quick" in cmd
    assert len(ids) == 7 and {get_baseline(i).paper for i in ids} == {"000"}
    ratios = sorted(t.ratio for t in parse_ratios(args["ratios"], 4))
    assert len(ratios) >= 5 and ratios[0] <= 1e-3 and ratios[-1] >= 1
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["stress"]["do"]
    assert stage["outs"] == [{"results/reference/stress/${item}": {"cache": False}}]
