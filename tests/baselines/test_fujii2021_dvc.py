"""The paper 001 reproduction stage: absent from the default `dvc repro`, present per id when selected."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def stage_list(tmp_path: Path, baselines: list[str]) -> str:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    shutil.copy(ROOT / "dvc.yaml", repo)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["reproduce_fujii2021"]["baselines"] = baselines
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=repo, check=True)
    out = subprocess.run([sys.executable, "-m", "dvc", "stage", "list"], cwd=repo, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_reproduction_is_off_by_default_and_one_stage_per_selected_id(tmp_path):
    defaults = yaml.safe_load((ROOT / "params.yaml").read_text())["reproduce_fujii2021"]
    assert defaults["baselines"] == []
    assert "reproduce-fujii2021" not in stage_list(tmp_path / "off", [])
    ids = ["fujii2021-unet-sce-iou", "fujii2021-xnet-sce-and-iou"]
    listed = stage_list(tmp_path / "on", ids)
    for entry_id in ids:
        assert f"reproduce-fujii2021@{entry_id}" in listed
