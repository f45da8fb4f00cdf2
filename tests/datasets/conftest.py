"""Fixtures for the adapter tests: small files in upstream layouts and a loopback HTTP server."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from segrepro.cli import main
from segrepro.datasets import PreparedDataset, get_dataset, load_prepared, urocell
from segrepro.datasets.checksums import sha256_of
from segrepro.datasets.urocell import VOLUMES as UROCELL_IDS


def _prepare_from_mirror(data: Path, name: str, mirror: Path) -> PreparedDataset:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPRO_DATA_DIR", str(data))
        assert main(["datasets", "fetch", name, "--mirror", str(mirror)]) == 0
        assert main(["datasets", "prepare", name]) == 0
    return load_prepared(name, data / "prepared" / name)


@pytest.fixture(scope="session")
def prepare_from_mirror() -> Callable[[Path, str, Path], PreparedDataset]:
    """``prepare_from_mirror(data, name, mirror)``: ``name`` fetched from ``mirror`` and prepared into the
    data folder ``data`` through the CLI."""
    return _prepare_from_mirror


def save_nifti(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The real files carry a meaningless zoom; so do these, to prove it is ignored.
    img = nib.Nifti1Image(arr, np.diag([5.76e7, 5.76e7, 5.76e7, 1.0]))
    nib.save(img, str(path))


def write_urocell(root: Path, shape: tuple[int, int, int] = (20, 18, 16), label_dtype: type = np.float32) -> dict:
    """Five small volumes in the UroCell layout (NIfTI ``(x, y, z)``); returns the arrays written.

    Each raw volume has a constant line along x at (y=0, z=0): an acquisition artefact.
    """
    written = {}
    for i, vid in enumerate(UROCELL_IDS):
        rng = np.random.default_rng(i)
        raw = rng.integers(0, 256, size=shape).astype(np.uint8)
        raw[:, 0, 0] = 7
        mito = np.zeros(shape, label_dtype)
        mito[2:8, 3:9, 4:10] = 1
        lyso = np.zeros(shape, label_dtype)
        lyso[12:16, 10:14, 2 : 4 + i] = 1
        save_nifti(root / "data" / f"{vid}.nii.gz", raw)
        save_nifti(root / "mito" / "binary" / f"{vid}.nii.gz", mito)
        save_nifti(root / "lyso" / "binary" / f"{vid}.nii.gz", lyso)
        written[vid] = (raw, mito, lyso)
    return written


@pytest.fixture
def nifti() -> Callable[[Path, np.ndarray], None]:
    """``nifti(path, array)`` writes a ``.nii.gz`` with a wrong zoom, like the UroCell files."""
    return save_nifti


@pytest.fixture
def pin_urocell(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """``pin_urocell(root)``: the UroCell card's label checksums (of new adapters and of the registered
    one) become those of the label files under ``root``, as if those were upstream's; undone after the test."""

    def pin(root: Path) -> None:
        monkeypatch.setattr(urocell, "LABEL_SHA256", {rel: sha256_of(root / rel) for rel in urocell.LABEL_SHA256})
        registered = get_dataset("urocell")
        monkeypatch.setattr(registered, "card", replace(registered.card, sources=urocell.sources()))

    return pin


@pytest.fixture
def urocell_layout(pin_urocell: Callable[[Path], None]) -> Callable[..., dict]:
    """``urocell_layout(root, shape=..., label_dtype=..., pin=True)`` writes five small volumes (see
    ``write_urocell``) and, with ``pin``, points the card's label checksums at them (``pin_urocell``)."""

    def write(root: Path, *args: object, pin: bool = True, **kwargs: object) -> dict:
        written = write_urocell(root, *args, **kwargs)
        if pin:
            pin_urocell(root)
        return written

    return write


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    """``serve(folder)`` -> base URL of a loopback HTTP server for ``folder`` (stopped after the test)."""
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path, handler: type[SimpleHTTPRequestHandler] = _QuietHandler) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
