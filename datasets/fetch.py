"""Verified fetch: download each source file (or copy it from a local mirror), check its sha256,
and only then move it into place. A partial or corrupted file is never left where it could be used.

A source whose checksum cannot be known in advance (``SourceFile.sha256 is None``) is pinned at its
first fetch: the observed sha256 is recorded in ``<raw_dir>/PINNED_SHA256SUMS`` (``sha256sum``
format) and every later fetch is verified against it. Before pinning, a ``.gz`` file must be a
complete gzip stream and an HTTP download must have the length the server announced, so a
truncated first download is never pinned.
"""

from __future__ import annotations

import gzip
import http.client
import shutil
import urllib.request
from pathlib import Path

from tqdm import tqdm

from segrepro.datasets.card import DatasetCard, SourceFile
from segrepro.datasets.checksums import sha256_of
from segrepro.errors import UserError
from segrepro.io import NO_SPACE, write_text_atomic, writing_into

PINNED = "PINNED_SHA256SUMS"


def read_pinned(raw_dir: Path) -> dict[str, str]:
    """The checksums pinned at earlier fetches, ``{path: sha256}``."""
    path = raw_dir / PINNED
    if not path.exists():
        return {}
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            pins[name.strip()] = digest.strip()
    return pins


def fetch_sources(card: DatasetCard, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
    """Bring every source of ``card`` into ``raw_dir``, verified; files already verified are kept.

    ``mirror`` is a local folder in the upstream layout; ``base_url`` an HTTP(S) folder in the
    upstream layout that replaces the card's URLs; with neither, the card's URLs are used.
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    pinned = read_pinned(raw_dir)
    for src in tqdm(card.sources, desc=f"fetch {card.name}", unit="file"):
        expected = src.sha256 or pinned.get(src.path)
        dest = raw_dir / src.path
        if dest.exists():
            if expected and sha256_of(dest) == expected:
                continue
            dest.unlink()  # unverified or stale: never left where prepare could read it
        with writing_into(dest.parent):
            got = _fetch_one(src, dest, mirror, base_url, expected)
        if expected is None:
            pinned[src.path] = got
            text = "".join(f"{digest}  {name}\n" for name, digest in sorted(pinned.items()))
            write_text_atomic(raw_dir / PINNED, text)


def verify_sources(card: DatasetCard, raw_dir: Path) -> None:
    """Check every fetched source file with a known checksum (the card's, or pinned at its first
    fetch) before it is read; a changed file is a one-line error saying how to fetch it again."""
    pinned = read_pinned(raw_dir)
    checked = [(raw_dir / s.path, s.sha256 or pinned.get(s.path)) for s in card.sources]
    for path, expected in tqdm(checked, desc=f"verify {card.name}", unit="file", leave=False, disable=not checked):
        if expected is None or not path.is_file():
            continue  # never fetched: the adapter names the missing file
        got = sha256_of(path)
        if got != expected:
            raise UserError(
                f"{path}: sha256 {got}, expected {expected}: changed since it was fetched; "
                f"run: segrepro datasets fetch {card.name}"
            )


def _fetch_one(src: SourceFile, dest: Path, mirror: Path | None, base_url: str | None, expected: str | None) -> str:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        if mirror is not None:
            origin = str(mirror / src.path)
            if not (mirror / src.path).is_file():
                raise UserError(f"{origin}: not in the mirror (expected the upstream layout)")
            shutil.copyfile(mirror / src.path, part)
        else:
            origin = f"{base_url.rstrip('/')}/{src.path}" if base_url else src.url
            _download(origin, part)
        got = sha256_of(part)
        if expected is not None and got != expected:
            raise UserError(
                f"{src.path}: checksum mismatch (from {origin}): expected sha256 {expected}, got {got}; not used"
            )
        if expected is None:
            _check_complete(part, src.path)
        part.replace(dest)
        return got
    finally:
        part.unlink(missing_ok=True)


def _download(url: str, part: Path) -> None:
    """Stream ``url`` into ``part``; a short body (fewer bytes than Content-Length) is an error."""
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(part, "wb") as out:
            announced = resp.headers.get("Content-Length")
            shutil.copyfileobj(resp, out, 1 << 20)
    except (OSError, http.client.HTTPException) as exc:
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            raise  # a full disk here, not a failed download: writing_into names the folder
        raise UserError(f"{url}: download failed ({exc}); retry, or use --source DIR") from exc
    size = part.stat().st_size
    if announced is not None and size != int(announced):
        raise UserError(f"{url}: incomplete download ({size} of {announced} bytes); not used, retry")


def _check_complete(part: Path, name: str) -> None:
    """A file about to be pinned must at least be complete: a ``.gz`` must decompress to its end."""
    if not name.endswith(".gz"):
        return
    try:
        with gzip.open(part, "rb") as f:
            while f.read(1 << 20):
                pass
    except (OSError, EOFError) as exc:
        raise UserError(f"{name}: not a complete gzip file ({exc}); not used, retry") from exc
