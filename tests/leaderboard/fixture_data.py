"""Fixture files for the leaderboard tests and the 10,000-run benchmark: run records that follow the
schema, paper packages (published.csv + methods.csv) and stress tables, written into a folder."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from segrepro.records import validate_record

CLASSES = ("background", "membrane", "mitochondria", "synapse")


def make_record(
    dataset: str,
    baseline: str,
    paper: str,
    tier: str,
    fold: int,
    seed: int,
    per_class: Mapping[str, Mapping[str, float]] | None = None,
    classes: Sequence[str] = CLASSES,
    status: str = "ok",
    convention: str = "canonical",
    counts_per_class: Sequence[int] = (9000, 600, 300, 100),
    extra: Mapping[str, Any] | None = None,
    paper_scores: Mapping[str, Mapping[str, float]] | None = None,
    legacy: bool = False,
) -> dict[str, Any]:
    """A schema-valid run record; ``per_class`` scores are given (the mean is over foreground classes).

    Like the protocol's records, it carries the block of the baseline's ``convention`` in
    ``metrics.paper`` (``paper_scores``, or the canonical scores where none are given); a ``legacy``
    record, like those made before the metrics engine, has the canonical block only.
    Raw counts put ``counts_per_class`` ground-truth voxels in each class (split over two images),
    so the class shares the page derives from them are known."""
    run_id = f"{dataset}__{baseline}__{tier}__f{fold}__s{seed}"
    metrics = None
    if status == "ok":
        per_class = per_class or {c: {"dice": 0.5} for c in classes}
        half = [
            [[n // 2, 1, n - n // 2, 10] for n in counts_per_class],
            [[n - n // 2, 1, n // 2, 10] for n in counts_per_class],
        ]
        metrics = {
            "canonical": _summary(per_class, classes),
            "counts_per_image": {"img0": half[0], "img1": half[1]},
        }
        if not legacy:
            metrics["paper_convention"] = convention
            metrics["paper"] = _summary(paper_scores or per_class, classes)
    record = {
        "schema_version": 1,
        "run_id": run_id,
        "status": status,
        "reason": None if status == "ok" else "RuntimeError: out of memory",
        "dataset": {"name": dataset, "data_hash": "abc123", "classes": list(classes), "spatial_dims": 2},
        "baseline": {"id": baseline, "paper": paper, "convention": convention},
        "fold": fold,
        "seed": seed,
        "tier": tier,
        "recipe": {"iterations": 30, "batch_size": 4, "lr": 0.003},
        "n_parameters": 1234,
        "metrics": metrics,
        "curves": {"train_loss": [[1, 1.5], [10, 0.9], [20, 0.4]], "val_score": [[10, 0.3], [20, 0.6]]}
        if status == "ok"
        else None,
        "best_iteration": 20 if status == "ok" else None,
        "provenance": {
            "git_commit": "0123456789abcdef0123456789abcdef01234567",
            "git_dirty": False,
            "versions": {"python": "3.11.2", "torch": "2.13.0"},
            "device": "cpu",
            "command": f"segrepro run --dataset {dataset} --baseline {baseline} --fold {fold} --seed {seed}",
            "started": "2026-11-23T09:00:00+00:00",
            "finished": "2026-11-23T09:01:00+00:00",
            "wall_time_s": 60.0,
            "peak_memory_mb": 512.0,
            "deterministic": True,
            "threads": 2,
            "cpu": "AMD EPYC, 2 logical CPUs, AVX2",
        },
        **(extra or {}),
    }
    validate_record(record)
    return record


def with_instances(record: dict[str, Any], pq: float, sq: float = 0.8) -> dict[str, Any]:
    """``record`` with a pooled instance block (paper 002's entries on a dataset with instance labels):
    PQ ``pq``, SQ ``sq``, so RQ = PQ / SQ; P05 a fixed 0.9."""
    record["metrics"]["instances"] = {
        "matching": "IoU > 0.5 against the dataset's instance labels, masked voxels removed",
        "pooled": {"p05": 0.9, "rq": pq / sq, "sq": sq, "pq": pq, "tp": 9, "fp": 1, "fn": 2},
        "per_image": {"img0": {"p05": 0.9, "rq": pq / sq, "sq": sq, "pq": pq, "tp": 9, "fp": 1, "fn": 2}},
    }
    validate_record(record)
    return record


def _summary(per_class: Mapping[str, Mapping[str, float]], classes: Sequence[str]) -> dict[str, Any]:
    """A ``{"per_class", "mean"}`` block; the mean is over the foreground classes given."""
    names = sorted({m for scores in per_class.values() for m in scores})
    fg = [c for c in classes[1:] if c in per_class]
    mean = {m: float(np.mean([per_class[c][m] for c in fg])) for m in names}
    return {"per_class": {c: dict(s) for c, s in per_class.items()}, "mean": mean}


def write_record(folder: Path, record: Mapping[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['run_id']}.json"
    path.write_text(json.dumps(record))
    return path


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


PUBLISHED_HEADER = ("paper", "table", "dataset", "method", "class", "metric", "value", "std")
METHODS_HEADER = ("table", "method", "baseline", "scale")
STRESS_HEADER = ("ratio", "achieved_ratio", "baseline", "class", "metric", "value")

# The known fixture: reference runs of two baselines of paper 001 on drosophila-vnc at tier paper
# (3 folds x 2 seeds), one user run at tier smoke, and the paper's published table in percent.
XNET_DICE = (0.80, 0.82, 0.84, 0.81, 0.83, 0.85)  # mitochondria dice of xnet's six runs
UNET_DICE = (0.70, 0.71, 0.72, 0.69, 0.70, 0.71)


FIXTURE_CLAIMS = """
paper: "001"
claims:
  - id: xnet-beats-unet
    quote: X-Net beats U-Net on mitochondria.
    source: table 3
    datasets: [drosophila-vnc]
    metric: dice
    class: mitochondria
    a: xnet-sce-iou
    b: unet-sce
    direction: higher
    effect: -7.5
    scale: 100
  - id: unet-beats-xnet
    quote: U-Net beats X-Net on mitochondria.
    source: table 3
    datasets: [drosophila-vnc, arabidopsis-cells]
    metric: dice
    class: mitochondria
    a: unet-sce
    b: xnet-sce-iou
    direction: higher
"""
"""Claims on the fixture's runs: the first holds at tier paper (six pairs, X-Net ahead in each) and is
undetermined at tier smoke (X-Net only); the second does not hold, and is not testable on arabidopsis-cells."""


def write_fixture(root: Path) -> dict[str, Path]:
    """Write the known fixture under ``root``: ``results/`` and ``published/``; returns both folders."""
    results, published = root / "results", root / "published"
    for baseline, dices in (("xnet-sce-iou", XNET_DICE), ("unet-sce", UNET_DICE)):
        for i, dice in enumerate(dices):
            fold, seed = divmod(i, 2)
            scores = {
                "background": {"dice": 0.98, "iou": 0.96},
                "membrane": {"dice": dice - 0.05, "iou": (dice - 0.05) / 2},
                "mitochondria": {"dice": dice, "iou": dice / 2},
                "synapse": {"dice": dice - 0.4, "iou": (dice - 0.4) / 2},
            }
            write_record(
                results / "reference" / "runs",
                make_record("drosophila-vnc", baseline, "001", "paper", fold, seed, scores),
            )
    mine = {c: {"dice": 0.4, "iou": 0.2} for c in CLASSES}
    write_record(results / "runs", make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 0, 0, mine))
    write_csv(
        published / "p001" / "published.csv",
        PUBLISHED_HEADER,
        [
            ("001", "3", "drosophila-vnc", "X-Net (SCE and IoU)", "mitochondria", "dice", "82.5", ""),
            ("001", "3", "drosophila-vnc", "U-Net (SCE)", "mitochondria", "dice", "90.0", "1.0"),
            ("001", "3", "drosophila-vnc", "Double U-Net", "mitochondria", "dice", "79.0", ""),
            ("001", "4", "arabidopsis-cells", "X-Net (SCE and IoU)", "cell", "iou", "91.2", ""),
        ],
    )
    write_csv(
        published / "p001" / "methods.csv",
        METHODS_HEADER,
        [
            ("3", "X-Net (SCE and IoU)", "xnet-sce-iou", "100"),
            ("3", "U-Net (SCE)", "unet-sce", "100"),
            ("3", "Double U-Net", "", "100"),
            ("4", "X-Net (SCE and IoU)", "xnet-sce-iou", "100"),
        ],
    )
    (published / "p001" / "claims.yaml").write_text(FIXTURE_CLAIMS)
    write_csv(
        results / "stress" / "synthetic-2d" / "stress.csv",
        STRESS_HEADER,
        [
            (r, r * 1.1, b, "mitochondria", "balanced_accuracy", v)
            for b, base in (("xnet-sce-iou", 0.6), ("unet-sce", 0.5))
            for r, v in ((0.001, base), (0.01, base + 0.1), (0.1, base + 0.2))
        ],
    )
    return {"results": results, "published": published}
