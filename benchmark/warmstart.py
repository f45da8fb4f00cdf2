"""Warm starts (paper 004's TRAN): a two-stage fit through checkpoints.

An entry with ``warm_start`` begins from the finished checkpoint of its source entry's run on the same
dataset, fold, seed and tier: that run's best weights, all but the last layer, initialise the new model
(``transfer_all_but_last``). Which checkpoint it started from (path, sha256, run id, recipe hash, data
hash) goes into the new checkpoint and the run record's provenance. A missing source is a one-line error
naming the command that trains it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from segrepro import paths
from segrepro.checkpoint import load_checkpoint
from segrepro.datasets import PreparedDataset
from segrepro.entry import BaselineEntry
from segrepro.errors import UserError
from segrepro.locks import run_lock
from segrepro.predict import Predictor
from segrepro.runspec import RunSpec


@dataclass(frozen=True)
class WarmStart:
    """The source run's weights and where they come from (``about``, recorded as provenance)."""

    init: Callable[[nn.Module], list[str]]
    about: dict[str, Any]


def train_command(spec: RunSpec) -> str:
    return (
        f"segrepro run --dataset {spec.dataset} --baseline {spec.baseline} --fold {spec.fold} "
        f"--seed {spec.seed} --tier {spec.tier}"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_warm_start(spec: RunSpec, entry: BaselineEntry, data: PreparedDataset) -> WarmStart | None:
    """``None`` for an entry without ``warm_start``; else the source run's finished weights, or a one-line
    ``UserError`` that names the command making them (missing, unfinished or made from other data)."""
    if not entry.warm_start:
        return None
    from segrepro.baselines.zerovnik2020.transfer import transfer_all_but_last  # on use: a paper's package

    source = RunSpec(spec.dataset, entry.warm_start, spec.fold, spec.seed, spec.tier)  # same data, fold, seed, tier
    path = paths.checkpoint_path(source.run_id)
    first = f"baseline {entry.id} starts from the trained weights of {entry.warm_start}"
    if not path.is_file():
        raise UserError(f"{first}: train it first with `{train_command(source)}`")
    with run_lock(source.run_id):  # the file hashed is the file loaded
        if not load_checkpoint(path)["finished"]:
            raise UserError(f"{first}, whose checkpoint {path} is unfinished: finish it with `{train_command(source)}`")
        predictor = Predictor(path)  # the same recipe and input channels, or a one-line UserError
        if predictor.about["data_hash"] != data.data_hash:
            raise UserError(
                f"{first}, whose checkpoint {path} was trained on another version of {spec.dataset}: "
                f"train it again with `{train_command(source)} --force`"
            )
        sha256 = file_sha256(path)
    weights = {k: v.detach().cpu().contiguous() for k, v in predictor.model.state_dict().items()}
    about = {
        "run_id": source.run_id,
        "entry": entry.warm_start,
        "checkpoint": str(path.relative_to(paths.results_dir())),
        "sha256": sha256,
        "recipe_hash": predictor.about["recipe_hash"],
        "data_hash": predictor.about["data_hash"],
        "best_iteration": predictor.training["best_iteration"],
        "transferred": "all layers but the last",
    }
    return WarmStart(lambda model: transfer_all_but_last(model, weights), about)
