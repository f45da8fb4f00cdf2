"""The standard protocol: train and evaluate one (dataset, baseline, fold, seed, tier).

``execute`` never lets a failure escape silently: a run that breaks after it started is written
as a ``failed`` record with its reason, so one bad run never hides the others.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from segrepro import paths
from segrepro.baselines import get_baseline
from segrepro.datasets import PreparedDataset, get_dataset, load_prepared
from segrepro.entry import TIERS, BaselineEntry, count_parameters
from segrepro.errors import UserError
from segrepro.inference import predict_volume
from segrepro.metrics import confusion_matrix, counts_from_matrix, get_convention, pooled_summary
from segrepro.metrics.evaluate import RunEvaluation
from segrepro.overlays import save_overlays
from segrepro.records import (
    SCHEMA_VERSION,
    finish_provenance,
    provenance,
    write_record,
)
from segrepro.sampling import PatchSampler, TrainVolume, make_train_volume
from segrepro.training import pick_device, seed_everything, train


@dataclass(frozen=True)
class RunSpec:
    dataset: str
    baseline: str
    fold: int = 0
    seed: int = 0
    tier: str = "smoke"

    @property
    def run_id(self) -> str:
        return f"{self.dataset}__{self.baseline}__{self.tier}__f{self.fold}__s{self.seed}"


def record_path(spec: RunSpec, runs_dir: Path | None = None) -> Path:
    return (runs_dir or paths.runs_dir()) / f"{spec.run_id}.json"


def check_spec(spec: RunSpec) -> tuple[BaselineEntry, PreparedDataset]:
    """Resolve the ids and prerequisites, or raise a ``UserError`` saying what to do."""
    if spec.tier not in TIERS:
        raise UserError(f"unknown tier {spec.tier!r}; choose one of {', '.join(TIERS)}")
    if not (paths.prepared_dir(spec.dataset) / "meta.json").exists():
        get_dataset(spec.dataset)  # an unknown name fails here, listing the known ones
    entry = get_baseline(spec.baseline)
    entry.recipe(spec.tier)
    get_convention(entry.convention)
    data = load_prepared(spec.dataset)
    if data.spatial_dims not in entry.spatial_dims:
        raise UserError(
            f"baseline {entry.id} supports {entry.spatial_dims}-D data, {spec.dataset} is {data.spatial_dims}-D"
        )
    data.fold(spec.fold)
    if entry.warm_start:
        raise UserError(
            f"baseline {entry.id} starts from the trained weights of {entry.warm_start}: train it first with "
            f"`segrepro run --dataset {spec.dataset} --baseline {entry.warm_start} --fold {spec.fold} --seed "
            f"{spec.seed} --tier {spec.tier}`; warm starts from its checkpoint are not wired into runs yet"
        )
    return entry, data


def execute(
    spec: RunSpec, runs_dir: Path | None = None, progress: bool = True, save_predictions: int = 0
) -> dict[str, Any]:
    """Run ``spec`` and write its record; returns the record (status ``ok`` or ``failed``).

    ``save_predictions`` N > 0 also writes overlay PNGs of the first N test images into the folder
    named like the record (``<run_id>/``) and lists them in the record's ``predictions``."""
    if save_predictions < 0:
        raise UserError(f"--save-predictions must be 0 or more, not {save_predictions}")
    entry, data = check_spec(spec)
    out = record_path(spec, runs_dir)
    t0 = time.perf_counter()
    device = pick_device()
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": spec.run_id,
        "status": "failed",
        "reason": None,
        "dataset": {
            "name": spec.dataset,
            "data_hash": data.data_hash,
            "classes": data.class_names,
            "spatial_dims": data.spatial_dims,
        },
        "baseline": {"id": entry.id, "paper": entry.paper, "convention": entry.convention},
        "fold": spec.fold,
        "seed": spec.seed,
        "tier": spec.tier,
        "recipe": entry.recipe(spec.tier).to_dict(),
        "recipe_hash": entry.recipe(spec.tier).hash(),
        "n_parameters": None,
        "metrics": None,
        "curves": None,
        "best_iteration": None,
        "provenance": provenance(device),
    }
    try:
        record.update(_train_and_evaluate(spec, entry, data, device, progress, save_predictions, out.with_suffix("")))
        record["status"] = "ok"
    except (KeyboardInterrupt, UserError):
        raise
    except Exception as exc:  # recorded, not hidden: the record says why the run failed
        record["reason"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc(limit=8)
    finish_provenance(record["provenance"], time.perf_counter() - t0, device)
    write_record(out, record)
    return record


def _train_and_evaluate(
    spec: RunSpec,
    entry: BaselineEntry,
    data: PreparedDataset,
    device: torch.device,
    progress: bool,
    save_predictions: int = 0,
    overlay_dir: Path | None = None,
) -> dict[str, Any]:
    recipe = entry.recipe(spec.tier)
    fold = data.fold(spec.fold)
    dims = data.spatial_dims
    patch = tuple(recipe.patch_size[dims])
    seed_everything(spec.seed)
    model = entry.build_model(data.class_names, dims, spec.tier)
    n_params = count_parameters(model)

    train_vols = train_volumes(entry, data, load_cases(entry, data, fold.train))
    val_cases, test_cases = load_cases(entry, data, fold.val), load_cases(entry, data, fold.test)
    sampler = PatchSampler(train_vols, patch, entry.sampling, spec.seed, recipe.batch_size)

    def validate(m: torch.nn.Module) -> float:
        counts = case_counts(m, entry, val_cases, patch, device, data.n_classes, desc=None)
        score = pooled_summary(counts, data.class_names)["mean"]["dice"]
        return -1.0 if score is None else score

    result = train(
        model, entry.loss(), sampler, recipe, validate, device, progress=progress, after_step=entry.after_step
    )
    model.load_state_dict(result.best_state)
    evaluation = RunEvaluation(data.n_classes, get_convention(entry.convention))
    kept: dict[str, np.ndarray] = {}
    desc = "test" if progress else None
    case_counts(model, entry, test_cases, patch, device, data.n_classes, desc, evaluation, kept, save_predictions)
    extra = {}
    if save_predictions and overlay_dir is not None:
        colours = [c.get("colour", "#888888") for c in data.meta["card"]["classes"]]
        extra["predictions"] = save_overlays(overlay_dir, [c for c in test_cases if c[0] in kept], kept, colours)
    return {
        **extra,
        "n_parameters": n_params,
        "best_iteration": result.best_iteration,
        "curves": {"train_loss": result.train_loss, "val_score": result.val_score},
        "metrics": evaluation.record_metrics(data.class_names),
    }


Case = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # (volume id, preprocessed image (C, *spatial), label, mask)


def load_cases(entry: BaselineEntry, data: PreparedDataset, ids: Sequence[str]) -> list[Case]:
    """The prepared volumes ``ids``, images preprocessed as ``entry``'s network sees them."""
    out = []
    for vid in ids:
        img, lab, msk = data.load(vid)
        out.append((vid, entry.preprocess(img), np.asarray(lab), np.asarray(msk)))
    return out


def train_volumes(entry: BaselineEntry, data: PreparedDataset, cases: Sequence[Case]) -> list[TrainVolume]:
    """Training volumes of ``cases``: labels mapped to the entry's training classes."""
    k = len(entry.training_classes(data.class_names))
    return [make_train_volume(img, entry.target_transform(lab), msk, k) for _, img, lab, msk in cases]


def case_counts(
    model: torch.nn.Module,
    entry: BaselineEntry,
    cases: list[Case],
    patch: tuple[int, ...],
    device: torch.device,
    n_classes: int,
    desc: str | None,
    evaluation: RunEvaluation | None = None,
    kept: dict[str, np.ndarray] | None = None,
    keep: int = 0,
) -> dict[str, np.ndarray]:
    """Per-image ``(K, 4)`` TP/FP/FN/TN over scored voxels; ``evaluation`` also gets the probabilities,
    and the first ``keep`` predictions go into ``kept``."""
    out = {}
    for vid, img, lab, msk in tqdm(cases, desc=desc, unit="img", disable=desc is None, leave=False):
        prediction = predict_volume(model, entry, img, patch, device)
        pred = prediction.classes
        if evaluation is not None:
            out[vid] = evaluation.add(vid, prediction.scores, pred, lab, msk)
        else:
            out[vid] = counts_from_matrix(confusion_matrix(pred, lab, n_classes, msk))
        if kept is not None and len(kept) < keep:
            kept[vid] = pred
    return out
