"""The suite on a machine without the local mirror folder: every test that needs it skips, naming the folder.

Tests reach real data only through the ``mirror`` fixture, which marks them ``mirror``; so it is enough to
run the marked tests without the mirror (all skip at once) and to check that no test module reaches the
mirror by another way.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mirrors import ENV

TESTS = Path(__file__).resolve().parent
HELPERS = {TESTS / "mirrors.py", TESTS / "conftest.py", Path(__file__)}


def test_only_the_mirror_fixture_reaches_the_mirror():
    sources = [p for p in TESTS.rglob("*.py") if p not in HELPERS]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for way in ("from mirrors import", "import mirrors", "SEGREPRO_TEST_MIRROR", '"shared"', "shared/data"):
            assert way not in text, f"{path.relative_to(TESTS)} reaches the mirror through {way!r}: use the fixture"
    users = [p for p in sources if p.name.startswith("test_") and "mirror(" in p.read_text(encoding="utf-8")]
    assert len(users) >= 5  # stress, drosophila-vnc (2-D, 3-D), fetch, urocell, zerovnik2020


@pytest.mark.slow
def test_tests_that_need_the_mirror_skip_without_it(tmp_path):
    empty = tmp_path / "no-mirror"
    empty.mkdir()
    env = {**os.environ, ENV: str(empty)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "mirror", "-rs", "-p", "no:cacheprovider", str(TESTS)],
        cwd=TESTS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert "passed" not in summary and "failed" not in summary and "error" not in summary, summary
    skipped = int(summary.split(" skipped")[0].split()[-1])
    assert skipped >= 10, summary  # the real-data tests of six modules, slow ones included (13 now)
    for name in ("drosophila-vnc", "urocell-labels"):
        assert f"needs the local mirror folder {empty / name}" in done.stdout
