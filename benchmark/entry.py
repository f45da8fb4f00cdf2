"""The baseline-entry contract (tiers, `Recipe`, `BaselineEntry`): engine types that `segrepro.baselines` builds on.

They live in the engine so that the dependency points one way: `baselines/` imports the engine, never the reverse.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from segrepro.inference import Inference
from segrepro.method import Method, MethodRecipe
from segrepro.postprocess import Decide, Postprocess
from segrepro.preprocess import Preprocess, ZScore
from segrepro.sampling import Sampling
from segrepro.selection import SeedSelection
from segrepro.targets import DatasetClasses, TargetTransform
from segrepro.tiers import TIERS, Tier

if TYPE_CHECKING:  # torch is imported where a model is built or run, so listing entries stays fast
    import torch
    from torch import nn

__all__ = ["TIERS", "BaselineEntry", "Recipe", "Tier", "count_parameters"]

# The options each optimiser (torch.optim) and schedule (torch.optim.lr_scheduler) of a recipe takes.
OPTIMIZER_OPTIONS: dict[str, frozenset[str]] = {
    "adam": frozenset({"betas", "eps", "weight_decay", "amsgrad"}),
    "adamw": frozenset({"betas", "eps", "weight_decay", "amsgrad"}),
    "sgd": frozenset({"momentum", "dampening", "weight_decay", "nesterov"}),
}
SCHEDULE_OPTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {  # (required, optional)
    "constant": (frozenset(), frozenset()),
    "step": (frozenset({"step_size"}), frozenset({"gamma"})),
    "multistep": (frozenset({"milestones"}), frozenset({"gamma"})),
}


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@dataclass(frozen=True)
class Recipe:
    """How to train an entry at one tier.

    ``patch_size`` is keyed by spatial dims (2 or 3). ``schedule`` is ``constant``, ``step``
    (lr x ``gamma`` every ``step_size`` iterations) or ``multistep`` (x ``gamma`` at each of
    ``milestones``). Validation runs every ``val_every`` iterations and keeps the best model.
    Which patches are drawn is the entry's ``sampling`` hook, not the recipe's.
    Two fields state a paper's protocol as data (paper 000's tier ``paper``):
    ``model_selection`` is ``best`` (keep the weights that score best on the fold's validation images)
    or ``last`` (no validation set: the weights after the last iteration are evaluated, and the fold's
    validation images may join its training set, as in a paper that trains on the whole training half).
    ``epochs_per_group`` maps a grouping of the data (the prefix before ``_`` of its volume ids, e.g.
    c-merolae's ``G-1``) to a number of epochs; for a fold whose training ids share such a prefix,
    ``iterations_for`` turns it into iterations (``iterations`` stays the count for any other fold).
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
    model_selection: Literal["best", "last"] = "best"
    epochs_per_group: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def iterations_for(self, train_ids: Sequence[str]) -> int:
        """Iterations for a fold training on ``train_ids``: ``epochs_per_group[g]`` epochs of them at
        ``batch_size`` when every id starts with ``g_``, else ``iterations``."""
        groups = {i.split("_", 1)[0] for i in train_ids if "_" in i}
        if len(groups) == 1 and len(train_ids) and all("_" in i for i in train_ids):
            epochs = self.epochs_per_group.get(groups.pop())
            if epochs is not None:
                return math.ceil(epochs * len(train_ids) / self.batch_size)
        return self.iterations

    def problem(self) -> str | None:
        """What is wrong with this recipe, or None: an unknown optimiser, schedule or option, or a bad
        number. A ``BaselineEntry`` checks its recipes on construction and refuses one with a problem,
        naming itself, so a recipe never trains with a silently constant lr."""
        for name in ("iterations", "batch_size", "val_every"):
            if not _is_int(getattr(self, name), 1):
                return f"{name} must be a whole number >= 1, not {getattr(self, name)!r}"
        if not _is_positive(self.lr):
            return f"lr must be a positive number, not {self.lr!r}"
        if not self.patch_size:
            return "patch_size needs a patch for 2-D and/or 3-D data, e.g. {2: (64, 64)}"
        for dims, patch in self.patch_size.items():
            if dims not in (2, 3) or len(patch) != dims or not all(_is_int(p, 1) for p in patch):
                return f"patch_size {dims}: {patch!r} must be {{2 or 3: that many positive sizes}}"
        if self.optimizer not in OPTIMIZER_OPTIONS:
            return f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZER_OPTIONS)}"
        unknown = set(self.optimizer_kwargs) - OPTIMIZER_OPTIONS[self.optimizer]
        if unknown:
            allowed = ", ".join(sorted(OPTIMIZER_OPTIONS[self.optimizer]))
            return f"optimizer {self.optimizer} has no option {', '.join(sorted(unknown))} (it takes {allowed})"
        if self.model_selection not in ("best", "last"):
            return f"model_selection must be 'best' or 'last', not {self.model_selection!r}"
        if self.schedule not in SCHEDULE_OPTIONS:
            return f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULE_OPTIONS)}"
        required, optional = SCHEDULE_OPTIONS[self.schedule]
        given = set(self.schedule_kwargs)
        if given - required - optional or required - given:
            takes = ", ".join(sorted(required | optional)) or "no options"
            needs = ", ".join(sorted(required)) or "none"
            return f"schedule {self.schedule} takes {takes} ({needs} required), not {sorted(given)}"
        return self._schedule_problem()

    def _schedule_problem(self) -> str | None:
        kw = self.schedule_kwargs
        if "gamma" in kw and not _is_positive(kw["gamma"]):
            return f"schedule gamma must be a positive number, not {kw['gamma']!r}"
        if "step_size" in kw and not _is_int(kw["step_size"], 1):
            return f"schedule step_size must be a whole number >= 1, not {kw['step_size']!r}"
        if "milestones" in kw:
            m = list(kw["milestones"])
            if not m or not all(_is_int(x, 1) for x in m) or m != sorted(set(m)):
                return f"schedule milestones must be increasing whole numbers >= 1, not {kw['milestones']!r}"
        return None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["patch_size"] = {str(k): list(v) for k, v in self.patch_size.items()}
        return d

    def hash(self) -> str:
        """16 hex digits of the SHA-256 of the recipe as canonical JSON: a record whose ``recipe_hash``
        differs from its entry's current recipe was made by another recipe (stale)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


ModelFactory = Callable[..., "nn.Module"]
"""``(in_channels, out_channels, spatial_dims, **recipe.model_kwargs) -> nn.Module``.

