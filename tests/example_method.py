"""The example outside method (``examples/mylab-segmentation``) installed the way its author would, but into
a temporary target folder (``pip install --target``, offline, no build isolation) so that the test venv
stays as it is; commands that should see it run with that folder on ``PYTHONPATH``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mylab-segmentation"
ENTRY = "mylab-basicunet-dice"


def install(package: Path, target: Path) -> None:
    """``pip install`` a copy of ``package`` (pip builds in the source folder) into ``target``, offline."""
    source = target.parent / f"{package.name}-src"
    shutil.copytree(package, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--target", str(target), str(source)], check=True, capture_output=True)


def env_with(target: Path, root: Path) -> dict[str, str]:
    """The environment of a command that sees the package in ``target`` and keeps data/results under ``root``."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")])),
        "SEGREPRO_DATA_DIR": str(root / "data"),
        "SEGREPRO_RESULTS_DIR": str(root / "results"),
    }


def segrepro(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``segrepro ARGS`` as a user runs it, in ``cwd`` with ``env``."""
    command = [sys.executable, "-m", "segrepro.cli", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
