"""The leaderboard's data access: find, parse and schema-validate the files it shows.

Three kinds of file, each checked against a JSON schema in ``segrepro/schemas``:

- run records ``*.json`` in ``results/reference/runs/`` (the reproductions committed to this
  repository) and ``results/runs/`` (the user's own, marked as theirs);
- every paper package's ``baselines/<paper>/published.csv`` and ``methods.csv``;
- stress-test tables ``results/stress/<dataset>/stress.csv`` (and the same under ``results/reference/``).

Files are read as JSON and CSV text only; nothing in them is ever executed (no pickle, no eval, no
import). A malformed file becomes a ``Problem`` (which file, what is wrong) and is left out, so one
bad file never takes the page down. Everything here is plain Python + pandas, testable without
Streamlit; the app caches the results keyed on ``signature`` (names, sizes and mtimes).
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from segrepro import paths
from segrepro.records import run_record_schema

SOURCE_REFERENCE = "reference"
SOURCE_MINE = "yours"
CANONICAL = "canonical"
MAX_FILE_BYTES = 64 * 2**20
"""Larger files are refused rather than parsed (a run record is a few hundred KiB at most)."""
PNG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.png$")
"""Overlay files a record may name: plain PNG file names inside the run's own folder, no paths."""

RUN_COLUMNS = [
    "key",
    "source",
    "file",
    "run_id",
    "dataset",
    "baseline",
    "paper",
    "tier",
    "fold",
    "seed",
    "status",
    "reason",
    "convention",
    "data_hash",
    "git_commit",
    "device",
    "wall_time_s",
    "started",
    "n_predictions",
]
SCORE_COLUMNS = ["key", "convention", "class", "metric", "value"]
SHARE_COLUMNS = ["key", "class", "share"]
PUBLISHED_COLUMNS = ["paper", "table", "dataset", "method", "class", "metric", "value", "std"]
METHODS_COLUMNS = ["table", "method", "baseline", "scale"]
STRESS_COLUMNS = ["ratio", "achieved_ratio", "baseline", "class", "metric", "value"]


@dataclass(frozen=True)
class Problem:
    """A file the page could not use: which file and what is wrong with it."""

    path: str
    message: str


@dataclass(frozen=True)
class Folders:
    """Where the page looks. ``runs`` and ``stress`` are ``(source, folder)`` pairs."""

    runs: tuple[tuple[str, Path], ...]
    published: Path
    stress: tuple[tuple[str, Path], ...]


@dataclass
class Results:
    """Every valid run record, flattened: ``runs`` one row per record (``key`` = its file path),
    ``scores`` one row per (record, convention, class, metric), ``shares`` each class's share of
    the scored test voxels (TP + FN over all classes), from the record's raw counts."""

    runs: pd.DataFrame
    scores: pd.DataFrame
    shares: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Tables:
    """Published numbers joined to their method mapping, and stress-test rows."""

    published: pd.DataFrame
    stress: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def published_root() -> Path:
    """The folder holding the paper packages: ``SEGREPRO_PUBLISHED_DIR`` or ``segrepro.baselines``."""
    env = os.environ.get("SEGREPRO_PUBLISHED_DIR")
    return Path(env) if env else Path(str(files("segrepro.baselines")))


def default_folders() -> Folders:
    results = paths.results_dir()
    reference = results / "reference"
    return Folders(
        runs=((SOURCE_REFERENCE, reference / "runs"), (SOURCE_MINE, results / "runs")),
        published=published_root(),
        stress=((SOURCE_REFERENCE, reference / "stress"), (SOURCE_MINE, results / "stress")),
    )


# --- change detection ---------------------------------------------------------------------------


