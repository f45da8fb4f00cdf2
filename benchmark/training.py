"""The training loop of the standard protocol: patches, optimiser, schedule, validation, best model.

CUDA with bf16 autocast when present, CPU otherwise; seeded and deterministic on one machine.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from segrepro.entry import Recipe
from segrepro.sampling import PatchSampler, batches


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False


def make_optimizer(model: torch.nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """A model may split its parameters into groups (e.g. weight decay on the decoder only) by
    defining ``optimizer_param_groups()``; otherwise all parameters form one group."""
    kinds = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    groups = getattr(model, "optimizer_param_groups", None)
    params = groups() if callable(groups) else model.parameters()
    return kinds[recipe.optimizer](params, lr=recipe.lr, **recipe.optimizer_kwargs)


def make_scheduler(opt: torch.optim.Optimizer, recipe: Recipe) -> torch.optim.lr_scheduler.LRScheduler:
    """Stepped once per iteration."""
    if recipe.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, **recipe.schedule_kwargs)
    if recipe.schedule == "multistep":
        return torch.optim.lr_scheduler.MultiStepLR(opt, **recipe.schedule_kwargs)
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


@dataclass
class TrainResult:
    best_state: dict[str, torch.Tensor]
    best_iteration: int
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    val_score: list[tuple[int, float]] = field(default_factory=list)


def train(
    model: torch.nn.Module,
    loss_fn: torch.nn.Module,
    sampler: PatchSampler,
    recipe: Recipe,
    validate: Callable[[torch.nn.Module], float],
    device: torch.device,
    progress: bool = True,
    after_step: Callable[[torch.nn.Module], None] | None = None,
    workers: int = 0,
) -> TrainResult:
    """Train for ``recipe.iterations`` steps; keep the weights that score best on ``validate``.

    ``validate`` scores the model on the validation volumes only (higher is better): model
    selection never sees the test set. ``after_step`` lets an entry constrain weights after each
    optimiser step (e.g. zero-mean kernels). ``workers`` > 0 draws batches in DataLoader worker
    processes (same batches, so the same result).
    """
    model.to(device)
    opt = make_optimizer(model, recipe)
    sched = make_scheduler(opt, recipe)
    amp = device.type == "cuda"
    result = TrainResult(best_state=copy.deepcopy(model.state_dict()), best_iteration=0)
    best = -np.inf
    running: list[float] = []
    stream = batches(sampler, 1, recipe.iterations + 1, workers)
    bar = tqdm(range(1, recipe.iterations + 1), desc="train", unit="it", disable=not progress, leave=False)
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
        running.append(float(loss.detach()))
        if it % recipe.val_every == 0 or it == recipe.iterations:
            result.train_loss.append((it, float(np.mean(running))))
            running = []
            score = validate(model)
            result.val_score.append((it, score))
            bar.set_postfix(loss=f"{result.train_loss[-1][1]:.4f}", val=f"{score:.4f}")
            if score > best:
                best = score
                result.best_iteration = it
                result.best_state = copy.deepcopy(model.state_dict())
    return result
