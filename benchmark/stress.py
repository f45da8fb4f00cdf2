"""The class-ratio stress test (Yudistira et al. 2020, table 6 and figure 4), for any dataset.

For each target foreground/background pixel ratio the training set is rebuilt at that ratio, each
baseline is trained on it with the protocol's training loop, and every model is scored on ONE
fixed test set (the fold's test images; model selection on the fold's validation images).

How the training set is rebuilt:
- ``synthetic-*``: the same number of training images is generated with
  ``datasets.synthetic.generate`` at exactly the target ratio (fresh seeds, never the test images'),
  the foreground split among classes like the dataset's own fractions (or ``class_weights``).
- any other dataset: the training volumes are cut into patch-sized tiles; background-only tiles
  are dropped (to raise the ratio; then the tiles with the least foreground) or repeated (to lower
  it). The achieved ratio is recorded next to the target: real data cannot always reach it.

Patches are drawn uniformly (``fg_oversample = 0``), so the ratio the model sees is the ratio of
the training set. Scores follow the yudistira2020 convention: test images with no foreground
class are excluded, counts are pooled over the rest.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from segrepro import paths
from segrepro.baselines import BaselineEntry, get_baseline
from segrepro.baselines.entry import TIERS
from segrepro.datasets import get_dataset, load_prepared
from segrepro.datasets.synthetic import SyntheticAdapter, generate
from segrepro.errors import UserError
from segrepro.io import write_text_atomic
from segrepro.metrics import pooled_summary
from segrepro.protocol import _counts, normalise
from segrepro.sampling import PatchSampler, TrainVolume, make_train_volume
from segrepro.training import pick_device, seed_everything, train

COLUMNS = ("ratio", "achieved_ratio", "baseline", "class", "metric", "value")
METRICS = ("precision", "recall", "dice", "tnr", "balanced_accuracy")
SYNTHETIC_SEED_OFFSET = 7_000_003  # stress-training images never share a seed with the prepared ones


def parse_ratios(text: str) -> list[float]:
    """``"1:1,1:10,0.01"`` -> ``[1.0, 0.1, 0.01]`` (foreground/background pixel ratios)."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        try:
            if ":" in item:
                fg, bg = item.split(":")
                value = float(fg) / float(bg)
            else:
                value = float(item)
        except (ValueError, ZeroDivisionError):
            raise UserError(f"bad ratio {item!r}: write foreground:background (1:100) or a number (0.01)") from None
        if not np.isfinite(value) or value <= 0:
            raise UserError(f"ratio {item!r} must be a positive foreground/background ratio")
        out.append(value)
    if not out:
        raise UserError("give at least one ratio, e.g. --ratios 1:1,1:10,1:100")
    return out


def parse_class_weights(text: str | None, n_foreground: int) -> tuple[float, ...] | None:
    """``"0.27/0.18/0.17"`` -> how the foreground splits among classes (normalised later)."""
    if text is None:
        return None
    try:
        weights = tuple(float(t) for t in text.split("/"))
    except ValueError:
        raise UserError(f"bad class weights {text!r}: write one number per foreground class, like 3/1/0.1") from None
    if len(weights) != n_foreground or min(weights) < 0 or sum(weights) <= 0:
        raise UserError(f"class weights need {n_foreground} non-negative numbers with a positive sum, got {text!r}")
    return weights


def fg_bg_ratio(volumes: Sequence[TrainVolume]) -> float:
    """Scored foreground pixels / scored background pixels."""
    fg = sum(float(((v.label > 0) * v.mask).sum()) for v in volumes)
    bg = sum(float(((v.label == 0) * v.mask).sum()) for v in volumes)
    return fg / bg if bg else float("inf")


def synthetic_training_set(
    adapter: SyntheticAdapter, n_images: int, ratio: float, class_weights: Sequence[float] | None, seed: int
) -> list[TrainVolume]:
    """``n_images`` generated images whose foreground/background ratio is exactly ``ratio``."""
    cfg = adapter.config
    weights = np.asarray(class_weights if class_weights is not None else cfg.fractions, dtype=np.float64)
    fractions = (ratio / (1 + ratio)) * weights / weights.sum()
    vols = []
    for i in range(n_images):
        image, label, mask = generate(cfg.shape, tuple(fractions), seed=SYNTHETIC_SEED_OFFSET + seed * 1000 + i)
        vols.append(make_train_volume(normalise(image), label, mask, len(cfg.fractions) + 1))
    return vols


