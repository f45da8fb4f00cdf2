"""Verified fetch: download each source file (or copy it from a local mirror), check its sha256,
and only then move it into place. A partial or corrupted file is never left where it could be used."""

from __future__ import annotations

import hashlib
import shutil
import urllib.request
from pathlib import Path

from tqdm import tqdm

from segrepro.datasets.card import DatasetCard, SourceFile
from segrepro.errors import UserError


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_sources(card: DatasetCard, raw_dir: Path, mirror: Path | None = None) -> None:
    """Bring every source of ``card`` into ``raw_dir``, verified; files already verified are kept."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for src in tqdm(card.sources, desc=f"fetch {card.name}", unit="file"):
        dest = raw_dir / src.path
        if dest.exists() and src.sha256 and sha256_of(dest) == src.sha256:
            continue
        _fetch_one(src, dest, mirror)


def _fetch_one(src: SourceFile, dest: Path, mirror: Path | None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        if mirror is not None:
            origin = mirror / src.path
            if not origin.exists():
                raise UserError(f"{origin}: not in the mirror (expected the upstream layout)")
            shutil.copyfile(origin, part)
        else:
            try:
                with urllib.request.urlopen(src.url, timeout=60) as resp, open(part, "wb") as out:
                    shutil.copyfileobj(resp, out, 1 << 20)
            except OSError as exc:
                raise UserError(f"{src.url}: download failed ({exc}); retry, or use --mirror DIR") from exc
        got = sha256_of(part)
        if src.sha256 is not None and got != src.sha256:
            raise UserError(f"{src.path}: checksum mismatch, expected sha256 {src.sha256}, got {got}")
        part.replace(dest)
    finally:
        part.unlink(missing_ok=True)
