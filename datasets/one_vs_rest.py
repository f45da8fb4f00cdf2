"""One class of a prepared dataset against all the others: a binary view for the class-ratio stress test
on real data (``segrepro stress --foreground mitochondria``).

On a real dataset the other foreground classes are part of what a rare class competes with, so the
stress test can only move one class's share by resampling tiles: keeping every class would leave the
commonest foreground class (e.g. Drosophila VNC's intracellular space, 60 % of the pixels) in the
"foreground" and the ratio far from the rare end. The view relabels on read (class ``CLASS`` -> 1, every
other class -> 0, named ``rest``); masks and images are the prepared ones, and the data hash names the
foreground, so checkpoints and records of the view never pass for the full dataset's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segrepro.datasets.prepared import PreparedDataset
from segrepro.errors import UserError

REST = "rest"


@dataclass
class OneVsRest(PreparedDataset):
    """``base`` read with ``foreground`` as class 1 and every other class as class 0 (``rest``)."""

    foreground: str = ""

    @property
    def class_names(self) -> list[str]:
        return [REST, self.foreground]

    @property
    def n_classes(self) -> int:
        return 2

    @property
    def data_hash(self) -> str:
        return f"{super().data_hash}+foreground={self.foreground}"

    @property
    def has_instances(self) -> bool:
        return False  # instance labels describe the full dataset's objects, not the view's class

    def load_instances(self, volume_id: str) -> None:
        return None

    def load(self, volume_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, label, mask = super().load(volume_id)
        return image, (np.asarray(label) == self._index).astype(np.uint8), mask

    @property
    def _index(self) -> int:
        return super().class_names.index(self.foreground)


def one_vs_rest(data: PreparedDataset, foreground: str) -> OneVsRest:
    """The binary view of ``data`` with ``foreground`` (a class name other than the background, class 0)."""
    names = data.class_names
    if foreground not in names:
        raise UserError(f"{data.name} has no class {foreground!r}; its classes are {', '.join(names)}")
    if names.index(foreground) == 0:
        others = ", ".join(names[1:])
        raise UserError(f"{foreground!r} is {data.name}'s class 0 (its background); choose one of {others}")
    return OneVsRest(data.name, data.root, foreground)
