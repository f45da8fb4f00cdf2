"""Where the tests find the local mirror folder of real data, which is not part of the repository.

The folder holds one subfolder per dataset in its upstream layout (``drosophila-vnc/``,
``urocell-labels/``). It is ``SEGREPRO_TEST_MIRROR`` when set, else ``shared/data`` beside the
clone (where CI keeps it). A test that needs it skips, naming the folder, when it is absent; point
the variable at an empty folder to run the suite as a machine without the mirror does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV = "SEGREPRO_TEST_MIRROR"
ROOT = Path(os.environ.get(ENV) or Path(__file__).resolve().parents[2] / "shared" / "data")


def mirror_path(name: str) -> Path:
    """The mirror of dataset ``name`` (which may not exist: guard its tests with ``needs_mirror``)."""
    return ROOT / name


def needs_mirror(name: str) -> pytest.MarkDecorator:
    """Skip unless the local mirror folder of ``name`` is there; the reason names the folder."""
    path = mirror_path(name)
    return pytest.mark.skipif(
        not path.is_dir(), reason=f"needs the local mirror folder {path} (set {ENV} to the folder holding {name}/)"
    )
