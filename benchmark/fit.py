"""The fit stage: train one run and keep its checkpoint in ``results/models/<run_id>/checkpoint.pt``.

The checkpoint is rewritten atomically after every validation and holds everything needed to
continue exactly (weights, optimiser, schedule, iteration, every RNG state, curves, best weights):
the same ``fit`` command after a crash or ``kill -9`` resumes from it and ends, on CPU with the same
seed, with the same weights as an uninterrupted run. ``train_model`` is the one training entry point
of every protocol (``fit`` and the stress test call it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from segrepro import paths
from segrepro.cases import Case, load_cases, train_volumes
from segrepro.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from segrepro.entry import BaselineEntry, Recipe
from segrepro.errors import UserError
from segrepro.io import check_writable
from segrepro.locks import run_lock
from segrepro.metrics import pooled_summary
from segrepro.predict import case_counts
from segrepro.runspec import RunSpec, check_spec
from segrepro.sampling import PatchSampler, Sampling, TrainVolume
from segrepro.training import TrainState, pick_device, place, seed_everything, train
from segrepro.warmstart import load_warm_start

RESUME_KEYS = ("entry", "recipe_hash", "tier", "dataset", "data_hash", "fold", "seed", "in_channels")


def train_model(
    entry: BaselineEntry,
    tier: str,
    recipe: Recipe,
    class_names: Sequence[str],
    spatial_dims: int,
    train_vols: list[TrainVolume],
    val_cases: list[Case],
    seed: int,
    progress: bool = True,
    resume: TrainState | None = None,
    checkpoint: Callable[[TrainState], None] | None = None,
    sampling: Sampling | None = None,
    workers: int = 0,
    iterations: int | None = None,
    init: Callable[[torch.nn.Module], object] | None = None,
) -> tuple[torch.nn.Module, TrainState]:
    """Train ``entry`` at ``tier`` with ``recipe`` for ``iterations`` (default ``recipe.iterations``);
    returns the model holding its best-validating weights (mean foreground Dice on ``val_cases``, in the
    dataset's ``class_names``), or its last weights when the recipe's ``model_selection`` is ``last``,
    and the final training state. ``sampling`` replaces the entry's patch policy (the stress test draws
    uniformly); ``workers`` > 0 draws batches in DataLoader workers (the same batches). ``init`` sets the
    new model's first weights (a warm start) unless training resumes."""
    k, device = len(class_names), pick_device()
    patch = tuple(recipe.patch_size[spatial_dims])
    seed_everything(seed)
    model = place(entry.build_model(list(class_names), spatial_dims, tier), device, spatial_dims)
    if init is not None and resume is None:
        init(model)
    sampler = PatchSampler(train_vols, patch, sampling or entry.sampling, seed, recipe.batch_size)

    def validate(m: torch.nn.Module) -> float:
        score = pooled_summary(case_counts(m, entry, val_cases, patch, device, k), list(class_names))["mean"]["dice"]
        return -1.0 if score is None else score

    loss = entry.loss()
    state = train(
        model,
        loss,
        sampler,
        recipe,
        validate if recipe.model_selection == "best" else None,
        device,
        iterations or recipe.iterations,
        progress,
        after_step=entry.after_step,
        resume=resume,
        checkpoint=checkpoint,
        workers=workers,
    )
    model.load_state_dict(state.best_state)
    return model, state


@dataclass(frozen=True)
class FitOutcome:
    checkpoint: Path
    action: str  # "trained", "resumed" or "exists"


def fit(spec: RunSpec, force: bool = False, progress: bool = True) -> FitOutcome:
    """Train ``spec`` into its checkpoint. A finished checkpoint is kept (``exists``) unless ``force``;
    an unfinished one is resumed (``force`` starts over). Holds the run's lock throughout. An entry that
    shares its fit stage (``shares_fit_with``) fits its source entry's run: one checkpoint serves both."""
    source = spec.fit_spec()
    if source != spec:
        return fit(source, force, progress)
    entry, data = check_spec(spec)
    path = paths.checkpoint_path(spec.run_id)
    check_writable(path.parent)
    recipe = entry.recipe(spec.tier)
    about = {
        "format": CHECKPOINT_FORMAT,
        "run_id": spec.run_id,
        "entry": entry.id,
        "tier": spec.tier,
        "recipe": recipe.to_dict(),
        "recipe_hash": recipe.hash(),
        "dataset": spec.dataset,
        "data_hash": data.data_hash,
        "fold": spec.fold,
        "seed": spec.seed,
        "class_names": data.class_names,
        "n_classes": data.n_classes,
        "spatial_dims": data.spatial_dims,
        "in_channels": entry.preprocess.channels,
    }
    with run_lock(spec.run_id):
        resume, spent, warm = None, 0.0, None
        if path.exists() and not force:
            old = load_checkpoint(path)
            differs = [k for k in RESUME_KEYS if old.get(k) != about[k]]
            if differs:
                raise UserError(
                    f"{path} was made with another {', '.join(differs)}; give --force to train it again from scratch"
                )
            if old["finished"]:
                return FitOutcome(path, "exists")
            resume, spent = TrainState(**old["state"]), old["train_seconds"]
            about["warm_start"] = old.get("warm_start")
        if resume is None:  # paper 004's TRAN: a warm-start entry begins from its source run's checkpoint
            warm = load_warm_start(spec, entry, data)
            about["warm_start"] = warm.about if warm else None
        fold = data.fold(spec.fold)
        if entry.method is not None:  # not a network: fitted in one go on the training ids (segrepro.method)
            from segrepro.method import fit_method

            t0 = time.perf_counter()
            cases = load_cases(entry, data, fold.train)
            state = fit_method(entry, recipe, cases, len(entry.training_classes(data.class_names)), spec.seed, progress)
            seconds = time.perf_counter() - t0
            save_checkpoint(path, {**about, "finished": True, "train_seconds": seconds, "state": state})
            return FitOutcome(path, "trained")
        # model_selection "last": no validation set; the fold's validation images join its training set
        last = recipe.model_selection == "last"
        train_ids, val_ids = (tuple(fold.train) + tuple(fold.val), ()) if last else (fold.train, fold.val)
        iterations = recipe.iterations_for(train_ids)
        train_vols = train_volumes(entry, data, load_cases(entry, data, train_ids))
        val_cases = load_cases(entry, data, val_ids)
        t0 = time.perf_counter()

        def save(state: TrainState) -> None:  # after every validation, the last one included
            seconds = spent + time.perf_counter() - t0
            finished = state.iteration == iterations
            save_checkpoint(path, {**about, "finished": finished, "train_seconds": seconds, "state": vars(state)})

        train_model(
            entry, spec.tier, recipe, data.class_names, data.spatial_dims, train_vols, val_cases, spec.seed,
            progress, resume=resume, checkpoint=save, iterations=iterations, init=warm.init if warm else None,
        )  # fmt: skip
    return FitOutcome(path, "resumed" if resume is not None else "trained")
