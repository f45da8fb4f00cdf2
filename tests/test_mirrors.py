"""The suite on a machine without the local mirror folder: every test that needs it skips, none fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mirrors import ENV

TESTS = Path(__file__).resolve().parent


@pytest.mark.slow
def test_modules_using_the_mirror_pass_without_it(tmp_path):
    users = sorted(
        str(p) for p in TESTS.rglob("test_*.py") if p != Path(__file__) and "from mirrors import" in p.read_text()
    )
    assert len(users) >= 4  # urocell, fetch, drosophila-vnc, stress
    env = {**os.environ, ENV: str(tmp_path / "no-mirror"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-rs", "-p", "no:cacheprovider", *users],
        cwd=TESTS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"needs the local mirror folder {tmp_path / 'no-mirror'}" in done.stdout
