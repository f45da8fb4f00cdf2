"""The baseline registry (decorator for this repo, ``segrepro.baselines`` entry points for others).

Built-in entries are found, not listed: every module named ``entries`` in ``segrepro.baselines`` or
one of its subpackages (one per paper package) is imported on first lookup. Entry modules are data:
they name their model and loss factories with ``segrepro.lazy.Lazy`` and import no torch.
"""

from __future__ import annotations

from collections.abc import Callable

from segrepro.entry import BaselineEntry
from segrepro.registry import Registry

BASELINES: Registry[BaselineEntry] = Registry(
    "baseline", "segrepro.baselines", package="segrepro.baselines", entry_module="entries"
)


def register_baseline(entry_id: str) -> Callable[[Callable[[], BaselineEntry]], Callable[[], BaselineEntry]]:
    """Decorate a zero-argument factory returning the ``BaselineEntry`` registered as ``entry_id``."""

    def wrap(factory: Callable[[], BaselineEntry]) -> Callable[[], BaselineEntry]:
        entry = factory()
        if entry.id != entry_id:
            raise ValueError(f"entry id {entry.id!r} does not match its registration {entry_id!r}")
        BASELINES.register(entry_id, entry, factory.__module__)
        return factory

    return wrap


def get_baseline(entry_id: str) -> BaselineEntry:
    return BASELINES.get(entry_id)