def tiles(volume: TrainVolume, patch: tuple[int, ...], n_classes: int) -> list[TrainVolume]:
    """Non-overlapping patch-sized tiles (the last ones shifted inward to stay inside the volume)."""
    starts = [
        sorted({*range(0, max(s - p, 0) + 1, p), max(s - p, 0)}) for s, p in zip(volume.label.shape, patch, strict=True)
    ]
    out = []
    for origin in np.array(np.meshgrid(*starts, indexing="ij")).reshape(len(patch), -1).T:
        sl = tuple(slice(o, o + p) for o, p in zip(origin, patch, strict=True))
        out.append(make_train_volume(volume.image[sl], volume.label[sl], volume.mask[sl], n_classes))
    return out


def resampled_training_set(
    volumes: Sequence[TrainVolume], patch: tuple[int, ...], ratio: float, n_classes: int
) -> list[TrainVolume]:
    """Tiles of ``volumes`` with background-only tiles dropped or repeated towards ``ratio``."""
    all_tiles = [t for v in volumes for t in tiles(v, patch, n_classes)]
    fg_tiles = [t for t in all_tiles if t.fg_index]
    bg_tiles = [t for t in all_tiles if not t.fg_index and t.mask.any()]
    if not fg_tiles:
        raise UserError("the training set has no foreground voxels: no ratio can be reached")
    if fg_bg_ratio(fg_tiles) < ratio:
        # Above what foreground tiles give: keep the most foreground-rich tiles while that helps.
        fg_tiles.sort(key=lambda t: -fg_bg_ratio([t]))
        keep = [fg_tiles[0]]
        for t in fg_tiles[1:]:
            if fg_bg_ratio(keep) >= ratio:
                break
            keep.append(t)
        return keep
    fg = sum(float(((t.label > 0) * t.mask).sum()) for t in fg_tiles)
    bg = sum(float(((t.label == 0) * t.mask).sum()) for t in fg_tiles)
    if not bg_tiles:
        return fg_tiles
    per_tile = float(np.mean([t.mask.sum() for t in bg_tiles]))
    n_bg = max(0, round((fg / ratio - bg) / per_tile))
    return fg_tiles + [bg_tiles[i % len(bg_tiles)] for i in range(n_bg)]


@dataclass(frozen=True)
class StressConfig:
    dataset: str
    baselines: tuple[str, ...]
    ratios: tuple[float, ...]
    tier: str = "quick"
    fold: int = 0
    seed: int = 0
    class_weights: tuple[float, ...] | None = None


