"""A disk that really fills up, for the disk-full tests: a 1 MiB tmpfs (root only; skips otherwise)."""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_tmpfs(mountpoint: Path) -> Iterator[Path]:
    """Mount a 1 MiB tmpfs at ``mountpoint`` for the block; skip the test where that is not allowed."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("needs `mount` to make a 1 MiB tmpfs that fills up")
    cmd = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"needs a 1 MiB tmpfs that fills up; mount failed: {done.stderr.strip() or done.returncode}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(disk: Path) -> None:
    """Use up every free byte of ``disk`` with a file named ``filler``."""
    with open(disk / "filler", "wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 4096):
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def only_filler_left(disk: Path) -> bool:
    return sorted(p.name for p in disk.iterdir()) == ["filler"]
