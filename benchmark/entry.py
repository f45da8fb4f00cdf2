"""The baseline-entry contract (tiers, `Recipe`, `BaselineEntry`): engine types that `segrepro.baselines` builds on.

They live in the engine so that the dependency points one way: `baselines/` imports the engine, never the reverse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from segrepro.inference import Inference
from segrepro.postprocess import Decide, Postprocess
from segrepro.preprocess import Preprocess, ZScore
from segrepro.sampling import Sampling
from segrepro.targets import DatasetClasses, TargetTransform
from segrepro.tiers import TIERS, Tier

__all__ = ["TIERS", "BaselineEntry", "Recipe", "Tier", "count_parameters"]


@dataclass(frozen=True)
class Recipe:
    """How to train an entry at one tier.

    ``patch_size`` is keyed by spatial dims (2 or 3). ``schedule`` is ``constant``, ``step``
    (lr x ``gamma`` every ``step_size`` iterations) or ``multistep`` (x ``gamma`` at each of
    ``milestones``). Validation runs every ``val_every`` iterations and keeps the best model.
    Which patches are drawn is the entry's ``sampling`` hook, not the recipe's.
    """

    iterations: int
    batch_size: int
    lr: float
    patch_size: dict[int, tuple[int, ...]]
    val_every: int
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    optimizer_kwargs: dict[str, Any] = field(default_factory=dict)
    schedule: Literal["constant", "step", "multistep"] = "constant"
    schedule_kwargs: dict[str, Any] = field(default_factory=dict)
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["patch_size"] = {str(k): list(v) for k, v in self.patch_size.items()}
        return d

    def hash(self) -> str:
        """16 hex digits of the SHA-256 of the recipe as canonical JSON: a record whose ``recipe_hash``
        differs from its entry's current recipe was made by another recipe (stale)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


ModelFactory = Callable[..., nn.Module]
"""``(in_channels, out_channels, spatial_dims, **recipe.model_kwargs) -> nn.Module``.

In training mode a model may return a tuple of outputs (deep supervision, X-Net); in eval mode it
returns the one logits tensor ``(B, C, *spatial)`` that predictions are made from."""

LossFactory = Callable[[], nn.Module]
"""A loss module called as ``loss(outputs, target, mask)``: ``outputs`` what the model returned in
training mode, ``target`` class ids ``(B, *spatial)`` int64, ``mask`` ``(B, *spatial)`` float with 1
where scored. Masked voxels must contribute nothing to the value or the gradient."""


@dataclass(frozen=True)
class BaselineEntry:
    """One registered method: metadata, model and loss factories, a recipe per tier, and the hooks
    (each defaulting to the plain behaviour): ``preprocess`` (image → input channels, default z-score),
    ``target_transform`` (labels → training classes, default the dataset's), ``sampling`` (patch policy and
    augmentation), ``inference`` (sliding-window settings) and ``postprocess`` (probabilities → the scored
    prediction, default the decision rule below). ``after_step`` (optional) constrains the weights after every
    optimiser step (paper 004's zero-mean kernels); ``warm_start`` names the entry whose trained weights, all
    but the last layer, initialise this one (paper 004's transfer learning).
    ``output`` is ``softmax`` (K channels, argmax) or ``sigmoid``
    (K-1 foreground channels, multi-label; a voxel takes the most probable foreground class whose
    probability exceeds ``threshold``, else background)."""

    id: str
    title: str
    paper: str
    citation: str
    model: ModelFactory
    loss: LossFactory
    recipes: dict[str, Recipe]
    output: Literal["softmax", "sigmoid"] = "softmax"
    threshold: float = 0.5
    spatial_dims: tuple[int, ...] = (2, 3)
    convention: str = "canonical"
    model_name: str = ""
    loss_name: str = ""
    description: str = ""
    reconstructions: tuple[str, ...] = ()
    preprocess: Preprocess = field(default_factory=ZScore)
    target_transform: TargetTransform = field(default_factory=DatasetClasses)
    sampling: Sampling = field(default_factory=Sampling)
    inference: Inference = field(default_factory=Inference)
    postprocess: Postprocess = field(default_factory=Decide)
    after_step: Callable[[nn.Module], None] | None = None
    warm_start: str | None = None

    def out_channels(self, n_classes: int) -> int:
        return n_classes if self.output == "softmax" else n_classes - 1

    def recipe(self, tier: str) -> Recipe:
        from segrepro.errors import UserError

        if tier not in self.recipes:
            raise UserError(f"baseline {self.id} has no {tier!r} tier; it has {', '.join(self.recipes)}")
        return self.recipes[tier]

    def training_classes(self, dataset_classes: list[str]) -> list[str]:
        """The classes the network is trained on (the ``target_transform`` hook's)."""
        return self.target_transform.classes(dataset_classes)

    def build_model(self, dataset_classes: list[str], spatial_dims: int, tier: str) -> nn.Module:
        """The network for data with ``dataset_classes``: input channels from ``preprocess``, one output
        per training class (softmax) or per foreground training class (sigmoid)."""
        out = self.out_channels(len(self.training_classes(dataset_classes)))
        return self.model(self.preprocess.channels, out, spatial_dims, **self.recipe(tier).model_kwargs)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """``(B, K, ...)`` class scores; for sigmoid entries channel 0 is 1 - max foreground score."""
        if self.output == "softmax":
            return torch.softmax(logits, dim=1)
        fg = torch.sigmoid(logits)
        return torch.cat([1 - fg.amax(dim=1, keepdim=True), fg], dim=1)

    def decide(self, probs: torch.Tensor) -> torch.Tensor:
        """Class ids ``(B, ...)`` from ``probabilities``."""
        if self.output == "softmax":
            return probs.argmax(dim=1)
        fg_score, fg_cls = probs[:, 1:].max(dim=1)
        return torch.where(fg_score > self.threshold, fg_cls + 1, torch.zeros_like(fg_cls))

    def card(self) -> dict[str, Any]:
        """The entry as data (what ``segrepro baselines show`` prints and run records keep)."""
        return {
            "id": self.id,
            "title": self.title,
            "paper": self.paper,
            "citation": self.citation,
            "model": self.model_name,
            "loss": self.loss_name,
            "output": self.output,
            "threshold": self.threshold if self.output == "sigmoid" else None,
            "spatial_dims": list(self.spatial_dims),
            "convention": self.convention,
            "description": self.description,
            "reconstructions": list(self.reconstructions),
            "hooks": {
                "preprocess": repr(self.preprocess),
                "target_transform": repr(self.target_transform),
                "sampling": self.sampling.to_dict(),
                "inference": self.inference.to_dict(),
                "postprocess": repr(self.postprocess),
                "after_step": getattr(self.after_step, "__name__", None),
            },
            "warm_start": self.warm_start,
            "recipes": {tier: r.to_dict() for tier, r in self.recipes.items()},
        }


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