def score_rows(
    ratio: float, achieved: float, baseline: str, counts: dict[str, np.ndarray], class_names: Sequence[str]
) -> list[tuple]:
    """Tidy rows for one model: per foreground class and their mean, yudistira2020 image exclusion."""
    kept = {vid: c for vid, c in counts.items() if (c[1:, 0] + c[1:, 2]).sum() > 0}  # images with a class
    summary = pooled_summary(kept or counts, class_names)
    total = np.sum(np.stack(list((kept or counts).values())), axis=0).astype(np.float64)
    tp, fp, fn, tn = (total[:, i] for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        tnr = tn / (tn + fp)
        bacc = (tp / (tp + fn) + tnr) / 2
    rows = []
    for k, name in enumerate(class_names):
        if k == 0:
            continue
        scores = dict(summary["per_class"][name])
        scores["tnr"], scores["balanced_accuracy"] = tnr[k], bacc[k]
        rows += [(ratio, achieved, baseline, name, m, scores[m]) for m in METRICS]
    for m in METRICS:
        vals = np.array([r[5] for r in rows if r[4] == m and r[5] is not None], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        rows.append((ratio, achieved, baseline, "mean", m, float(vals.mean()) if vals.size else None))
    return rows


def run_stress(config: StressConfig, out_dir: Path | None = None, progress: bool = True) -> Path:
    """Run the sweep; write ``stress.csv`` and ``stress.png`` into ``out_dir``; return ``out_dir``."""
    if config.tier not in TIERS:
        raise UserError(f"unknown tier {config.tier!r}; choose one of {', '.join(TIERS)}")
    adapter = get_dataset(config.dataset)
    data = load_prepared(config.dataset)
    entries: list[BaselineEntry] = [get_baseline(b) for b in config.baselines]
    for entry in entries:
        entry.recipe(config.tier)
        if data.spatial_dims not in entry.spatial_dims:
            raise UserError(f"baseline {entry.id} supports {entry.spatial_dims}-D data, {config.dataset} is not")
    out_dir = out_dir or paths.results_dir() / "stress" / config.dataset
    fold = data.fold(config.fold)
    device = pick_device()
    k = data.n_classes

    def load(ids: Sequence[str]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        cases = []
        for vid in ids:
            img, lab, msk = data.load(vid)
            cases.append((vid, normalise(img), np.asarray(lab), np.asarray(msk)))
        return cases

    val_cases, test_cases = load(fold.val), load(fold.test)
    train_cases = None if isinstance(adapter, SyntheticAdapter) else load(fold.train)
    rows: list[tuple] = []
    bar = tqdm(total=len(config.ratios) * len(entries), desc="stress", unit="run", disable=not progress)
    whole = [make_train_volume(img, lab, msk, k) for _, img, lab, msk in train_cases or []]
    for ratio in config.ratios:
        training_sets: dict[tuple[int, ...], list[TrainVolume]] = {}  # one per patch size
        for entry in entries:
            recipe = replace(entry.recipe(config.tier), fg_oversample=0.0)
            patch = tuple(recipe.patch_size[data.spatial_dims])
            key = () if train_cases is None else patch
            if key not in training_sets:
                training_sets[key] = (
                    synthetic_training_set(adapter, len(fold.train), ratio, config.class_weights, config.seed)
                    if train_cases is None
                    else resampled_training_set(whole, patch, ratio, k)
                )
            vols = training_sets[key]
            achieved = fg_bg_ratio(vols)
            bar.set_postfix(ratio=f"{ratio:.3g}", baseline=entry.id)
            seed_everything(config.seed)
            model = entry.build_model(1, k, data.spatial_dims, config.tier)
            sampler = PatchSampler(vols, patch, 0.0, seed=config.seed)

            def validate(m: torch.nn.Module, entry: BaselineEntry = entry, patch: tuple[int, ...] = patch) -> float:
                score = pooled_summary(_counts(m, entry, val_cases, patch, device, k, None), data.class_names)
                return -1.0 if score["mean"]["dice"] is None else score["mean"]["dice"]

            t0 = time.perf_counter()
            result = train(model, entry.loss(), sampler, recipe, validate, device, progress=progress)
            model.load_state_dict(result.best_state)
            counts = _counts(model, entry, test_cases, patch, device, k, None)
            rows += score_rows(ratio, achieved, entry.id, counts, data.class_names)
            rows.append((ratio, achieved, entry.id, "all", "train_seconds", round(time.perf_counter() - t0, 2)))
            bar.update()
    bar.close()
    write_table(out_dir / "stress.csv", rows)
    plot(out_dir / "stress.csv", out_dir / "stress.png", title=f"{config.dataset}, {config.tier} tier")
    return out_dir


def write_table(path: Path, rows: Sequence[tuple]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for ratio, achieved, baseline, cls, metric, value in rows:
        v = "" if value is None or not np.isfinite(value) else f"{float(value):.6g}"
        writer.writerow((f"{ratio:.6g}", f"{achieved:.6g}", baseline, cls, metric, v))
    write_text_atomic(path, buf.getvalue())


def plot(table: Path, out: Path, title: str = "") -> None:
    """Figure 4 of the paper: mean accuracy (TPR + TNR)/2 and F1 (mean over classes) vs the ratio."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    df = pd.read_csv(table)
    df = df[df["class"] == "mean"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for ax, metric, label in zip(
        axes, ("balanced_accuracy", "dice"), ("mean accuracy (TPR + TNR) / 2", "F1 (dice)"), strict=True
    ):
        for baseline, sub in df[df["metric"] == metric].groupby("baseline"):
            sub = sub.sort_values("achieved_ratio")
            ax.plot(sub["achieved_ratio"], sub["value"], marker="o", label=baseline)
        ax.set_xscale("log")
        ax.set_xlabel("foreground / background pixel ratio of the training set")
        ax.set_ylabel(f"{label}, mean over classes")
        ax.grid(True, alpha=0.3)
    axes[1].legend(fontsize=8, loc="best")
    fig.suptitle(f"Class-ratio stress test ({title})" if title else "Class-ratio stress test")
    fig.tight_layout()
    tmp = out.with_name(f".{out.name}.tmp.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)
