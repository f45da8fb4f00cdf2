"""One generic registry used for baselines and datasets.

Strict on purpose (lessons from timm and lm-evaluation-harness): duplicate names raise, unknown
names answer with the known ones and a "did you mean", and outside packages register through an
entry-point group that is loaded lazily on first lookup.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from segrepro.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps ids to items; ``kind`` names the items in messages ("baseline", "dataset")."""

    def __init__(self, kind: str, entry_point_group: str, builtin_modules: tuple[str, ...]) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._builtin_modules = builtin_modules
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str, item: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} id {name!r} is registered twice")
        self._items[name] = item
        return item

    def decorator(self, name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
        """Register the value returned by the decorated zero-argument factory under ``name``."""

        def wrap(factory: Callable[[], T]) -> Callable[[], T]:
            self.register(name, factory())
            return factory

        return wrap

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        import importlib

        for module in self._builtin_modules:
            importlib.import_module(module)
        for ep in entry_points(group=self.entry_point_group):
            try:
                ep.load()
            except Exception as exc:  # an outside package must not break the whole registry
                raise UserError(f"could not load {self.kind} plugin {ep.name!r} ({ep.value}): {exc}") from exc

    def get(self, name: str) -> T:
        self._load()
        if name not in self._items:
            known = sorted(self._items)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(known)}")
        return self._items[name]

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __iter__(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items
