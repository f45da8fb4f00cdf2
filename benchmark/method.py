"""Entries that are not networks: a ``Method`` that fits on a fold's prepared training cases and predicts
class probabilities (paper 003's ilastik-style random forest).

Network entries train through ``fit.train_model`` and predict through ``inference.predict_volume``; an
entry whose ``method`` is set goes through ``fit_method`` and ``method_prediction`` instead and otherwise
shares everything: run ids, the preprocessing and target hooks, masks, the checkpoint file (its provenance
fields, with the fitted state in place of weights) and the scored records. A method's per-tier settings are
a ``MethodRecipe`` (its parameters as data, hashed like a network ``Recipe``).

The fitted state is stored as pickle bytes inside the checkpoint: unlike a network's weights it is
unpickled when predicting, so only load checkpoints you made or trust.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from segrepro.cases import Case
    from segrepro.entry import BaselineEntry
    from segrepro.postprocess import Prediction


@dataclass(frozen=True)
class MethodRecipe:
    """How a method is fitted at one tier: its keyword parameters (``params``) and a note."""

    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def problem(self) -> str | None:
        """Nothing to check beyond what the method checks itself (kept for ``BaselineEntry``'s check)."""
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"patch_size": {}, "params": dict(self.params), "note": self.note}

    def hash(self) -> str:
        """16 hex digits of the SHA-256 of the recipe as canonical JSON (as ``Recipe.hash``)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@runtime_checkable
class Method(Protocol):
    """Fits on training cases, predicts ``(K, *spatial)`` float32 probabilities of one preprocessed image."""

    name: str

    def fit(self, cases: list[Case], n_classes: int, params: dict[str, Any], seed: int, progress: bool) -> Any: ...

    def predict(self, fitted: Any, image: np.ndarray) -> np.ndarray: ...

    def size(self, fitted: Any) -> int:
        """The fitted model's size as a parameter count (a forest: its tree nodes)."""
        ...


def fit_method(
    entry: BaselineEntry, recipe: MethodRecipe, cases: list[Case], n_classes: int, seed: int, progress: bool
) -> dict[str, Any]:
    """The checkpoint ``state`` of ``entry.method`` fitted on ``cases``: the pickled fitted model, its size,
    and the fields a network's state has for the record (no iterations, no curves)."""
    assert entry.method is not None
    fitted = entry.method.fit(cases, n_classes, recipe.params, seed, progress)
    return {
        "fitted": pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL),
        "n_parameters": int(entry.method.size(fitted)),
        "best_iteration": None,
        "train_loss": [],
        "val_score": [],
    }


def load_fitted(state: dict[str, Any]) -> Any:
    """The fitted model of a checkpoint ``state`` written by ``fit_method``."""
    return pickle.loads(state["fitted"])


def method_prediction(entry: BaselineEntry, fitted: Any, image: np.ndarray) -> Prediction:
    """The entry's ``Prediction`` of one preprocessed ``image`` ``(C, *spatial)``: the method's
    probabilities, the entry's decision rule and its ``postprocess`` hook, as for a network."""
    import torch

    assert entry.method is not None
    probs = torch.from_numpy(np.ascontiguousarray(entry.method.predict(fitted, image), dtype=np.float32))
    classes = entry.decide(probs[None])[0].to(torch.uint8 if probs.shape[0] <= 256 else torch.int16)
    return entry.postprocess(probs[None], classes[None])[0]
