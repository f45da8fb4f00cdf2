"""One generic registry used for baselines and datasets.

Strict on purpose (lessons from timm and lm-evaluation-harness): duplicate names raise, names are
checked slugs (they become file names), unknown names answer with the known ones and a "did you
mean". Built-in items are discovered, never listed by hand: on first lookup the registry imports the
modules of its package (a ``pkgutil`` walk; only the modules named ``entry_module`` when given), then
the outside packages of its entry-point group.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from segrepro.errors import UserError
from segrepro.paths import check_slug

T = TypeVar("T")


def _reraise(name: str) -> None:
    """``walk_packages`` calls this inside its ``except``: a subpackage that fails to import is an
    error, not silently a package without entries."""
    raise


def discover_modules(package: str, entry_module: str | None = None) -> list[str]:
    """Dotted names of the modules under ``package`` (only those whose last part is ``entry_module``
    when given), sorted. Walking imports the subpackages' ``__init__`` files, not the modules."""
    root = importlib.import_module(package)
    found = pkgutil.walk_packages(root.__path__, f"{package}.", onerror=_reraise)
    return sorted(m.name for m in found if entry_module is None or m.name.rsplit(".", 1)[-1] == entry_module)


class Registry(Generic[T]):
    """Maps ids to items; ``kind`` names the items in messages ("baseline", "dataset").

    ``package`` (with ``entry_module``) says where the built-in items are discovered; ``None`` for a
    registry filled by hand (tests)."""

    def __init__(
        self, kind: str, entry_point_group: str, package: str | None = None, entry_module: str | None = None
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.package = package
        self.entry_module = entry_module
        self._items: dict[str, T] = {}
        self._origins: dict[str, str | None] = {}
        self._discovered: list[str] = []
        self._loaded = False

    def register(self, name: str, item: T, module: str | None = None) -> T:
        """Add ``item`` as ``name``; ``module`` is the module that registers it (see ``modules``)."""
        check_slug(name, f"{self.kind} id")
        if name in self._items:
            raise ValueError(f"{self.kind} id {name!r} is registered twice")
        self._items[name] = item
        self._origins[name] = module
        return item

    def decorator(self, name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
        """Register the value returned by the decorated zero-argument factory under ``name``."""

        def wrap(factory: Callable[[], T]) -> Callable[[], T]:
            self.register(name, factory(), factory.__module__)
            return factory

        return wrap

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._discovered = discover_modules(self.package, self.entry_module) if self.package else []
        for module in self._discovered:
            importlib.import_module(module)
        for ep in entry_points(group=self.entry_point_group):
            try:
                ep.load()
            except Exception as exc:  # an outside package must not break the whole registry
                raise UserError(f"could not load {self.kind} plugin {ep.name!r} ({ep.value}): {exc}") from exc

    def modules(self) -> dict[str, list[str]]:
        """Each discovered built-in module and the ids registered by factories defined in it."""
        self._load()
        return {m: sorted(n for n, origin in self._origins.items() if origin == m) for m in self._discovered}

    def origin(self, name: str) -> str | None:
        """The module that registered ``name`` (None for an item registered by hand)."""
        self.get(name)
        return self._origins[name]

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
