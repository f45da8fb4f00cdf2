"""What ``dvc metrics show`` and ``dvc plots show`` present (declared in dvc.yaml's aggregate stage):
``results/dvc/metrics.json``, the leaderboard's canonical mean scores as DVC's nested metrics
(dataset -> baseline -> tier -> dice_mean, iou_mean, n_runs, n_failed) of the pipeline's own runs (the
leaderboard's rows of submitted bundles are left out: their curves are not in ``results/runs`` either),
and one CSV per run and curve
under ``results/dvc/curves/<curve>/<run_id>.csv`` (iteration, value), DVC's plot format.
Written from the records and the leaderboard table that ``aggregate`` just made; each file atomically."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from segrepro.io import replace_dir_atomic, staging_dir, write_text_atomic
from segrepro.results import SOURCE_SUBMITTED

CURVES = ("train_loss", "val_score")
METRICS = ("dice_mean", "iou_mean", "n_runs", "n_failed")


def metrics_tree(board: pd.DataFrame) -> dict[str, Any]:
    """``{dataset: {baseline: {tier: {metric: value}}}}`` of the leaderboard table's rows that are not
    submitted (NaN left out)."""
    tree: dict[str, Any] = {}
    for row in board[board["source"] != SOURCE_SUBMITTED].to_dict("records"):
        values = {m: row[m] for m in METRICS if m in row and pd.notna(row[m])}
        tree.setdefault(row["dataset"], {}).setdefault(row["baseline"], {})[row["tier"]] = values
    return json.loads(json.dumps(tree, default=float))  # numpy numbers as plain JSON numbers


def write_dvc_views(board: pd.DataFrame, records: list[dict[str, Any]], out: Path) -> Path:
    """Write ``out/dvc/metrics.json`` and ``out/dvc/curves/`` (replacing the previous curves); return ``out/dvc``."""
    folder = out / "dvc"
    write_text_atomic(folder / "metrics.json", json.dumps(metrics_tree(board), indent=2, sort_keys=True) + "\n")
    staging = staging_dir(folder / "curves")
    try:
        for curve in CURVES:
            (staging / curve).mkdir()
            for record in records:
                points = (record.get("curves") or {}).get(curve) or []
                if points:
                    rows = "".join(f"{int(i)},{float(v)!r}\n" for i, v in points)
                    (staging / curve / f"{record['run_id']}.csv").write_text(f"iteration,{curve}\n{rows}")
        replace_dir_atomic(staging, folder / "curves")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder
