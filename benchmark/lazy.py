"""A callable named by its import path and imported on first call.

Entries are data: registering one (and so ``segrepro baselines list``) must not import torch, MONAI
or a network. An entry names its model and loss factories as ``Lazy("package.module:attr", ...)``;
the module is imported only when a model or loss is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from segrepro.errors import UserError


class Lazy:
    """``Lazy("pkg.mod:attr", *args, **kwargs)(*more, **kw)`` calls ``attr(*args, *more, **kwargs, **kw)``
    after importing ``pkg.mod`` (like ``functools.partial`` of an object not imported yet)."""

    __slots__ = ("args", "kwargs", "target")

    def __init__(self, target: str, *args: Any, **kwargs: Any) -> None:
        module, sep, attr = target.partition(":")
        if not (module and sep and attr):
            raise ValueError(f"Lazy target must be 'package.module:attr', not {target!r}")
        self.target = target
        self.args = args
        self.kwargs = kwargs

    def resolve(self) -> Callable[..., Any]:
        """The named object (imports its module); a name that does not resolve is a one-line ``UserError``."""
        module, _, attr = self.target.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise UserError(f"cannot load {self.target!r}: {exc}") from exc
        return obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*self.args, *args, **{**self.kwargs, **kwargs})

    def __repr__(self) -> str:
        given = [repr(self.target), *map(repr, self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())]
        return f"Lazy({', '.join(given)})"