def _stat_entries(paths_: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in paths_:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


def _json_files(folder: Path) -> Iterator[Path]:
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.endswith(".json") and not entry.name.startswith(".") and entry.is_file():
                    yield Path(entry.path)
    except OSError:
        return


def runs_signature(folders: Folders) -> tuple:
    """Names, mtimes and sizes of every run record: changes whenever a record is added, changed or removed."""
    return tuple((source, str(folder), _stat_entries(_json_files(folder))) for source, folder in folders.runs)


def tables_signature(folders: Folders) -> tuple:
    """The same for published, methods and stress tables."""
    pub = _stat_entries([*folders.published.glob("*/published.csv"), *folders.published.glob("*/methods.csv")])
    stress = tuple((s, str(f), _stat_entries(f.glob("*/stress.csv"))) for s, f in folders.stress)
    return (str(folders.published), pub, stress)


# --- run records --------------------------------------------------------------------------------


@cache
def _record_validator() -> jsonschema.Draft202012Validator:
    """The run-record schema, except that each image's counts in ``metrics.counts_per_image`` are
    only required to be an array here: ``_counts_problem`` checks the schema's rule for them (rows of
    4 non-negative integers) with numpy, since jsonschema takes ~10 ms a record on those alone."""
    schema = copy.deepcopy(run_record_schema())
    schema["properties"]["metrics"]["properties"]["counts_per_image"]["additionalProperties"] = {"type": "array"}
    return jsonschema.Draft202012Validator(schema)


def _counts_problem(record: dict[str, Any]) -> str | None:
    """Where ``metrics.counts_per_image`` breaks the schema's rule (rows of 4 integers >= 0), if it does."""
    counts = (record.get("metrics") or {}).get("counts_per_image") or {}
    for image, rows in counts.items():
        try:
            a = np.asarray(rows)
        except ValueError:
            return f"metrics/counts_per_image/{image}: rows of different lengths"
        if a.size and (a.ndim != 2 or a.shape[1] != 4 or a.dtype.kind not in "iu" or (a < 0).any()):
            return f"metrics/counts_per_image/{image}: not rows of 4 non-negative integers"
    return None


@cache
def _row_validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(files("segrepro").joinpath(f"schemas/{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_message(validator: jsonschema.Draft202012Validator, instance: Any) -> str | None:
    """The most relevant schema violation as ``where: what``, or None when the instance is valid."""
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "top level"
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{where}: {message}"


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES // 2**20} MiB; refused")
    return path.read_text(encoding="utf-8")


def read_record(path: Path) -> dict[str, Any] | Problem:
    """One run record, parsed and schema-validated, or the ``Problem`` that stops it."""
    try:
        record = json.loads(_read_text(path))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Problem(str(path), f"not readable JSON: {exc}")
    message = _schema_message(_record_validator(), record) or _counts_problem(record)
    if message is not None:
        return Problem(str(path), f"does not follow the run-record schema ({message})")
    return record


def _summaries(metrics: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(convention, summary)``: the canonical block, and the paper-convention block (``metrics.paper``)
    under the name in ``metrics.paper_convention`` where the record has one that differs from canonical.
    Records made before the metrics engine have the canonical block only."""
    yield CANONICAL, metrics["canonical"]
    name, paper = metrics.get("paper_convention"), metrics.get("paper")
    if name and name != CANONICAL and paper:
        yield name, paper


def _shares(record: dict[str, Any]) -> list[tuple[str, float]]:
    """Each class's share of scored test voxels, from the pooled raw counts (TP + FN per class)."""
    counts = list(record["metrics"]["counts_per_image"].values())
    names = record["dataset"].get("classes") or list(record["metrics"]["canonical"]["per_class"])
    if not counts:
        return []
    try:
        total = np.asarray(counts, dtype=np.int64).sum(axis=0)
    except ValueError:  # ragged: images with different class counts
        return []
    if total.ndim != 2 or total.shape[0] != len(names):
        return []
    positives = total[:, 0] + total[:, 2]
    denom = int(positives.sum())
    return [(name, float(p) / denom) for name, p in zip(names, positives, strict=True)] if denom else []


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


@lru_cache(maxsize=65536)
def _parse_record(path: str, mtime_ns: int, size: int, source: str) -> tuple | Problem:
    """Flatten one record file; cached on (path, mtime, size) so unchanged files are parsed once."""
    record = read_record(Path(path))
    if isinstance(record, Problem):
        return record
    prov = record["provenance"]
    run = (
        path,
        source,
        Path(path).name,
        record["run_id"],
        record["dataset"]["name"],
        record["baseline"]["id"],
        record["baseline"]["paper"],
        record["tier"],
        record["fold"],
        record["seed"],
        record["status"],
        record.get("reason"),
        record["baseline"].get("convention", CANONICAL),
        record["dataset"].get("data_hash"),
        prov.get("git_commit"),
        prov.get("device"),
        _number(prov.get("wall_time_s")),
        prov.get("started"),
        len(record.get("predictions") or []),
    )
    scores: list[tuple] = []
    shares: list[tuple] = []
    if record["status"] == "ok" and record.get("metrics"):
        for convention, summary in _summaries(record["metrics"]):
            for cls, block in [*summary["per_class"].items(), ("mean", summary["mean"])]:
                scores.extend((path, convention, cls, m, _number(v)) for m, v in block.items())
        shares = [(path, cls, share) for cls, share in _shares(record)]
    return run, scores, shares


def load_results(folders: Folders) -> Results:
    """Every run record in ``folders.runs``; malformed files become problems."""
    runs, scores, shares, problems = [], [], [], []
    for source, _folder, entries in runs_signature(folders):
        for path, mtime_ns, size in entries:
            parsed = _parse_record(path, mtime_ns, size, source)
            if isinstance(parsed, Problem):
                problems.append(parsed)
                continue
            runs.append(parsed[0])
            scores.extend(parsed[1])
            shares.extend(parsed[2])
    run_df = pd.DataFrame(runs, columns=RUN_COLUMNS)
    for col in ("source", "dataset", "baseline", "paper", "tier", "status", "convention"):
        run_df[col] = run_df[col].astype("category")
    score_df = pd.DataFrame(scores, columns=SCORE_COLUMNS)
    for col in ("key", "convention", "class", "metric"):
        score_df[col] = score_df[col].astype("category")
    score_df["value"] = score_df["value"].astype(float)
    share_df = pd.DataFrame(shares, columns=SHARE_COLUMNS)
    return Results(run_df, score_df, share_df, problems)


def overlays(record_path: Path, record: dict[str, Any]) -> list[tuple[str, Path]]:
    """The prediction overlay PNGs of a run: ``(caption, file)`` inside the folder named like the record.

    Names come from the record's ``predictions`` list (or, without one, every PNG in the folder);
    only plain file names inside that folder are accepted, so a record cannot point elsewhere."""
    folder = record_path.with_suffix("")
    listed = record.get("predictions") or []
    if listed:
        wanted = [(str(p.get("image", p.get("file"))), str(p.get("file", ""))) for p in listed if isinstance(p, dict)]
    else:
        wanted = [(p.stem, p.name) for p in sorted(folder.glob("*.png"))] if folder.is_dir() else []
    return [(caption, folder / name) for caption, name in wanted if PNG_NAME.match(name) and (folder / name).is_file()]


# --- CSV tables ---------------------------------------------------------------------------------


def _cell(text: str, numeric: bool) -> Any:
    """A CSV cell as the schema expects it: numbers parsed where the column is numeric, '' -> null."""
    if text is None:
        return None
    text = text.strip()
    if not numeric:
        return text
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text  # left as text so the schema names it: "'abc' is not of type 'number'"


def read_csv_rows(path: Path, schema: str, numeric: set[str]) -> list[dict[str, Any]] | Problem:
    """Every row of a CSV, typed and validated against ``schemas/<schema>.schema.json``; the first
    violation (its line, column and what is wrong) rejects the whole file."""
    validator = _row_validator(schema)
    required = validator.schema["required"]
    strict = validator.schema.get("additionalProperties", True) is False
    try:
        text = _read_text(path)
        reader = csv.DictReader(text.splitlines())
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        extra = [c for c in header if c not in required]
        if missing or (strict and extra):
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if strict and extra else "",
                )
                if part
            )
            return Problem(str(path), f"wrong columns ({detail}); expected exactly {','.join(required)}")
        reader.fieldnames = header
        rows = []
        for row in reader:
            line = reader.line_num
            if None in row or None in row.values():
                return Problem(str(path), f"line {line}: has a different number of fields than the header")
            typed = {k: _cell(v, k in numeric) for k, v in row.items()}
            message = _schema_message(validator, typed)
            if message is not None:
                return Problem(str(path), f"line {line}: {message}")
            rows.append(typed)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        return Problem(str(path), f"not readable CSV: {exc}")
    if not rows:
        return Problem(str(path), "has a header but no rows")
    return rows


def _load_package(folder: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """One paper package's published numbers, each with its baseline id and scale (from methods.csv)."""
    pub_path, methods_path = folder / "published.csv", folder / "methods.csv"
    published = read_csv_rows(pub_path, "published_row", {"value", "std"})
    if isinstance(published, Problem):
        return None, [published]
    problems: list[Problem] = []
    mapping: dict[tuple[str, str], tuple[str, float]] = {}
    methods = read_csv_rows(methods_path, "methods_row", {"scale"}) if methods_path.exists() else None
    if methods is None:
        problems.append(Problem(str(methods_path), "missing: published numbers cannot be matched to baselines"))
    elif isinstance(methods, Problem):
        problems.append(methods)
    else:
        for row in methods:
            k = (row["table"], row["method"])
            if k in mapping:
                problems.append(Problem(str(methods_path), f"table {k[0]}, method {k[1]!r} is listed twice"))
                return None, problems
            mapping[k] = (row["baseline"], row["scale"])
    df = pd.DataFrame(published, columns=PUBLISHED_COLUMNS)
    keys = list(zip(df["table"], df["method"], strict=True))
    unmapped = sorted({f"{t}/{m}" for t, m in keys if (t, m) not in mapping})
    if unmapped and isinstance(methods, list):
        problems.append(Problem(str(methods_path), f"no row for {', '.join(unmapped)}: those numbers stay unmatched"))
    df["baseline"] = [mapping.get(k, ("", math.nan))[0] for k in keys]
    df["scale"] = [mapping.get(k, ("", math.nan))[1] for k in keys]
    df["package"] = folder.name
    return df, problems


def load_tables(folders: Folders) -> Tables:
    """Every paper package's published numbers and every stress table; malformed files become problems."""
    frames, problems = [], []
    for pub in sorted(folders.published.glob("*/published.csv")):
        df, found = _load_package(pub.parent)
        problems.extend(found)
        if df is not None:
            frames.append(df)
    published = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=[*PUBLISHED_COLUMNS, "baseline", "scale", "package"])
    )
    stress_frames = []
    for source, folder in folders.stress:
        for path in sorted(folder.glob("*/stress.csv")):
            rows = read_csv_rows(path, "stress_row", {"ratio", "achieved_ratio", "value"})
            if isinstance(rows, Problem):
                problems.append(rows)
                continue
            df = pd.DataFrame(rows)[STRESS_COLUMNS]
            df["dataset"], df["source"] = path.parent.name, source
            stress_frames.append(df)
    stress = (
        pd.concat(stress_frames, ignore_index=True)
        if stress_frames
        else pd.DataFrame(columns=[*STRESS_COLUMNS, "dataset", "source"])
    )
    return Tables(published, stress, problems)