In training mode a model may return a tuple of outputs (deep supervision, X-Net); in eval mode it
returns the one logits tensor ``(B, C, *spatial)`` that predictions are made from."""

LossFactory = Callable[[], "nn.Module"]
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
    but the last layer, initialise this one (paper 004's transfer learning); ``shares_fit_with`` names the
    entry whose fit stage this one reuses: the same network trained the same way, so one checkpoint serves
    both and only the post-processing differs (paper 002's MAP and WT rows of one loss).
    ``method`` (not a network: paper 003's forest) fits and predicts in place of ``model`` and ``loss``
    (both None then), with a ``MethodRecipe`` per tier (see ``segrepro.method``). ``seed_selection`` states a
    tier's "train N seeds, report the best K by validation" (paper 003; see ``segrepro.selection``).
    ``output`` is ``softmax`` (K channels, argmax) or ``sigmoid``
    (K-1 foreground channels, multi-label; a voxel takes the most probable foreground class whose
    probability exceeds ``threshold``, else background)."""

    id: str
    title: str
    paper: str
    citation: str
    model: ModelFactory | None
    loss: LossFactory | None
    recipes: dict[str, Recipe | MethodRecipe]
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
    shares_fit_with: str | None = None
    method: Method | None = None
    seed_selection: dict[str, SeedSelection] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from segrepro.errors import UserError

        if self.method is not None and (self.model is not None or self.loss is not None):
            raise UserError(f"baseline {self.id}: give a model and a loss, or a method (not a network), not both")
        if set(self.seed_selection) - set(self.recipes):
            raise UserError(f"baseline {self.id}: a seed selection for a tier it has no recipe for")
        kind = Recipe if self.method is None else MethodRecipe
        if any(not isinstance(r, kind) for r in self.recipes.values()):
            raise UserError(f"baseline {self.id}: every recipe must be a {kind.__name__}")

        for tier, recipe in self.recipes.items():
            if tier not in TIERS:
                raise UserError(f"baseline {self.id}: unknown tier {tier!r}; tiers are {', '.join(TIERS)}")
            problem = recipe.problem()
            if problem:
                raise UserError(f"baseline {self.id}, {tier} recipe: {problem}")

    def out_channels(self, n_classes: int) -> int:
        return n_classes if self.output == "softmax" else n_classes - 1

    def recipe(self, tier: str) -> Recipe | MethodRecipe:
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
        if self.model is None:
            raise TypeError(f"baseline {self.id} is not a network (it has a method)")
        out = self.out_channels(len(self.training_classes(dataset_classes)))
        return self.model(self.preprocess.channels, out, spatial_dims, **self.recipe(tier).model_kwargs)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """``(B, K, ...)`` class scores; for sigmoid entries channel 0 is 1 - max foreground score."""
        import torch

        if self.output == "softmax":
            return torch.softmax(logits, dim=1)
        fg = torch.sigmoid(logits)
        return torch.cat([1 - fg.amax(dim=1, keepdim=True), fg], dim=1)

    def decide(self, probs: torch.Tensor) -> torch.Tensor:
        """Class ids ``(B, ...)`` from ``probabilities``."""
        import torch

        if self.output == "softmax":
            return probs.argmax(dim=1)
        fg_score, fg_cls = probs[:, 1:].max(dim=1)
        return torch.where(fg_score > self.threshold, fg_cls + 1, torch.zeros_like(fg_cls))

    def decide_each(self, probs: torch.Tensor) -> torch.Tensor:
        """Per-class decisions ``(B, K, ...)`` bool from ``probabilities``: for sigmoid entries each foreground
        channel thresholded on its own (multi-label; channel 0 = no foreground channel on), for softmax
        entries the one-hot of ``decide``."""
        import torch

        if self.output == "softmax":
            return torch.nn.functional.one_hot(self.decide(probs), probs.shape[1]).movedim(-1, 1).bool()
        fg = probs[:, 1:] > self.threshold
        return torch.cat([~fg.any(dim=1, keepdim=True), fg], dim=1)

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
            "shares_fit_with": self.shares_fit_with,
            "method": None if self.method is None else self.method.name,
            "seed_selection": {tier: s.to_dict() for tier, s in self.seed_selection.items()},
            "recipes": {tier: r.to_dict() for tier, r in self.recipes.items()},
        }


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
