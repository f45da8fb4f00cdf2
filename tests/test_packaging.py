"""The package list is found, not written, and the build is quiet: a wheel built from a copy of the source
tree holds every module and data file of the four mapped folders (including a subpackage added without any
edit), setuptools warns about nothing, and the installed schemas are readable via importlib.resources."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {
    "benchmark": "segrepro",
    "datasets": "segrepro/datasets",
    "baselines": "segrepro/baselines",
    "leaderboard": "segrepro/leaderboard",
}
SHIPPED = (".py", ".json", ".csv")


def expected_files(src: Path) -> set[str]:
    return {
        f"{prefix}/{path.relative_to(src / folder).as_posix()}"
        for folder, prefix in FOLDERS.items()
        for path in (src / folder).rglob("*")
        if path.suffix in SHIPPED and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_wheel_holds_everything_builds_quietly_and_ships_readable_schemas(tmp_path):
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in FOLDERS:
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    new = src / "baselines" / "newpaper2030"  # a paper package added by a contributor: no list to edit
    new.mkdir()
    (new / "__init__.py").write_text('"""A new paper."""\n')
    (new / "entries.py").write_text('"""Its entries."""\n')
    pip = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-v"]
    build = subprocess.run([*pip, "-w", str(tmp_path)], capture_output=True, text=True, cwd=src, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    assert "would be ignored" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("segrepro-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    expected = expected_files(src)
    assert "segrepro/baselines/newpaper2030/entries.py" in expected
    assert "segrepro/schemas/run_record.schema.json" in expected
    assert expected <= names, sorted(expected - names)
    schemas = sorted(p.name for p in (REPO / "benchmark" / "schemas").glob("*.json"))
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
    *found, first_char, where = read.stdout.split()
    assert found == schemas and first_char == "{" and where.startswith(str(tmp_path / "site"))
