"""The class-ratio stress test (Yudistira et al. 2020, table 6 and figure 4), for any dataset.

For each target foreground/background pixel ratio the training set is rebuilt at that ratio, each
baseline is trained on it with the protocol's training loop, and every model is scored on ONE
fixed test set: the fold's test images, untouched (model selection on the fold's validation images).
A target is a ratio (``1:100``) or a class-ratio vector as in the paper's table 6 (one pixel share
per foreground class, then the background), which also sets how the foreground splits among classes.

How the training set is rebuilt:
- ``synthetic-*``: as many images as the fold trains on are generated at the target (fresh seeds,
  never the prepared images'); the generator sets every class's pixel count, so the ratio is
  exact up to whole pixels. The foreground splits like the dataset's own fractions unless a vector says.
- any other dataset: the training volumes are cut into patch-sized tiles; to lower the ratio,
  background-only tiles are repeated; to raise it, they are dropped, then the tiles with the least
  foreground (so instances are subsampled too). Real data cannot always reach the target: the
  achieved ratio is recorded next to it (``--dry-run`` shows it without training). Vectors need a
  generated dataset: tiles cannot re-split the classes. ``--foreground CLASS`` sweeps one class of
  a real dataset against all the others merged (``datasets.one_vs_rest``): with every class kept, the
  commonest foreground classes hold the ratio far from the rare end.

Patches are drawn uniformly (``fg_fraction = 0``, the entry's augmentations kept), so the model sees the
training set's ratio.
Besides the scores, each model's rows record its training set: ``train_share`` per class (pixel
shares, background included), ``train_items`` (images or tiles) and ``train_seconds``.
Scores are canonical (counts pooled over the test images): per foreground class and their mean
(a class with an undefined score, e.g. precision when it is never predicted, is left out of the mean).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from segrepro import paths
from segrepro.baselines import get_baseline
from segrepro.cases import Case, load_cases, train_volumes
from segrepro.datasets import DATASETS, PreparedDataset, get_dataset
from segrepro.datasets.one_vs_rest import one_vs_rest
from segrepro.datasets.synthetic import SyntheticAdapter, generate
from segrepro.entry import TIERS, BaselineEntry
from segrepro.errors import UserError
from segrepro.fit import train_model
from segrepro.io import check_writable, write_bytes_atomic, write_json_atomic, write_text_atomic
from segrepro.metrics.conventions import CANONICAL
from segrepro.predict import case_counts
from segrepro.preprocess import Preprocess
from segrepro.records import finish_provenance, provenance
from segrepro.runspec import check_seed, open_dataset
from segrepro.sampling import TrainVolume, make_train_volume
from segrepro.training import pick_device

COLUMNS = ("seed", "ratio", "achieved_ratio", "baseline", "class", "metric", "value")
METRICS = ("precision", "recall", "tnr", "dice", "balanced_accuracy")  # dice = F1 of one class vs the rest
SYNTHETIC_SEED_OFFSET = 7_000_003  # stress-training images never share a seed with the prepared ones


@dataclass(frozen=True)
class Target:
    """One point of the sweep: the foreground/background pixel ratio and, for a class-ratio vector,
    the share of the foreground each class takes (summing to 1)."""

    ratio: float
    split: tuple[float, ...] | None = None
    text: str = ""


def _positive(item: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise UserError(
            f"bad ratio {item!r}: write foreground:background (1:100), a number (0.01) "
            "or a class-ratio vector (0.27/0.18/0.55: one share per foreground class, then the background)"
        )
    return value


def parse_ratios(text: str, n_classes: int) -> list[Target]:
    """``"1:1,1:10,0.01,0.27/0.18/0.5/0.05"`` -> targets for a dataset of ``n_classes`` (background included).

    An item is ``fg:bg``, a number (the ratio itself) or a vector of ``n_classes`` pixel shares,
    foreground classes first and the background last (the order of table 6's columns), normalised."""
    out: list[Target] = []
    for item in (t.strip() for t in text.split(",")):
        if "/" in item:
            shares = [_positive(item, t) for t in item.split("/")]
            if len(shares) != n_classes:
                raise UserError(
                    f"class-ratio vector {item!r} has {len(shares)} shares; this dataset needs {n_classes} "
                    f"({n_classes - 1} foreground classes, then the background)"
                )
            fg, bg = sum(shares[:-1]), shares[-1]
            if fg <= 0 or bg <= 0:
                raise UserError(f"class-ratio vector {item!r} needs some foreground and some background")
            target = Target(fg / bg, tuple(s / fg for s in shares[:-1]), item)
        else:
            fg_bg = item.split(":")
            if len(fg_bg) > 2:
                raise UserError(f"bad ratio {item!r}: write foreground:background, like 1:100")
            values = [_positive(item, t) for t in fg_bg]
            if min(values) <= 0:
                raise UserError(f"ratio {item!r} must be a positive foreground/background ratio")
            target = Target(values[0] / values[1] if len(values) == 2 else values[0], None, item)
        if any(np.isclose(t.ratio, target.ratio, rtol=1e-9) for t in out):
            raise UserError(f"ratio {item!r} is given twice (the table keys rows by ratio)")
        out.append(target)
    return out


def pixel_shares(volumes: Sequence[TrainVolume], n_classes: int) -> np.ndarray:
    """``(K,)`` share of the scored training pixels each class takes."""
    counts = np.zeros(n_classes)
    for v in volumes:
        counts += np.bincount(v.label[v.mask > 0].ravel(), minlength=n_classes)[:n_classes]
    return counts / max(counts.sum(), 1.0)


def fg_bg_ratio(volumes: Sequence[TrainVolume]) -> float:
    """Scored foreground pixels / scored background pixels."""
    fg = sum(float(((v.label > 0) * v.mask).sum()) for v in volumes)
    bg = sum(float(((v.label == 0) * v.mask).sum()) for v in volumes)
    return fg / bg if bg else float("inf")


def synthetic_training_set(
    adapter: SyntheticAdapter, n_images: int, target: Target, seed: int, preprocess: Preprocess
) -> list[TrainVolume]:
    """``n_images`` generated images at ``target`` (exact up to one pixel per class and image)."""
    cfg = adapter.config
    split = np.asarray(target.split if target.split is not None else cfg.fractions, dtype=np.float64)
    fractions = (target.ratio / (1 + target.ratio)) * split / split.sum()
    vols = []
    for i in range(n_images):
        try:
            image, label, mask = generate(cfg.shape, tuple(fractions), seed=SYNTHETIC_SEED_OFFSET + seed * 1000 + i)
        except ValueError as exc:
            raise UserError(f"ratio {target.text!r} cannot be generated: {exc}") from None
        vols.append(make_train_volume(preprocess(image), label, mask, len(cfg.fractions) + 1))
    return vols


def tiles(volume: TrainVolume, patch: tuple[int, ...], n_classes: int) -> list[TrainVolume]:
    """Non-overlapping patch-sized tiles (the last ones shifted inward to stay inside the volume)."""
    starts = [
        sorted({*range(0, max(s - p, 0) + 1, p), max(s - p, 0)}) for s, p in zip(volume.label.shape, patch, strict=True)
    ]
    out = []
    for origin in np.array(np.meshgrid(*starts, indexing="ij")).reshape(len(patch), -1).T:
        sl = tuple(slice(o, o + p) for o, p in zip(origin, patch, strict=True))
        out.append(make_train_volume(volume.image[(slice(None), *sl)], volume.label[sl], volume.mask[sl], n_classes))
    return out


def _fg_bg(t: TrainVolume) -> tuple[float, float]:
    return float(((t.label > 0) * t.mask).sum()), float(((t.label == 0) * t.mask).sum())


def resampled_training_set(
    volumes: Sequence[TrainVolume], patch: tuple[int, ...], ratio: float, n_classes: int
) -> list[TrainVolume]:
    """Tiles of ``volumes`` towards ``ratio`` (fg/bg of scored pixels). Above the ratio of the tiles
    with foreground, they are kept from the richest down while the ratio stays at or above the
    target; below it, background-only tiles are added (repeated as needed), or, when there are none,
    the tiles are kept from the poorest up while the ratio stays at or below the target (dropping
    instances). At least one tile is kept; the result's own ratio is what was reachable."""
    all_tiles = [t for v in volumes for t in tiles(v, patch, n_classes)]
    fg_tiles = [t for t in all_tiles if t.fg_index]
    bg_tiles = [t for t in all_tiles if not t.fg_index and t.mask.any()]
    if not fg_tiles:
        raise UserError("the training set has no foreground voxels: no ratio can be reached")
    counts = np.array([_fg_bg(t) for t in fg_tiles])
    fg, bg = counts.sum(axis=0)
    lower = fg > ratio * bg
    if lower and bg_tiles:
        per_tile = float(np.mean([t.mask.sum() for t in bg_tiles]))
        n_bg = round((fg / ratio - bg) / per_tile)
        return fg_tiles + [bg_tiles[i % len(bg_tiles)] for i in range(n_bg)]
    with np.errstate(divide="ignore", invalid="ignore"):
        richness = np.nan_to_num(counts[:, 0] / counts[:, 1], nan=0.0, posinf=np.inf)
    order = np.argsort(richness if lower else -richness, kind="stable")
    cum = counts[order].cumsum(axis=0)  # prefix ratios move monotonically towards the whole set's
    reach = cum[:, 0] <= ratio * cum[:, 1] if lower else cum[:, 0] >= ratio * cum[:, 1]
    return [fg_tiles[i] for i in order[: max(1, int(reach.sum()))]]


@dataclass(frozen=True)
class StressConfig:
    dataset: str
    baselines: tuple[str, ...]
    ratios: str  # as typed: parsed against the dataset's classes
    tier: str = "quick"
    fold: int = 0
    seeds: tuple[int, ...] = (0,)  # each seed is a whole sweep: its own training sets (synthetic) and training
    foreground: str | None = None  # real data: this class against all the others (``datasets.one_vs_rest``)

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise UserError(f"--seeds must name one or more different seeds, not {list(self.seeds)}")
        for seed in self.seeds:
            check_seed(seed)

    @property
    def name(self) -> str:
        """The sweep's name and default folder: the dataset, with the foreground class when there is one
        (``drosophila-vnc-mitochondria``), so sweeps of two classes never share a folder."""
        if self.foreground is None:
            return self.dataset
        return f"{self.dataset}-{re.sub(r'[^A-Za-z0-9]+', '-', self.foreground).strip('-').lower()}"


class Sweep:
    """The checked inputs of one stress run, loaded once for all its seeds (the dataset, the fold's cases per
    preprocessing), and the training set of each (target, seed, patch size)."""

    def __init__(self, config: StressConfig) -> None:
        if config.tier not in TIERS:
            raise UserError(f"unknown tier {config.tier!r}; choose one of {', '.join(TIERS)}")
        self.config = config
        self.data: PreparedDataset = open_dataset(config.dataset)  # registered or prepared from a YAML card
        self.adapter = get_dataset(config.dataset) if config.dataset in DATASETS else None
        self.synthetic = isinstance(self.adapter, SyntheticAdapter)
        if config.foreground is not None:
            if self.synthetic:
                raise UserError(
                    f"--foreground needs real data; {config.dataset} is generated: set each class's share with a "
                    "class-ratio vector instead (e.g. 0.001/0.001/0.001/0.997)"
                )
            self.data = one_vs_rest(self.data, config.foreground)
        self.targets = parse_ratios(config.ratios, self.data.n_classes)
        if not self.synthetic and any(t.split is not None for t in self.targets):
            raise UserError(f"class-ratio vectors need a generated dataset (synthetic-*), not {config.dataset}")
        self.entries: list[BaselineEntry] = [get_baseline(b) for b in dict.fromkeys(config.baselines)]
        for entry in self.entries:
            entry.recipe(config.tier)
            if entry.warm_start:  # paper 004's TRAN: its first weights come from another entry's run
                raise UserError(
                    f"baseline {entry.id} starts from the trained weights of {entry.warm_start}, and the stress "
                    f"test does not train its source: stress {entry.warm_start} or an entry without transfer"
                )
            if self.data.spatial_dims not in entry.spatial_dims:
                raise UserError(f"baseline {entry.id} supports {entry.spatial_dims}-D data, {config.dataset} is not")
        self.fold = self.data.fold(config.fold)
        self._cases: dict[tuple, list[Case]] = {}
        self._sets: dict[tuple, list[TrainVolume]] = {}

    def patch(self, entry: BaselineEntry) -> tuple[int, ...]:
        return tuple(entry.recipe(self.config.tier).patch_size[self.data.spatial_dims])

    def cases(self, entry: BaselineEntry, part: str) -> list[Case]:
        """The fold's ``train``, ``val`` or ``test`` volumes as ``entry`` sees them (kept per preprocessing)."""
        key = (part, entry.preprocess)
        if key not in self._cases:
            self._cases[key] = load_cases(entry, self.data, getattr(self.fold, part))
        return self._cases[key]

    def training_set(self, target: Target, entry: BaselineEntry, seed: int) -> list[TrainVolume]:
        """Generated (from ``seed``) or resampled (the same for every seed) at ``target``; shared by the
        baselines with the same preprocessing (and, on real data, the same patch size)."""
        patch = self.patch(entry)
        if self.synthetic:  # generated from the seed, for any patch size
            key: tuple = (target.ratio, seed, entry.preprocess)
        else:  # tiles of the fold's training volumes: the same for every seed
            key = (target.ratio, None, entry.preprocess, patch)
        if key not in self._sets:
            if self.synthetic:
                assert isinstance(self.adapter, SyntheticAdapter)
                vols = synthetic_training_set(self.adapter, len(self.fold.train), target, seed, entry.preprocess)
            else:
                whole = train_volumes(entry, self.data, self.cases(entry, "train"))
                vols = resampled_training_set(whole, patch, target.ratio, self.data.n_classes)
            self._sets = {k: v for k, v in self._sets.items() if k[:2] == key[:2]}  # keep one target's and seed's
            self._sets[key] = vols
        return self._sets[key]

    def plan(self) -> list[str]:
        """One line per (target, patch size): what the training set of the first seed achieves, without training."""
        lines = []
        for patch, entry in {self.patch(e): e for e in reversed(self.entries)}.items():
            for t in self.targets:
                vols = self.training_set(t, entry, self.config.seeds[0])
                shares = pixel_shares(vols, self.data.n_classes)
                split = " ".join(f"{n} {s:.4g}" for n, s in zip(self.data.class_names, shares, strict=True))
                unit = "images" if self.synthetic else f"{'x'.join(map(str, patch))} tiles"
                lines.append(
                    f"target {t.text} ({t.ratio:.4g}): achieved {fg_bg_ratio(vols):.4g} with {len(vols)} {unit}; "
                    f"pixel shares {split}"
                )
        return lines


def score_rows(
    target: Target, achieved: float, baseline: str, counts: dict[str, np.ndarray], class_names: Sequence[str]
) -> list[tuple]:
    """Tidy rows of one model's test counts: canonical scores per foreground class and their mean."""
    scores = CANONICAL.scores(np.stack(list(counts.values())))
    rows = []
    for m in METRICS:
        rows += [(target.ratio, achieved, baseline, name, m, scores[m][k]) for k, name in enumerate(class_names) if k]
        rows.append((target.ratio, achieved, baseline, "mean", m, CANONICAL.class_mean(scores[m])))
    return rows


def train_one(
    sweep: Sweep, entry: BaselineEntry, vols: list[TrainVolume], val: list[Case], test: list[Case], seed: int
) -> dict[str, np.ndarray]:
    """Train ``entry`` on ``vols`` from ``seed`` (best model on ``val``, uniform patches); its per-image test
    counts."""
    cfg, data = sweep.config, sweep.data
    recipe, uniform = entry.recipe(cfg.tier), replace(entry.sampling, fg_fraction=0.0, class_probabilities=None)
    model, _ = train_model(
        entry, cfg.tier, recipe, data.class_names, data.spatial_dims, vols, val, seed, False, sampling=uniform
    )
    return case_counts(model, entry, test, sweep.patch(entry), pick_device(), data.n_classes)


def train_point(
    sweep: Sweep, seed: int, target: Target, entry: BaselineEntry, failures: list[tuple], out_dir: Path
) -> list[tuple]:
    """The rows of one model of the sweep (its seed first): the training set's class shares and size, the
    test scores (empty when training failed: the failure goes to ``failures.csv`` and the sweep goes on)
    and the training time."""
    names = sweep.data.class_names
    vols = sweep.training_set(target, entry, seed)
    achieved = fg_bg_ratio(vols)
    shares = zip(names, pixel_shares(vols, sweep.data.n_classes), strict=True)
    rows = [(target.ratio, achieved, entry.id, n, "train_share", s) for n, s in shares]
    rows.append((target.ratio, achieved, entry.id, "all", "train_items", len(vols)))
    t0 = time.perf_counter()
    try:
        counts = train_one(sweep, entry, vols, sweep.cases(entry, "val"), sweep.cases(entry, "test"), seed)
    except (FloatingPointError, RuntimeError, ValueError) as exc:  # recorded, the sweep goes on
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        print(f"segrepro: {entry.id} at ratio {target.text} (seed {seed}) failed: {reason}", file=sys.stderr)
        failures.append((seed, f"{target.ratio:.6g}", entry.id, reason))
        write_csv(out_dir / "failures.csv", ("seed", "ratio", "baseline", "reason"), failures)
        rows += [(target.ratio, achieved, entry.id, "mean", m, None) for m in METRICS]
    else:
        rows += score_rows(target, achieved, entry.id, counts, names)
    rows.append((target.ratio, achieved, entry.id, "all", "train_seconds", time.perf_counter() - t0))
    return [(seed, *row) for row in rows]


def run_stress(config: StressConfig, out_dir: Path | None = None, progress: bool = True, resume: bool = False) -> Path:
    """Run the sweep once per seed into ``out_dir`` (default ``results/stress/<dataset>``): ``stress.csv``
    (a ``seed`` column, then one row per score) is rewritten after every model (only finished models in
    it), ``stress.png`` at the end, ``failures.csv`` (seed, ratio, baseline, reason) when a model failed,
    and ``stress.json``: what was run and its provenance (commit, versions, device, command, wall time), so
    every number traces back. ``stress.json`` is written first, with ``finished: null`` until the sweep ends,
    so that ``resume`` can continue an interrupted sweep: the models it finished are kept (their rows, and
    its provenance under ``earlier``) and only the others are trained.
    Returns ``out_dir``."""
    sweep = Sweep(config)
    out_dir = out_dir or paths.stress_dir(config.name)
    check_writable(out_dir)  # before any training
    started, device = time.perf_counter(), pick_device()
    about = {
        "config": asdict(config),
        "data_hash": sweep.data.data_hash,
        "recipes": {e.id: e.recipe(config.tier).to_dict() for e in sweep.entries},
        "provenance": provenance(device),
        "earlier": [],
    }
    rows: list[tuple] = []
    if resume:
        rows, about["earlier"] = finished_models(out_dir, about)
    done = {(seed, ratio, baseline) for seed, ratio, _, baseline, *_ in rows}
    write_json_atomic(out_dir / "stress.json", about)
    failures: list[tuple] = []
    (out_dir / "failures.csv").unlink(missing_ok=True)
    total = len(config.seeds) * len(sweep.targets) * len(sweep.entries)
    bar = tqdm(total=total, initial=len(done), desc="stress", unit="model", disable=not progress)
    for seed in config.seeds:
        for target in sweep.targets:
            for entry in sweep.entries:
                if (seed, float(f"{target.ratio:.6g}"), entry.id) in done:
                    continue
                bar.set_postfix(seed=seed, ratio=target.text, baseline=entry.id)
                rows += train_point(sweep, seed, target, entry, failures, out_dir)
                write_table(out_dir / "stress.csv", rows)
                bar.update()
    bar.close()
    plot(out_dir / "stress.csv", out_dir / "stress.png", title=f"{config.name}, {config.tier} tier")
    finish_provenance(about["provenance"], time.perf_counter() - started, device)
    write_json_atomic(out_dir / "stress.json", about)
    return out_dir


def finished_models(out_dir: Path, about: dict) -> tuple[list[tuple], list[dict]]:
    """The rows of the models that an earlier run of the same sweep finished in ``out_dir`` (a model that
    failed there is trained again) and the provenance of that run and of those it continued."""
    path = out_dir / "stress.json"
    if not path.is_file():
        raise UserError(f"nothing to resume in {out_dir}: it has no stress.json; run the sweep without --resume")
    try:
        before = json.loads(path.read_text())
    except ValueError as exc:
        raise UserError(f"cannot resume from {path}: it is not valid JSON ({exc})") from None
    for key in ("config", "data_hash", "recipes"):
        if before.get(key) != json.loads(json.dumps(about[key])):  # as read back: tuples become lists
            raise UserError(
                f"--resume continues the same sweep, but the {key} of the one in {out_dir} differs from this "
                "command's; rerun its own command (in its stress.json) or give another --out"
            )
    failed = set()
    if (out_dir / "failures.csv").is_file():
        with open(out_dir / "failures.csv", newline="") as f:
            failed = {(int(r["seed"]), float(r["ratio"]), r["baseline"]) for r in csv.DictReader(f)}
    rows = []
    if (out_dir / "stress.csv").is_file():
        with open(out_dir / "stress.csv", newline="") as f:
            for r in csv.DictReader(f):
                row = (int(r["seed"]), float(r["ratio"]), _number(r["achieved_ratio"]), r["baseline"])
                if row[0:2] + row[3:] not in failed:
                    rows.append((*row, r["class"], r["metric"], _number(r["value"])))
    return rows, [*before.get("earlier", []), before["provenance"]]


def _number(cell: str) -> float | None:
    return float(cell) if cell else None


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def write_table(path: Path, rows: Sequence[tuple]) -> None:
    """``stress.csv``; an undefined score is an empty cell."""

    def num(x: float | None) -> str:
        return "" if x is None or not np.isfinite(x) else f"{float(x):.6g}"

    write_csv(path, COLUMNS, [(str(s), num(r), num(a), b, c, m, num(v)) for s, r, a, b, c, m, v in rows])


def ratio_label(ratio: float) -> str:
    """``0.01`` -> ``1:100``, ``2.0`` -> ``2:1``."""
    return f"{ratio:.4g}:1" if ratio >= 1 else f"1:{1 / ratio:.4g}"


def summary_table(table: Path) -> str:
    """The sweep at a glance, in Markdown: per baseline (rows) and target ratio (columns, in the sweep's order)
    the mean accuracy / F1 of the mean over foreground classes, mean ± std over seeds where there are several;
    ``failed`` where no seed's model trained, ``n/a`` where a score is undefined."""
    import pandas as pd

    df = pd.read_csv(table)
    df = df[(df["class"] == "mean") & df["metric"].isin(("balanced_accuracy", "dice"))]
    ratios = list(dict.fromkeys(df["ratio"]))
    lines = [
        "| baseline | " + " | ".join(ratio_label(r) for r in ratios) + " |",
        "|---|" + "---:|" * len(ratios),
    ]

    def stat(values: pd.Series) -> str:
        values = values.dropna()
        if values.empty:
            return "n/a"
        return f"{values.mean():.3f}" + (f" ± {values.std():.3f}" if len(values) > 1 else "")

    for baseline, sub in df.groupby("baseline", sort=False):
        cells = []
        for r in ratios:
            point = sub[sub["ratio"] == r]
            if point["value"].isna().all():
                cells.append("failed" if len(point) else "")
                continue
            cells.append(
                " / ".join(stat(point.loc[point["metric"] == m, "value"]) for m in ("balanced_accuracy", "dice"))
            )
        lines.append(f"| `{baseline}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(table: Path, out: Path, title: str = "") -> None:
    """The paper's figure 4: mean accuracy (TPR + TNR) / 2 and F1 (mean over classes) against the
    training set's achieved foreground/background ratio, log x axis, one line per baseline: the mean over
    seeds, with a band from the lowest to the highest seed where there are several."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    df = pd.read_csv(table)
    df = df[df["class"] == "mean"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    panels = (("balanced_accuracy", "mean accuracy (TPR + TNR) / 2"), ("dice", "F1 (dice)"))
    for ax, (metric, label) in zip(axes, panels, strict=True):
        for baseline, sub in df[df["metric"] == metric].groupby("baseline"):
            sub = sub.assign(x=sub["achieved_ratio"].fillna(sub["ratio"]))
            by = sub.groupby("ratio").agg(
                x=("x", "mean"), mean=("value", "mean"), lo=("value", "min"), hi=("value", "max")
            )
            (line,) = ax.plot(by["x"], by["mean"], marker="o", label=baseline)
            if sub["seed"].nunique() > 1:
                ax.fill_between(by["x"], by["lo"], by["hi"], color=line.get_color(), alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.set_xlabel("foreground / background pixel ratio of the training set")
        ax.set_ylabel(f"{label}, mean over classes")
        ax.grid(True, alpha=0.3)
    axes[1].legend(fontsize=8, loc="best")
    fig.suptitle(f"Class-ratio stress test ({title})" if title else "Class-ratio stress test")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(out, buf.getvalue())
