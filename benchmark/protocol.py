"""The standard protocol: ``run`` = fit -> predict (test split, with probabilities) -> score, for one
(dataset, baseline, fold, seed, tier), under the run's lock.

Every argument and every destination is checked before any work. An existing record is kept (the
outcome says ``exists``) unless ``force``. A run that breaks after it started is written as a
``failed`` record with its reason, so one bad run never hides the others, except where an ``ok``
record already stands: a failure never replaces it (outcome ``kept``).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from segrepro.datasets import PreparedDataset
from segrepro.entry import BaselineEntry
from segrepro.errors import UserError
from segrepro.fit import fit
from segrepro.io import check_writable
from segrepro.locks import run_lock
from segrepro.predict import predict_split, predictions_dir
from segrepro.records import finish_provenance
from segrepro.runspec import RunSpec, check_spec
from segrepro.score import new_record, read_record, record_path, score_record, store_record
from segrepro.training import pick_device

__all__ = ["RunOutcome", "RunSpec", "execute", "rescore"]


@dataclass(frozen=True)
class RunOutcome:
    record: dict[str, Any]
    action: str  # "written"; "exists" (skipped: the record on disk); "kept" (this run failed, the ok record stays)


Work = Callable[[dict[str, Any], BaselineEntry, PreparedDataset], None]


def _recorded(spec: RunSpec, work: Work, force: bool, save_predictions: int) -> RunOutcome:
    """Check, lock, skip an existing record unless ``force``, do ``work`` into a new record, store it."""
    if save_predictions < 0:
        raise UserError(f"--save-predictions must be 0 or more, not {save_predictions}")
    entry, data = check_spec(spec)
    out = record_path(spec)
    for folder in (out.parent, spec.checkpoint.parent, predictions_dir(spec.run_id)):
        check_writable(folder)
    with run_lock(spec.run_id):
        if out.exists() and not force:
            return RunOutcome(read_record(out), "exists")
        t0, device = time.perf_counter(), pick_device()
        record = new_record(spec, entry, data, device)
        try:
            work(record, entry, data)
        except (KeyboardInterrupt, UserError):
            raise
        except Exception as exc:  # recorded, not hidden: the record says why the run failed
            record["reason"] = f"{type(exc).__name__}: {exc}"
            record["traceback"] = traceback.format_exc(limit=8)
        finish_provenance(record["provenance"], time.perf_counter() - t0, device)
        return RunOutcome(record, "written" if store_record(out, record) else "kept")


def execute(spec: RunSpec, progress: bool = True, save_predictions: int = 0, force: bool = False) -> RunOutcome:
    """``run``: fit (resuming an unfinished checkpoint; ``force`` trains again), predict the test split
    with probabilities, score it into ``results/runs/<run_id>.json``. ``save_predictions`` N > 0 also
    writes overlay PNGs of the first N test images into ``results/runs/<run_id>/``."""

    def work(record: dict[str, Any], entry: BaselineEntry, data: PreparedDataset) -> None:
        record["provenance"]["training"] = fit(spec, force=force, progress=progress).action
        predict_split(spec, "test", probabilities=True, progress=progress)
        score_record(record, spec, entry, data, save_predictions, progress)

    return _recorded(spec, work, force, save_predictions)


def rescore(spec: RunSpec, progress: bool = True, save_predictions: int = 0, force: bool = False) -> RunOutcome:
    """``score``: the record from the existing checkpoint and test predictions (no training)."""

    def work(record: dict[str, Any], entry: BaselineEntry, data: PreparedDataset) -> None:
        record["provenance"]["training"] = "exists"
        score_record(record, spec, entry, data, save_predictions, progress)

    return _recorded(spec, work, force, save_predictions)
