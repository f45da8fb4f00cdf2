"""Atomic file writes: a result is either complete on disk or absent, never half-written.

Files and folders are created with the permissions the umask allows (like ``open`` and ``mkdir``),
not the private 0600/0700 of ``tempfile``, so a shared results folder stays readable by the group.
A full disk (or quota) while writing is a one-line ``UserError`` naming the folder.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from segrepro.errors import UserError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def no_space_error(folder: Path | str) -> UserError:
    """The one-line error for a full disk while writing into ``folder``."""
    return UserError(
        f"{folder}: no space left on the device; nothing was kept. Free some space (or point "
        "SEGREPRO_DATA_DIR / SEGREPRO_RESULTS_DIR at another disk) and run the command again"
    )


@contextmanager
def writing_into(folder: Path) -> Iterator[None]:
    """Turn a full disk or quota (ENOSPC, EDQUOT) inside the block into ``no_space_error(folder)``."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_SPACE:
            raise no_space_error(folder) from exc
        raise


def _fresh(final: Path, suffix: str, make: Callable[[Path], None]) -> Path:
    """A new, uniquely named file or folder beside ``final``, made by ``make`` with the kernel
    applying the umask (``tempfile`` would make it private: 0600 or 0700)."""
    try:
        with writing_into(final.parent):
            final.parent.mkdir(parents=True, exist_ok=True)
            while True:
                candidate = final.with_name(f".{final.name}.{secrets.token_hex(4)}{suffix}")
                try:
                    make(candidate)
                    return candidate
                except FileExistsError:
                    continue
    except OSError as exc:  # not a full disk (that is a UserError already): e.g. a read-only folder
        raise UserError(f"cannot write to {final.parent}: {exc.strerror}") from exc


def _tmp_beside(path: Path) -> Path:
    return _fresh(path, ".tmp", lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)))


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; it replaces ``path`` only if the block succeeds."""
    tmp = _tmp_beside(path)
    try:
        with writing_into(path.parent):
            yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    with _atomic(path) as tmp:
        tmp.write_text(text)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with _atomic(path) as tmp:
        tmp.write_bytes(data)


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=True) + "\n")


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
    return _fresh(final, ".partial", lambda p: p.mkdir())


@contextmanager
def new_folders_removed_on_error(root: Path) -> Iterator[None]:
    """If the block fails, remove the folders it created at or under ``root`` (and the missing
    parents of ``root`` it created) that are left empty; files and older folders are kept."""
    missing = [p for p in (root, *root.parents) if not p.exists()]
    before = {p for p in root.rglob("*") if p.is_dir()} if root.is_dir() else set()
    try:
        yield
    except BaseException:
        if root.is_dir():
            for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                if folder not in before and not any(folder.iterdir()):
                    folder.rmdir()
        for folder in missing:  # deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
