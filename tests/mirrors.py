"""Where the tests find the local mirror folder of real data, which is not part of the repository.

The folder holds one subfolder per dataset in its upstream layout (``drosophila-vnc/``,
``urocell-labels/``). It is ``SEGREPRO_TEST_MIRROR`` when set, else ``shared/data`` beside the
clone (where CI keeps it). Tests reach it only through the ``mirror`` fixture (``tests/conftest.py``),
which skips the test, naming the folder, when the dataset is absent; point the variable at an empty
folder to run the suite as a machine without the mirror does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "SEGREPRO_TEST_MIRROR"
ROOT = Path(os.environ.get(ENV) or Path(__file__).resolve().parents[2] / "shared" / "data")


def mirror_folder(name: str) -> Path:
    """The mirror of dataset ``name``; skips the calling test where it is absent."""
    path = ROOT / name
    if not path.is_dir():
        pytest.skip(f"needs the local mirror folder {path} (set {ENV} to the folder holding {name}/)")
    return path
