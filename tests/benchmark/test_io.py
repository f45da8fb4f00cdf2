"""The atomic writers: files and folders honour the umask, and a full disk during run, aggregate,
datasets prepare and datasets fetch is a one-line error naming the folder, with nothing half-written
and no empty folders left behind (a real full disk: a 1 MiB tmpfs, where this machine allows one)."""

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from disks import fill, only_filler_left
from PIL import Image

from segrepro.cli import main
from segrepro.errors import UserError
from segrepro.io import staging_dir, write_json_atomic, write_text_atomic

REFERENCE_RUNS = Path(__file__).resolve().parents[2] / "results" / "reference" / "runs"
NO_SPACE = "no space left on the device; nothing was kept"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """``umask(mask)`` sets the process umask for this test only."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o002, 0o664, 0o775), (0o022, 0o644, 0o755)])
def test_files_and_folders_honour_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    write_json_atomic(tmp_path / "runs" / "r.json", {"a": 1})
    assert mode(tmp_path / "runs" / "r.json") == file_mode
    assert mode(staging_dir(tmp_path / "prepared" / "x")) == dir_mode


def test_prepared_data_and_run_records_are_group_readable_under_umask_002(workdir, umask):
    umask(0o002)
    assert main(["datasets", "prepare", "synthetic-2d"]) == 0
    prepared = workdir / "data" / "prepared" / "synthetic-2d"
    assert mode(prepared) == 0o775 and mode(prepared / "images") == 0o775
    assert {mode(p) for p in prepared.rglob("*") if p.is_file()} == {0o664}


def last_line(err: str) -> str:
    """The error line, after any progress bars."""
    line = err.strip().splitlines()[-1].split("\r")[-1]
    assert line.startswith("segrepro: error: "), err
    return line


def test_full_disk_keeps_the_old_file_and_leaves_no_temporary(small_disk):
    target = small_disk / "record.json"
    write_text_atomic(target, "old")
    fill(small_disk)
    with pytest.raises(UserError, match=f"^{small_disk}: {NO_SPACE}") as info:
        write_text_atomic(target, "x" * 100_000)
    assert "\n" not in str(info.value)
    assert target.read_text() == "old"
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "record.json"]


@pytest.mark.skipif(not REFERENCE_RUNS.is_dir(), reason=f"needs the committed run records in {REFERENCE_RUNS}")
def test_aggregate_on_a_full_disk(small_disk, capsys):
    fill(small_disk)
    assert main(["aggregate", "--runs", str(REFERENCE_RUNS), "--out", str(small_disk)]) == 2
    assert NO_SPACE in last_line(capsys.readouterr().err)
    assert only_filler_left(small_disk)


def test_prepare_on_a_full_disk(small_disk, monkeypatch, capsys):
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(small_disk / "data"))
    assert main(["datasets", "prepare", "synthetic-2d"]) == 2  # 1.6 MB of arrays on a 1 MiB disk
    line = last_line(capsys.readouterr().err)
    assert line == f"segrepro: error: {small_disk / 'data' / 'prepared'}: {NO_SPACE}. " + line.split(". ", 1)[1]
    assert not any(small_disk.iterdir())  # no staging folder, no empty data/prepared


def test_bring_your_own_fetch_on_a_full_disk(small_disk, tmp_path, monkeypatch, capsys):
    src = tmp_path / "mine"  # Lucchi++'s layout: PNG slices, labels 0/255
    rng = np.random.default_rng(0)
    for part in ("Train", "Test"):
        for sub, values in (("In", (0, 256)), ("Out", (0, 2))):
            (src / f"{part}_{sub}").mkdir(parents=True)
            for z in range(4):
                arr = rng.integers(*values, size=(12, 16)).astype(np.uint8) * (255 if sub == "Out" else 1)
                Image.fromarray(arr).save(src / f"{part}_{sub}" / f"mask{z:04d}.png")
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(small_disk / "data"))
    fill(small_disk)
    assert main(["datasets", "fetch", "lucchi-pp", "--source", str(src)]) == 2
    assert f"{small_disk / 'data' / 'raw' / 'lucchi-pp'}: {NO_SPACE}" in last_line(capsys.readouterr().err)
    assert only_filler_left(small_disk)


@pytest.mark.slow
def test_run_on_a_full_disk(small_disk, workdir, monkeypatch, capsys):
    assert main(["datasets", "prepare", "synthetic-2d"]) == 0
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(small_disk / "results"))
    (small_disk / "results" / "runs").mkdir(parents=True)
    fill(small_disk)
    capsys.readouterr()
    assert main(["run", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--quiet"]) == 2
    assert f"{small_disk / 'results' / 'runs'}: {NO_SPACE}" in last_line(capsys.readouterr().err)
    assert not any((small_disk / "results" / "runs").iterdir())
