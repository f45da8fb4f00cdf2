"""Checksums of files: sha256 for fetched sources, and per-file records of a prepared dataset.

A prepared dataset keeps, for each of its files, the size, mtime and sha256 seen when it was
written (``meta.json``'s ``files``). Checking them before a run costs a ``stat`` per file; only a
file whose size or mtime changed since is hashed again, so corruption is caught without re-reading
gigabytes on every run (a change that keeps both size and mtime is not seen by that fast path).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_record(path: Path, digest: str) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}


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


def file_problem(path: Path, record: dict[str, Any]) -> str | None:
    """What is wrong with ``path`` against its ``file_record``, or None when it is intact."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "missing"
    if st.st_size != record["size"]:
        return f"{st.st_size} bytes, {record['size']} when prepared (truncated or changed)"
    if st.st_mtime_ns == record["mtime_ns"]:
        return None
    got = sha256_of(path)
    return None if got == record["sha256"] else f"sha256 {got}, {record['sha256']} when prepared (corrupted)"
