"""The package list is found, not written: a wheel built from a copy of the source tree holds every
module and data file of the four mapped folders, including a subpackage added without any edit."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {"benchmark": "segrepro", "datasets": "segrepro/datasets", "baselines": "segrepro/baselines"}
FOLDERS["leaderboard"] = "segrepro/leaderboard"
SHIPPED = (".py", ".json", ".csv")


def expected_files(src: Path) -> set[str]:
    return {
        f"{prefix}/{path.relative_to(src / folder).as_posix()}"
        for folder, prefix in FOLDERS.items()
        for path in (src / folder).rglob("*")
        if path.suffix in SHIPPED and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_wheel_holds_every_module_and_data_file_and_new_packages(tmp_path):
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in FOLDERS:
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    new = src / "baselines" / "newpaper2030"  # a paper package added by a contributor: no list to edit
    new.mkdir()
    (new / "__init__.py").write_text('"""A new paper."""\n')
    (new / "entries.py").write_text('"""Its entries."""\n')
    pip = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*pip, "-w", str(tmp_path)], check=True, capture_output=True, cwd=src)
    (wheel,) = tmp_path.glob("segrepro-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = expected_files(src)
    assert "segrepro/baselines/newpaper2030/entries.py" in expected
    assert "segrepro/schemas/run_record.schema.json" in expected
    assert expected <= names, sorted(expected - names)
