"""Atomic file writes: a result is either complete on disk or absent, never half-written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from segrepro.errors import UserError


def _tmp_beside(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UserError(f"cannot write to {path.parent}: {exc.strerror}") from exc
    os.close(fd)
    return Path(tmp)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = _tmp_beside(path)
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    tmp = _tmp_beside(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=True) + "\n")


def write_with_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write(file)`` into a temporary file beside ``path``, then move it into place."""
    tmp = _tmp_beside(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    write_with_atomic(path, lambda f: np.save(f, array))


def check_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there, before any long work: a ``UserError`` otherwise."""
    _tmp_beside(folder / "probe").unlink()


def replace_dir_atomic(staging: Path, final: Path) -> None:
    """Move a fully written ``staging`` directory to ``final``, replacing any older one."""
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old)


def staging_dir(final: Path) -> Path:
    """A fresh empty directory beside ``final`` to build it in."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    except OSError as exc:
        raise UserError(f"cannot write to {final.parent}: {exc.strerror}") from exc
