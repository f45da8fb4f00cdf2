"""The training loop of the standard protocol: patches, optimiser, schedule, validation, best model.

CUDA with bf16 autocast when present, CPU otherwise; seeded and deterministic on one machine. The
loop's whole state (weights, optimiser, schedule, every RNG, curves, best weights) is a
``TrainState``: handed to ``checkpoint`` after every validation and taken back by ``resume``, so a
resumed run continues exactly where the saved one stood.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from segrepro.entry import Recipe
from segrepro.sampling import PatchSampler, batches


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def place(model: torch.nn.Module, device: torch.device, spatial_dims: int) -> torch.nn.Module:
    """``model`` on ``device`` in channels-last layout, where convolutions run faster (a 2-D U-Net trains
    1.7x faster on this CPU, tests/perf/bench_channels_last.md); the arithmetic is the same."""
    layout = torch.channels_last if spatial_dims == 2 else torch.channels_last_3d
    return model.to(device=device, memory_format=layout)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False


def rng_states() -> dict[str, Any]:
    """Every random generator training draws from (Python, NumPy, torch CPU/CUDA); the patch sampler
    needs none: its batch ``i`` is a function of its seed and ``i``."""
    kind, key, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (kind, key.tolist(), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    kind, key, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.asarray(key, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def make_optimizer(model: torch.nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """A model may split its parameters into groups (e.g. weight decay on the decoder only) by
    defining ``optimizer_param_groups()``; otherwise all parameters form one group."""
    groups = getattr(model, "optimizer_param_groups", None)
    params = groups() if callable(groups) else model.parameters()
    return OPTIMIZERS[recipe.optimizer](params, lr=recipe.lr, **recipe.optimizer_kwargs)


def make_scheduler(opt: torch.optim.Optimizer, recipe: Recipe) -> torch.optim.lr_scheduler.LRScheduler:
    """Stepped once per iteration (the recipe's schedule and options are checked when its entry is built)."""
    if recipe.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, **recipe.schedule_kwargs)
    if recipe.schedule == "multistep":
        return torch.optim.lr_scheduler.MultiStepLR(opt, **recipe.schedule_kwargs)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


@dataclass
class TrainState:
    """Where training stands after ``iteration`` steps; ``best_state`` is the best-validating weights."""

    iteration: int
    best_state: dict[str, torch.Tensor]
    best_iteration: int = 0
    best_score: float = -np.inf
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    val_score: list[tuple[int, float]] = field(default_factory=list)
    running: list[float] = field(default_factory=list)  # losses since the last validation
    model: dict[str, torch.Tensor] = field(default_factory=dict)
    optimizer: dict[str, Any] = field(default_factory=dict)
    scheduler: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] = field(default_factory=dict)


def train(
    model: torch.nn.Module,
    loss_fn: torch.nn.Module,
    sampler: PatchSampler,
    recipe: Recipe,
    validate: Callable[[torch.nn.Module], float] | None,
    device: torch.device,
    iterations: int,
    progress: bool = True,
    after_step: Callable[[torch.nn.Module], None] | None = None,
    resume: TrainState | None = None,
    checkpoint: Callable[[TrainState], None] | None = None,
    workers: int = 0,
) -> TrainState:
    """Train for ``iterations`` steps; keep the weights that score best on ``validate``, or the last
    weights when ``validate`` is None (a recipe whose ``model_selection`` is ``last``).

    ``validate`` scores the model on the validation volumes only (higher is better): model
    selection never sees the test set. ``after_step`` lets an entry constrain weights after each
    optimiser step (e.g. zero-mean kernels). ``resume`` continues from a saved state (same model,
    recipe and sampler); ``checkpoint`` receives the full state every ``recipe.val_every`` steps and after
    the last. ``workers`` > 0 draws batches in DataLoader worker processes (the same batches, so the same result).
    """
    opt = make_optimizer(model, recipe)
    sched = make_scheduler(opt, recipe)
    amp = device.type == "cuda"
    if resume is None:
        state = TrainState(iteration=0, best_state=copy.deepcopy(model.state_dict()))
    else:
        state = resume
        model.load_state_dict(state.model)
        opt.load_state_dict(state.optimizer)
        sched.load_state_dict(state.scheduler)
        set_rng_states(state.rng)
    first = state.iteration + 1
    stream = batches(sampler, first, iterations + 1, workers)
    bar = tqdm(range(first, iterations + 1), desc="train", unit="it", disable=not progress, leave=False)
    for it, batch in zip(bar, stream, strict=True):
        model.train()
        x, y, m = (torch.from_numpy(a).to(device) for a in batch)
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            out = model(x)
        out = tuple(o.float() for o in out) if isinstance(out, tuple | list) else out.float()
        loss = loss_fn(out, y, m)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at iteration {it}")
        loss.backward()
        opt.step()
        sched.step()
        if after_step is not None:
            after_step(model)
        state.running.append(float(loss.detach()))
        state.iteration = it
        if it % recipe.val_every == 0 or it == iterations:
            state.train_loss.append((it, float(np.mean(state.running))))
            state.running = []
            if validate is not None:
                score = validate(model)
                state.val_score.append((it, score))
                bar.set_postfix(loss=f"{state.train_loss[-1][1]:.4f}", val=f"{score:.4f}")
                if score > state.best_score:
                    state.best_score, state.best_iteration = score, it
                    state.best_state = copy.deepcopy(model.state_dict())
            elif it == iterations:
                state.best_iteration, state.best_state = it, copy.deepcopy(model.state_dict())
            if checkpoint is not None:
                state.model, state.optimizer, state.scheduler = model.state_dict(), opt.state_dict(), sched.state_dict()
                state.rng = rng_states()
                checkpoint(state)
    return state
