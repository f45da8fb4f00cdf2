"""Checksums of files: sha256 for fetched sources, and per-file records of a prepared dataset.

A prepared dataset's ``meta.json`` keeps each file's size and sha256 (``files``); it holds no
times, so preparing the same data twice gives the same ``meta.json`` (DVC's lock stays put).
Beside the prepared folder, ``.<name>.intact.json`` (the stamp) keeps each file's size and mtime
when it was last found intact. Checking before a run then costs a ``stat`` per file: only a file
whose size or mtime differs from the stamp is hashed again (a change that keeps both is not seen
by that fast path). The stamp is a cache: without it (or where it cannot be written) every file is
hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from segrepro.errors import UserError
from segrepro.io import write_json_atomic

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_record(path: Path, digest: str) -> dict[str, Any]:
    return {"size": path.stat().st_size, "sha256": digest}


def prepared_checksums(folder: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """``(data_hash, files)`` in one read of every array file.

    ``data_hash`` is the sha256 over every ``.npy`` file's relative path and bytes (the data identity
    each run records); ``files`` maps each relative path to ``file_record``.
    """
    total = hashlib.sha256()
    files = {}
    for path in sorted(folder.rglob("*.npy")):
        rel = path.relative_to(folder)
        total.update(str(rel).encode())
        one = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                total.update(chunk)
                one.update(chunk)
        files[rel.as_posix()] = file_record(path, one.hexdigest())
    return total.hexdigest(), files


def stat_key(path: Path | str) -> list[int]:
    """``[size, mtime_ns]`` of a file, as the stamp keeps it."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def file_problem(path: Path | str, record: dict[str, Any], seen: Any = None) -> tuple[str | None, list[int] | None]:
    """``(problem, stat_key)``: what is wrong with ``path`` against its ``file_record`` (None when it
    is intact); ``seen`` is its ``stat_key`` when last found intact, and then it is not read again."""
    try:
        key = stat_key(path)
    except FileNotFoundError:
        return "missing", None
    if key[0] != record["size"]:
        return f"{key[0]} bytes, {record['size']} when prepared (truncated or changed)", key
    if key == seen:
        return None, key
    got = sha256_of(Path(path))
    return (None if got == record["sha256"] else f"sha256 {got}, {record['sha256']} when prepared (corrupted)"), key


def stamp_path(root: Path) -> Path:
    return root.with_name(f".{root.name}.intact.json")


def read_stamp(root: Path) -> dict[str, Any]:
    """The stamp of the prepared folder ``root``, ``{relative path: stat_key}`` (empty if none)."""
    try:
        stamp = json.loads(stamp_path(root).read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def write_stamp(root: Path, stamp: dict[str, list[int]], old: dict[str, Any] | None = None) -> None:
    """Keep ``stamp`` (the ``stat_key`` of files just found intact) unless it equals ``old``; best
    effort, as it is only a cache."""
    if stamp == old:
        return
    with suppress(UserError, OSError):  # e.g. a read-only data folder: every file is hashed next time
        write_json_atomic(stamp_path(root), stamp)
