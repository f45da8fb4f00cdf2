"""The leaderboard's data access: find, parse and schema-validate the files it shows.

Three kinds of file, each checked against a JSON schema in ``segrepro/schemas``:

- run records ``*.json`` in ``results/reference/runs/`` (the reproductions committed to this
  repository) and ``results/runs/`` (the user's own, marked as theirs);
- every paper package's ``baselines/<paper>/published.csv`` and ``methods.csv``, and its claims ledger
  ``claims.yaml`` (checked against ``schemas/claims.schema.json`` and the known metrics; the entries and
  datasets it names are checked against the registries by ``segrepro claims``, not here, so the page
  never imports the models);
- stress-test tables ``results/stress/<dataset>/stress.csv`` (and the same under ``results/reference/``),
  with the sweep's provenance from the ``stress.json`` beside each.

Files are read as JSON and CSV text only; nothing in them is ever executed (no pickle, no eval, no
import). A malformed file becomes a ``Problem`` (which file, what is wrong) and is left out, so one
bad file never takes the page down. Everything here is plain Python + pandas, testable without
Streamlit; the app caches the results keyed on a digest of ``runs_signature`` (names, sizes and
mtimes), and ``load_results`` keeps the parsed records in ``Folders.cache`` across restarts.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from segrepro import paths
from segrepro.claims import Claim, claim_files, load_claims
from segrepro.errors import UserError
from segrepro.io import replace_dir_atomic, staging_dir
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
    cache: Path | None = None
    """Where the parsed run records are kept between server starts (None: parse every record each load)."""


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
    sweeps: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """``(source, dataset)`` -> the provenance in the ``stress.json`` beside that stress table."""
    claims: list[Claim] = field(default_factory=list)
    """Every paper package's claims (``claims.yaml``)."""


def published_root() -> Path:
    """The folder holding the paper packages: ``SEGREPRO_PUBLISHED_DIR`` or ``segrepro.baselines``."""
    return paths.published_dir()


