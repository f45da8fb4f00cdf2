"""The baseline registry (decorator for this repo, ``segrepro.baselines`` entry points for others)."""

from __future__ import annotations

from collections.abc import Callable

from segrepro.entry import BaselineEntry
from segrepro.registry import Registry

BASELINES: Registry[BaselineEntry] = Registry(
    "baseline",
    "segrepro.baselines",
    builtin_modules=(
        "segrepro.baselines.monai_unet",
        "segrepro.baselines.fujii2021.entries",
        "segrepro.baselines.meyer2021.entries",
        "segrepro.baselines.yudistira2020",
    ),
)


def register_baseline(entry_id: str) -> Callable[[Callable[[], BaselineEntry]], Callable[[], BaselineEntry]]:
    """Decorate a zero-argument factory returning the ``BaselineEntry`` registered as ``entry_id``."""

    def wrap(factory: Callable[[], BaselineEntry]) -> Callable[[], BaselineEntry]:
        entry = factory()
        if entry.id != entry_id:
            raise ValueError(f"entry id {entry.id!r} does not match its registration {entry_id!r}")
        BASELINES.register(entry_id, entry)
        return factory

    return wrap


def get_baseline(entry_id: str) -> BaselineEntry:
    return BASELINES.get(entry_id)
