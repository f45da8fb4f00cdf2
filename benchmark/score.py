"""The score stage: the test split's predictions and the prepared labels -> the run record.

The record is today's (metrics, curves, provenance...) plus where its checkpoint and prediction files
are (relative to the results folder) and the recipe hash; ``store_record`` never replaces an ``ok``
record with a failed one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from segrepro import paths
from segrepro.datasets import PreparedDataset
from segrepro.entry import BaselineEntry
from segrepro.errors import UserError
from segrepro.metrics import get_convention
from segrepro.metrics.evaluate import RunEvaluation
from segrepro.metrics.instances import InstanceEvaluation
from segrepro.overlays import save_overlays
from segrepro.predict import Predictor, load_prediction, predictions_dir
from segrepro.records import SCHEMA_VERSION, provenance, write_record
from segrepro.runspec import RunSpec


def record_path(spec: RunSpec) -> Path:
    return paths.run_record(spec.run_id)


def new_record(spec: RunSpec, entry: BaselineEntry, data: PreparedDataset, device: torch.device) -> dict[str, Any]:
    """The record of ``spec`` before scoring: status ``failed`` until ``score_record`` fills it in."""
    recipe = entry.recipe(spec.tier)
    return {
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
        "recipe": recipe.to_dict(),
        "recipe_hash": recipe.hash(),
        "n_parameters": None,
        "metrics": None,
        "curves": None,
        "best_iteration": None,
        "checkpoint": None,
        "prediction_files": None,
        "provenance": provenance(device),
    }


def score_record(
    record: dict[str, Any],
    spec: RunSpec,
    entry: BaselineEntry,
    data: PreparedDataset,
    save_predictions: int = 0,
    progress: bool = True,
) -> None:
    """Fill ``record`` from the checkpoint and the test predictions (with probabilities, for the AUC; with
    instance labels, where the entry makes them and the dataset has them, for P05, RQ, SQ and PQ);
    the first ``save_predictions`` test images also get overlay PNGs in ``results/runs/<run_id>/``."""
    ckpt = spec.checkpoint
    predictor = Predictor(ckpt, entry)
    evaluation = RunEvaluation(data.n_classes, get_convention(entry.convention))
    instances = InstanceEvaluation() if data.has_instances else None
    folder = predictions_dir(spec.run_id) / "test"
    files, kept, shown = [], {}, []
    for vid in tqdm(data.fold(spec.fold).test, desc="score", unit="img", disable=not progress, leave=False):
        classes, probs, predicted = load_prediction(folder / f"{vid}.npz")
        if probs is None:
            raise UserError(f"{folder / vid}.npz has no probabilities; run: segrepro predict ... --probabilities")
        image, label, mask = data.load(vid)
        decisions = None
        if evaluation.convention.multi_label:  # the paper scores each sigmoid channel's own decision
            decisions = entry.decide_each(torch.from_numpy(probs)[None])[0].numpy()
        evaluation.add(vid, probs, classes, np.asarray(label), np.asarray(mask), decisions)
        if instances is not None and predicted is not None:
            instances.add(vid, data.load_instances(vid), predicted, np.asarray(mask))
        files.append(folder / f"{vid}.npz")
        if len(kept) < save_predictions:
            kept[vid] = classes
            shown.append((vid, np.asarray(image), np.asarray(label), np.asarray(mask)))
    if save_predictions:
        colours = [c.get("colour", "#888888") for c in data.meta["card"]["classes"]]
        record["predictions"] = save_overlays(record_path(spec).with_suffix(""), shown, kept, colours)
    metrics = evaluation.record_metrics(data.class_names)
    if instances is not None and instances.counts:
        metrics["instances"] = instances.record()
    root = paths.results_dir()
    record.update(
        status="ok",
        n_parameters=predictor.n_parameters,
        best_iteration=predictor.training["best_iteration"],
        curves={"train_loss": predictor.training["train_loss"], "val_score": predictor.training["val_score"]},
        metrics=metrics,
        checkpoint=str(ckpt.relative_to(root)),
        prediction_files=[str(f.relative_to(root)) for f in files],
        train_seconds=round(float(predictor.about["train_seconds"]), 3),
    )
    record["provenance"]["warm_start"] = predictor.about.get("warm_start")  # TRAN: the checkpoint it began from


def read_record(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable run record ({exc}); give --force to replace it") from exc


def store_record(path: Path, record: dict[str, Any]) -> bool:
    """Write ``record`` unless it failed where an ``ok`` record already is (kept: returns False)."""
    if record["status"] != "ok" and path.exists():
        try:
            if json.loads(path.read_text()).get("status") == "ok":
                return False
        except (OSError, ValueError):
            pass  # an unreadable record holds no metrics to lose
    write_record(path, record)
    return True