def default_folders() -> Folders:
    results = paths.results_dir()
    reference = results / "reference"
    return Folders(
        runs=((SOURCE_REFERENCE, reference / "runs"), (SOURCE_MINE, results / "runs")),
        published=published_root(),
        stress=((SOURCE_REFERENCE, reference / "stress"), (SOURCE_MINE, results / "stress")),
        cache=results / ".cache" / "leaderboard",
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


def _json_entries(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """``(path, mtime_ns, size)`` of every ``*.json`` file in ``folder``, sorted (none when it is missing)."""
    out = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.endswith(".json") and not entry.name.startswith(".") and entry.is_file():
                    st = entry.stat()
                    out.append((entry.path, st.st_mtime_ns, st.st_size))
    except OSError:
        pass
    return tuple(sorted(out))


def runs_signature(folders: Folders) -> tuple:
    """Names, mtimes and sizes of every run record: changes whenever a record is added, changed or removed."""
    return tuple((source, str(folder), _json_entries(folder)) for source, folder in folders.runs)


def digest(signature: tuple) -> str:
    """A short key for a signature (Streamlit's cache hashes a 10,000-entry tuple in ~0.5 s, this in ~20 ms)."""
    return hashlib.sha256(repr(signature).encode()).hexdigest()


def tables_signature(folders: Folders) -> tuple:
    """The same for published, methods and stress tables."""
    pub = _stat_entries(
        [
            *folders.published.glob("*/published.csv"),
            *folders.published.glob("*/methods.csv"),
            *claim_files(folders.published),
        ]
    )
    stress = tuple((s, str(f), _stat_entries(f.glob("*/stress.*"))) for s, f in folders.stress)
    return (str(folders.published), pub, stress)


# --- run records --------------------------------------------------------------------------------


@cache
def _record_validator() -> jsonschema.Draft202012Validator:
    """The run-record schema, except for its two bulk parts, which only need the right container type
    here: each image's counts in ``metrics.counts_per_image`` (``_counts_problem`` checks the schema's
    rule, rows of 4 non-negative integers, with numpy) and each score block, ``$defs/scores``
    (``_scores_problem`` checks its rule, numbers or null). jsonschema takes ~10 ms a record on the
    counts and ~2 ms on the scores; the checks here take ~0.2 ms. Its ``$ref``s are inlined, which
    saves jsonschema a lookup per reference (a quarter of what is left)."""
    schema = copy.deepcopy(run_record_schema())
    schema["properties"]["metrics"]["properties"]["counts_per_image"]["additionalProperties"] = {"type": "array"}
    schema["$defs"]["scores"] = {"type": "object"}
    return jsonschema.Draft202012Validator(_inline_refs(schema, schema.pop("$defs")))


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/NAME"}`` replaced by that definition (the schema has no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline_refs(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, defs) for v in node]
    return node


def _is_score(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _scores_problem(record: dict[str, Any]) -> str | None:
    """Where a score block (``$defs/scores`` in the schema: the summaries' per-class and mean scores,
    ``auc_error_bound``) holds something other than a number or null, if one does."""
    metrics = record.get("metrics") or {}
    blocks = [("metrics/auc_error_bound", metrics.get("auc_error_bound"))]
    for name in ("canonical", "paper"):
        summary = metrics.get(name) or {}
        blocks.append((f"metrics/{name}/mean", summary.get("mean")))
        blocks.extend((f"metrics/{name}/per_class/{c}", v) for c, v in (summary.get("per_class") or {}).items())
    for where, scores in blocks:
        for key, value in (scores or {}).items():
            if not _is_score(value):
                return f"{where}/{key}: {value!r} is not a number or null"
    return None


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
    message = _schema_message(_record_validator(), record) or _counts_problem(record) or _scores_problem(record)
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


def _parse_record(path: str, source: str) -> tuple | Problem:
    """One record file flattened into its run row, score rows and class-share rows, or its problem."""
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


# --- the parsed-record cache ----------------------------------------------------------------------
# Parsing and validating a record takes ~1-2 ms, so 10,000 of them take seconds. What they parse to
# is kept in ``Folders.cache`` as Parquet tables (data only: reading them runs nothing), each row
# stamped with its file's mtime and size; a record whose file still has that stamp is not parsed
# again, also after a server restart. The four tables are written together into a fresh folder that
# replaces the old one, and carry one generation id, so a reader never mixes two writes.

CACHE_FORMAT = 1
"""Bump when what a record is flattened into changes; caches of another format are ignored."""
CACHE_TABLES = ("runs", "problems", "scores", "shares")
STAMP = ["mtime_ns", "size"]
PROBLEM_COLUMNS = ["key", "message"]


def _cache_format() -> str:
    schema = json.dumps(run_record_schema(), sort_keys=True).encode()
    return f"{CACHE_FORMAT}:{hashlib.sha256(schema).hexdigest()[:16]}"


def _read_cache(folder: Path | None) -> dict[str, pd.DataFrame] | None:
    """The cached tables (runs, problems, scores, shares), or None when there is no usable cache."""
    if folder is None:
        return None
    try:
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in CACHE_TABLES}
    except (OSError, ValueError):  # missing, half-removed or unreadable: parse the records instead
        return None
    marks = {(f.attrs.get("format"), f.attrs.get("generation")) for f in frames.values()}
    if len(marks) != 1 or next(iter(marks))[0] != _cache_format():
        return None
    return frames


def _write_cache(folder: Path | None, frames: dict[str, pd.DataFrame]) -> None:
    """Replace the cache with ``frames``; a cache that cannot be written is skipped (the page still works)."""
    if folder is None:
        return
    try:
        staging = staging_dir(folder)
    except UserError:
        return
    marks = {"format": _cache_format(), "generation": uuid.uuid4().hex}
    try:
        for name, frame in frames.items():
            frame = frame.reset_index(drop=True)
            frame.attrs = marks
            frame.to_parquet(staging / f"{name}.parquet", index=False)
        replace_dir_atomic(staging, folder)
    except (OSError, ValueError):
        shutil.rmtree(staging, ignore_errors=True)


def _stamped(frame: pd.DataFrame, stamps: dict[str, tuple[int, int]]) -> np.ndarray:
    """Which cached rows still match their file's current (mtime, size)."""
    current = zip(frame["key"].astype(str), frame["mtime_ns"], frame["size"], strict=True)
    return np.fromiter((stamps.get(k) == (m, s) for k, m, s in current), dtype=bool, count=len(frame))


def load_results(folders: Folders) -> Results:
    """Every run record in ``folders.runs``; malformed files become problems. Records unchanged since
    the cache was written come from it; the others are parsed and validated, and the cache rewritten."""
    entries = [(source, *e) for source, _folder, found in runs_signature(folders) for e in found]
    stamps = {path: (mtime_ns, size) for _source, path, mtime_ns, size in entries}
    cached = _read_cache(folders.cache)
    kept: dict[str, pd.DataFrame] = {}
    if cached is not None:
        kept["runs"] = cached["runs"][_stamped(cached["runs"], stamps)]
        kept["problems"] = cached["problems"][_stamped(cached["problems"], stamps)]
        keys = kept["runs"]["key"].astype(str)
        kept["scores"] = cached["scores"][cached["scores"]["key"].isin(keys)]
        kept["shares"] = cached["shares"][cached["shares"]["key"].isin(keys)]
    done = set(kept["runs"]["key"].astype(str)) | set(kept["problems"]["key"].astype(str)) if kept else set()
    runs, scores, shares, problems = [], [], [], []
    for source, path, mtime_ns, size in entries:
        if path in done:
            continue
        parsed = _parse_record(path, source)
        if isinstance(parsed, Problem):
            problems.append((path, parsed.message, mtime_ns, size))
            continue
        runs.append((*parsed[0], mtime_ns, size))
        scores.extend(parsed[1])
        shares.extend(parsed[2])
    fresh = {
        "runs": pd.DataFrame(runs, columns=[*RUN_COLUMNS, *STAMP]),
        "problems": pd.DataFrame(problems, columns=[*PROBLEM_COLUMNS, *STAMP]),
        "scores": pd.DataFrame(scores, columns=SCORE_COLUMNS).astype({"value": float}),
        "shares": pd.DataFrame(shares, columns=SHARE_COLUMNS),
    }
    frames = {name: _concat(kept.get(name), frame) for name, frame in fresh.items()}
    order = {path: i for i, (_source, path, _m, _s) in enumerate(entries)}  # the folders' order, then by name
    for name in ("runs", "problems"):
        frames[name] = frames[name].sort_values("key", key=lambda k: k.astype(str).map(order), kind="stable")
    if cached is None or any(len(f) for f in fresh.values()) or any(len(kept[n]) < len(cached[n]) for n in kept):
        _write_cache(folders.cache, frames)
    return _results(frames)


def _concat(kept: pd.DataFrame | None, fresh: pd.DataFrame) -> pd.DataFrame:
    if kept is None or kept.empty:
        return fresh
    if fresh.empty:
        return kept
    return pd.concat([kept.astype({c: object for c in kept.select_dtypes("category")}), fresh], ignore_index=True)


def _results(frames: dict[str, pd.DataFrame]) -> Results:
    """The page's tables from the flattened frames: categories for the repeated text columns."""
    run_df = frames["runs"][RUN_COLUMNS].reset_index(drop=True)
    for col in ("key", "file", "run_id", "data_hash", "git_commit", "device", "started"):
        run_df[col] = run_df[col].astype(object)
    for col in ("source", "dataset", "baseline", "paper", "tier", "status", "convention"):
        run_df[col] = run_df[col].astype("category")
    score_df = frames["scores"].reset_index(drop=True)
    for col in ("key", "convention", "class", "metric"):
        score_df[col] = score_df[col].astype("category")
    share_df = frames["shares"].reset_index(drop=True).astype({"key": object, "class": object})
    found = frames["problems"]
    problems = [Problem(str(k), str(m)) for k, m in zip(found["key"], found["message"], strict=True)]
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


def read_sweep_provenance(path: Path) -> dict[str, Any] | Problem | None:
    """The provenance of a stress sweep (``stress.json`` beside its table, written by ``segrepro stress``),
    checked against the run-record schema's provenance (both come from ``segrepro.records.provenance``);
    None when the table has no such file."""
    if not path.exists():
        return None
    try:
        sweep = json.loads(_read_text(path))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Problem(str(path), f"not readable JSON: {exc}")
    prov = sweep.get("provenance") if isinstance(sweep, dict) else None
    message = _schema_message(_provenance_validator(), prov)
    return Problem(str(path), f"provenance does not follow the run-record schema's ({message})") if message else prov


@cache
def _provenance_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(run_record_schema()["properties"]["provenance"])


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
    stress_frames, sweeps = [], {}
    for source, folder in folders.stress:
        for path in sorted(folder.glob("*/stress.csv")):
            rows = read_csv_rows(path, "stress_row", {"ratio", "achieved_ratio", "value"})
            if isinstance(rows, Problem):
                problems.append(rows)
                continue
            df = pd.DataFrame(rows)[STRESS_COLUMNS]
            df["dataset"], df["source"] = path.parent.name, source
            stress_frames.append(df)
            sweep = read_sweep_provenance(path.with_name("stress.json"))
            if isinstance(sweep, Problem):
                problems.append(sweep)
            elif sweep is not None:
                sweeps[(source, path.parent.name)] = sweep
    stress = (
        pd.concat(stress_frames, ignore_index=True)
        if stress_frames
        else pd.DataFrame(columns=[*STRESS_COLUMNS, "dataset", "source"])
    )
    claims = []
    for path in claim_files(folders.published):
        try:
            claims += load_claims(path)
        except UserError as exc:
            problems.append(Problem(str(path), str(exc).removeprefix(f"{path}: ")))
    return Tables(published, stress, problems, sweeps, claims)
