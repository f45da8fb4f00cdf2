"""The package builds without setuptools warnings and installs its schemas (read via importlib.resources)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "benchmark", "datasets", "baselines", "leaderboard")


@pytest.mark.slow
def test_wheel_builds_quietly_and_ships_the_schemas(tmp_path):
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the checkout
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(REPO / name, src / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-v", "-w", tmp_path],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    assert "would be ignored" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("segrepro-*.whl")
    schemas = sorted(p.name for p in (REPO / "benchmark" / "schemas").glob("*.json"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
    # -S: no site-packages, so segrepro is the wheel's copy, not this checkout's editable install.
    read = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            "import sys; from importlib.resources import files; d = files('segrepro').joinpath('schemas'); "
            "print(*sorted(p.name for p in d.iterdir() if p.name.endswith('.json')), "
            "d.joinpath(sys.argv[1]).read_text()[:1], files('segrepro'))",
            schemas[0],
        ],
        env={"PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
    )
    assert read.returncode == 0, read.stderr
    *names, first_char, where = read.stdout.split()
    assert names == schemas and first_char == "{" and where.startswith(str(tmp_path / "site"))
