"""Run records -> tidy tables: the one module that reads ``results/runs/*.json``.

Each record file is read defensively (it may come from anyone: a shared folder, a pull request):
at most ``MAX_RECORD_BYTES``, nested at most ``MAX_DEPTH`` levels, never through a link that leaves
its folder, never a FIFO or device; then validated against the run-record schema. A file that fails
any of this becomes a ``Problem`` (which file, what is wrong) and is left out; the others still load.

Valid records are flattened into tables (pandas, stored as Parquet):

- ``runs``: one row per record (ids, dataset, baseline, paper, tier, fold, seed, status, reason,
  convention, recipe hash, provenance);
- ``scores``: one row per (record, convention, class, metric): the canonical block and, where the
  record has one that differs, the block scored in the paper's convention; in each, a record with
  instance metrics (``metrics.instances``: paper 002's entries on datasets with instance labels) adds
  its pooled P05, RQ, SQ and PQ under the class ``cell`` (``metrics.instances.INSTANCE_CLASS``);
- ``shares``: each class's share of the scored test voxels (TP + FN), from the raw counts;
- ``counts``: the raw TP/FP/FN/TN per (record, image, class).

``load`` keeps these tables in a folder (``results/tables`` beside ``results/runs``), each row
stamped with its file's mtime and size, so only records added or changed since the last write
are parsed again. ``segrepro aggregate`` writes them together with the current recipe hash of
every (baseline, tier); a record whose ``recipe_hash`` differs from it is *stale*.

Submission bundles (``results/submissions/*.tar.gz``, written by ``segrepro submit``) are read here too,
into the same tables (``load_submissions``): each is verified against its SHA-256 manifest and each of its
records against the schema; a bundle that fails is one ``Problem`` and is left out whole.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import shutil
import stat
import tarfile
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from segrepro.errors import UserError
from segrepro.io import NO_SPACE, no_space_error, replace_dir_atomic, staging_dir
from segrepro.metrics.instances import INSTANCE_CLASS, pooled_instance_scores
from segrepro.records import run_record_schema
from segrepro.selection import SeedSelection, selection_columns, validation_score

CANONICAL = "canonical"
SOURCE_REFERENCE = "reference"
"""Where a run comes from, as the leaderboard and ``leaderboard.csv`` say: the reproductions committed to this
repository (``results/reference/runs``), the user's own runs (``results/runs``), or a verified bundle."""
SOURCE_MINE = "yours"
SOURCE_SUBMITTED = "submitted"
MAX_RECORD_BYTES = 8 * 2**20
"""Larger record files are refused unread: a real record is 10-500 KiB (raw counts of every test image)."""
MAX_DEPTH = 64
"""Deeper JSON is refused: a record is at most ~6 levels deep (metrics/<block>/per_class/<class>/<metric>)."""

RUN_COLUMNS = [
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
    "recipe_hash",
    "data_hash",
    "git_commit",
    "device",
    "wall_time_s",
    "started",
    "n_predictions",
    "val_score",
]
SCORE_COLUMNS = ["file", "convention", "class", "metric", "value"]
SHARE_COLUMNS = ["file", "class", "share"]
COUNT_COLUMNS = ["file", "image", "class", "tp", "fp", "fn", "tn"]
PROBLEM_COLUMNS = ["file", "message"]
RECIPE_COLUMNS = ["baseline", "tier", "recipe_hash", "seeds", "keep"]
"""Per (baseline, tier): the current recipe hash and its seed selection (``segrepro.selection``)."""
CATEGORIES = {
    "scores": ["file", "convention", "class", "metric"],
    "shares": ["file", "class"],
    "counts": ["file", "image", "class"],
}
"""Text columns that repeat a few values over many rows: kept as categoricals (and dictionary-encoded in
Parquet), which makes the ~million-row tables several times faster to read."""
STAMP = ["mtime_ns", "size"]

RECIPE_CURRENT = "current"
RECIPE_STALE = "stale"
RECIPE_UNKNOWN = "recipe unknown"
"""The record has no ``recipe_hash`` (made before records carried one)."""
RECIPE_UNCHECKED = "not checked"
"""No current recipe hash is known for the record's (baseline, tier): ``segrepro aggregate`` stores them."""


@dataclass(frozen=True)
class Problem:
    """A file that could not be used: which file and what is wrong with it."""

    path: str
    message: str


@dataclass
class RunTables:
    """The tables of one folder of run records (see the module docstring); ``runs`` also carries
    ``stale`` and ``recipe_state`` (current / stale / recipe unknown / not checked)."""

    runs: pd.DataFrame
    scores: pd.DataFrame
    shares: pd.DataFrame
    counts: pd.DataFrame
    recipes: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    reread: int = 0
    """How many records were parsed in this load because the stored tables did not have them (or were older)."""
    stored: bool = False
    """Whether stored tables were found and used."""


# --- reading one file safely ----------------------------------------------------------------------


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, links resolved, lies inside ``folder`` (links resolved too)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _outside(link: Path) -> str:
    return f"a link to {os.path.realpath(link)}, outside {link.parent}: not opened"


def read_capped(path: Path, limit: int = MAX_RECORD_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``), refusing links that leave its folder.

    Raises ``ValueError`` with a message for the user: a link out of its folder, not a regular
    file (a FIFO would block), or larger than ``limit``. The size is checked on what is read, not
    on ``stat``, so a file that grows meanwhile is still capped."""
    if path.is_symlink() and not inside(path, path.parent):
        raise ValueError(_outside(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than the {limit / 2**20:g} MiB a file may have: not read")
    return data


def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether containers in ``value`` nest deeper than ``limit`` levels, level by level (no recursion;
    ~0.1 ms for a record, exact ``dict``/``list`` types being what ``json`` makes)."""
    level = [value]
    for _ in range(limit):
        deeper = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    deeper.append(child)
        if not deeper:
            return False
        level = deeper
    return True


def read_json(path: Path, limit: int = MAX_RECORD_BYTES) -> Any:
    """A JSON file read with ``read_capped`` and parsed; ``ValueError`` (with a message) when it cannot be."""
    return parse_json(read_capped(path, limit))


def parse_json(data: bytes) -> Any:
    """JSON bytes parsed, refusing text nested deeper than ``MAX_DEPTH``; ``ValueError`` (with a message)."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels: not read") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not readable JSON: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not readable JSON: {exc}") from None
    if isinstance(value, dict | list) and _too_deep(value):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels: not read")
    return value


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
    ``auc_error_bound``, the instance metrics) holds something other than a number or null, if one does."""
    metrics = record.get("metrics") or {}
    blocks = [("metrics/auc_error_bound", metrics.get("auc_error_bound"))]
    instances = metrics.get("instances") or {}
    blocks.append(("metrics/instances/pooled", instances.get("pooled")))
    blocks.extend((f"metrics/instances/per_image/{i}", v) for i, v in (instances.get("per_image") or {}).items())
    for name in (CANONICAL, "paper"):
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


def schema_message(validator: jsonschema.protocols.Validator, instance: Any) -> str | None:
    """The most relevant schema violation as ``where: what``, or None when the instance is valid."""
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "top level"
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    return f"{where}: {message}"


def read_record(path: Path) -> dict[str, Any] | Problem:
    """One run record, read safely and schema-validated, or the ``Problem`` that stops it."""
    try:
        record = read_json(path)
    except OSError as exc:
        return Problem(str(path), f"not readable: {exc.strerror or exc}")
    except ValueError as exc:
        return Problem(str(path), str(exc))
    message = record_problem(record)
    return record if message is None else Problem(str(path), message)


def record_problem(record: Any) -> str | None:
    """What breaks the run-record schema in a parsed record, or None when it follows it."""
    message = schema_message(_record_validator(), record) or _counts_problem(record) or _scores_problem(record)
    return None if message is None else f"does not follow the run-record schema ({message})"


def read_records(folder: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Every valid record in ``folder`` (read safely, in file-name order) and a ``Problem`` for each other
    file: for commands that need whole records (``segrepro claims``), not the tables."""
    files, problems = record_files(folder)
    records = []
    for name in files:
        found = read_record(folder / name)
        (problems if isinstance(found, Problem) else records).append(found)
    return records, problems


# --- flattening one record ------------------------------------------------------------------------


def _summaries(metrics: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(convention, summary)``: the canonical block, and the paper-convention block (``metrics.paper``)
    under the name in ``metrics.paper_convention`` where the record has one that differs from canonical.
    Records made before the metrics engine have the canonical block only."""
    yield CANONICAL, metrics[CANONICAL]
    name, paper = metrics.get("paper_convention"), metrics.get("paper")
    if name and name != CANONICAL and paper:
        yield name, paper


def _counts(record: dict[str, Any]) -> tuple[list[str], list[str], np.ndarray] | None:
    """``(images, classes, counts (image, class, 4))`` from the raw counts; None when there are none or
    images have different class counts. Classes are named from the record where it names as many."""
    per_image = record["metrics"]["counts_per_image"]
    if not per_image:
        return None
    try:
        counts = np.asarray(list(per_image.values()), dtype=np.int64)
    except ValueError:  # ragged: images with different class counts
        return None
    if counts.ndim != 3:
        return None
    names = record["dataset"].get("classes") or list(record["metrics"][CANONICAL]["per_class"])
    if len(names) != counts.shape[1]:
        names = [str(k) for k in range(counts.shape[1])]
    return list(per_image), list(names), counts


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass
class _Flat:
    """What one record flattens into (rows of each table)."""

    run: tuple
    scores: list[tuple]
    shares: list[tuple]
    counts: tuple[list[str], list[str], np.ndarray] | None


def _flatten(name: str, record: dict[str, Any]) -> _Flat:
    prov = record["provenance"]
    run = (
        name,
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
        record.get("recipe_hash"),
        record["dataset"].get("data_hash"),
        prov.get("git_commit"),
        prov.get("device"),
        _number(prov.get("wall_time_s")),
        prov.get("started"),
        len(record.get("predictions") or []),
        _number(validation_score(record)),
    )
    flat = _Flat(run, [], [], None)
    if record["status"] == "ok" and record.get("metrics"):
        instances = pooled_instance_scores(record["metrics"])
        for convention, summary in _summaries(record["metrics"]):
            for cls, block in [*summary["per_class"].items(), ("mean", summary["mean"]), (INSTANCE_CLASS, instances)]:
                flat.scores.extend((name, convention, cls, m, _number(v)) for m, v in block.items())
        flat.counts = _counts(record)
        if flat.counts is not None:
            positives = flat.counts[2][:, :, 0].sum(axis=0) + flat.counts[2][:, :, 2].sum(axis=0)
            denom = int(positives.sum())
            if denom:
                flat.shares = [(name, c, float(p) / denom) for c, p in zip(flat.counts[1], positives, strict=True)]
    return flat


def _counts_frame(named: list[tuple[str, tuple[list[str], list[str], np.ndarray]]]) -> pd.DataFrame:
    """The ``counts`` table of many records at once (one concatenation, not one frame per record)."""
    if not named:
        return pd.DataFrame(columns=COUNT_COLUMNS).astype({c: np.int64 for c in ("tp", "fp", "fn", "tn")})
    files, images, classes, arrays = [], [], [], []
    for name, (image_names, class_names, counts) in named:
        n_img, n_cls = counts.shape[:2]
        files.append(np.full(n_img * n_cls, name, dtype=object))
        images.append(np.repeat(np.asarray(image_names, dtype=object), n_cls))
        classes.append(np.tile(np.asarray(class_names, dtype=object), n_img))
        arrays.append(counts.reshape(-1, 4))
    values = np.concatenate(arrays)
    frame = pd.DataFrame(
        {"file": np.concatenate(files), "image": np.concatenate(images), "class": np.concatenate(classes)}
    )
    for i, col in enumerate(("tp", "fp", "fn", "tn")):
        frame[col] = values[:, i]
    return frame


# --- the folder's records and their stored tables ----------------------------------------------------


def record_files(folder: Path) -> tuple[dict[str, tuple[int, int]], list[Problem]]:
    """``{file name: (mtime_ns, size)}`` of every ``*.json`` record in ``folder`` (none when it is missing),
    and a ``Problem`` for each link that leaves the folder (never opened)."""
    found: dict[str, tuple[int, int]] = {}
    problems = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if not entry.name.endswith(".json") or entry.name.startswith("."):
                    continue
                if entry.is_symlink() and not inside(Path(entry.path), folder):
                    problems.append(Problem(entry.path, _outside(Path(entry.path))))
                    continue
                if entry.is_file():
                    st = entry.stat()
                    found[entry.name] = (st.st_mtime_ns, st.st_size)
    except OSError:
        pass
    return dict(sorted(found.items())), sorted(problems, key=lambda p: p.path)


TABLES_FORMAT = 3
"""Bump when what a record is flattened into changes; stored tables of another format are rebuilt."""
TABLE_NAMES = ("runs", "problems", "scores", "shares", "counts", "recipes")


def tables_dir(runs_dir: Path) -> Path:
    """Where the tables of the records in ``runs_dir`` are kept: ``tables/`` beside it."""
    return runs_dir.parent / "tables"


def _format() -> str:
    schema = json.dumps(run_record_schema(), sort_keys=True).encode()
    return f"{TABLES_FORMAT}:{hashlib.sha256(schema).hexdigest()[:16]}"


def _read_stored(folder: Path | None, runs_dir: Path, names: tuple[str, ...]) -> dict[str, pd.DataFrame] | None:
    """The stored tables ``names`` of ``runs_dir``, or None when there are none usable (missing, unreadable,
    of another format, half replaced, or made from another folder)."""
    if folder is None:
        return None
    try:
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    except (OSError, ValueError):
        return None
    marks = {(f.attrs.get("format"), f.attrs.get("generation"), f.attrs.get("runs_dir")) for f in frames.values()}
    if len(marks) != 1 or next(iter(marks))[::2] != (_format(), os.path.realpath(runs_dir)):
        return None
    return frames


def _write_stored(folder: Path, runs_dir: Path, frames: dict[str, pd.DataFrame], required: bool) -> None:
    """Replace the stored tables with ``frames`` (all or nothing). When that fails: a ``UserError`` if
    ``required``, else nothing is stored (a reader then parses the records again next time)."""
    try:
        staging = staging_dir(folder)
    except UserError:
        if required:
            raise
        return
    marks = {"format": _format(), "generation": uuid.uuid4().hex, "runs_dir": os.path.realpath(runs_dir)}
    try:
        for name in TABLE_NAMES:
            frame = frames[name].reset_index(drop=True)
            frame.attrs = marks
            frame.to_parquet(staging / f"{name}.parquet", index=False)
        replace_dir_atomic(staging, folder)
    except (OSError, ValueError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if required:
            if getattr(exc, "errno", None) in NO_SPACE or "[errno 28]" in str(exc):  # pyarrow wraps ENOSPC
                raise no_space_error(folder) from exc
            raise UserError(f"cannot write the tables into {folder}: {getattr(exc, 'strerror', None) or exc}") from exc


def _stamped(frame: pd.DataFrame, stamps: dict[str, tuple[int, int]]) -> np.ndarray:
    """Which stored rows still match their file's current (mtime, size)."""
    current = zip(frame["file"].astype(str), frame["mtime_ns"], frame["size"], strict=True)
    return np.fromiter((stamps.get(f) == (m, s) for f, m, s in current), dtype=bool, count=len(frame))


def recipes_frame(
    hashes: dict[tuple[str, str], str], selections: dict[tuple[str, str], SeedSelection] | None = None
) -> pd.DataFrame:
    """The ``recipes`` table from ``{(baseline, tier): recipe hash}`` and the entries' seed selections."""
    rows = pd.DataFrame([(b, t, h) for (b, t), h in sorted(hashes.items())], columns=RECIPE_COLUMNS[:3]).astype(object)
    return pd.concat([rows, selection_columns(selections or {}, rows)], axis=1)


def recipe_states(runs: pd.DataFrame, recipes: pd.DataFrame) -> pd.Series:
    """Each run's recipe state: current, stale (its hash differs from its entry's current recipe),
    recipe unknown (the record has no hash) or not checked (no current hash for its baseline and tier)."""
    current = runs[["baseline", "tier"]].astype(str).merge(recipes, on=["baseline", "tier"], how="left")["recipe_hash"]
    mine = runs["recipe_hash"].reset_index(drop=True)
    state = np.where(mine.isna(), RECIPE_UNKNOWN, np.where(current.isna(), RECIPE_UNCHECKED, RECIPE_CURRENT))
    state = np.where(mine.notna() & current.notna() & (mine != current), RECIPE_STALE, state)
    return pd.Series(state, index=runs.index, name="recipe_state")


def load(
    runs_dir: Path,
    tables: Path | None = None,
    recipes: dict[tuple[str, str], str] | None = None,
    with_counts: bool = False,
    required: bool = False,
    selections: dict[tuple[str, str], SeedSelection] | None = None,
) -> RunTables:
    """The tables of every record in ``runs_dir``.

    With ``tables`` (a folder), records unchanged since the tables were stored there come from them
    and only the others are parsed; the tables are then stored again if anything changed (skipped
    when the folder is not writable). ``recipes`` (``{(baseline, tier): hash}``, from the registry)
    replaces the stored current recipe hashes, and with them the stored seed selections by ``selections``;
    without it, the stored ones decide what is stale and which seeds count.
    ``counts`` (large: a row per image and class) is only loaded ``with_counts`` or when the tables
    are rewritten; otherwise it is empty. Tables that cannot be stored are a ``UserError`` when
    ``required`` (``segrepro aggregate``), else skipped (the leaderboard still shows the records)."""
    stamps, link_problems = record_files(runs_dir)
    names = TABLE_NAMES if with_counts else tuple(n for n in TABLE_NAMES if n != "counts")
    stored = _read_stored(tables, runs_dir, names)
    kept, dropped = _kept(stored, stamps)
    done = set(kept["runs"]["file"]) | set(kept["problems"]["file"]) if kept else set()
    parsed = ((name, read_record(runs_dir / name), stamp) for name, stamp in stamps.items() if name not in done)
    fresh = _fresh_frames(parsed)  # a generator: one parsed record in memory at a time
    runs, problems = len(fresh["runs"]), len(fresh["problems"])
    old_recipes = stored["recipes"] if stored is not None else recipes_frame({})
    new_recipes = recipes_frame(recipes, selections) if recipes is not None else old_recipes
    changed = stored is None or bool(runs or problems) or dropped or not new_recipes.equals(old_recipes)
    store = tables is not None and changed
    if store and stored is not None and "counts" not in kept:  # stored again: with the kept records' counts
        old_counts = _kept_counts(tables, runs_dir, stored, set(kept["runs"]["file"]))
        store = old_counts is not None
        kept["counts"] = old_counts
    frames = {name: _merged(kept.get(name), fresh[name], stamps) for name in fresh}
    for name, columns in CATEGORIES.items():
        frames[name] = frames[name].astype(dict.fromkeys(columns, "category"))
    frames["recipes"] = new_recipes
    frames["runs"] = frames["runs"].reset_index(drop=True)
    frames["runs"]["recipe_state"] = recipe_states(frames["runs"], new_recipes)
    frames["runs"]["stale"] = frames["runs"]["recipe_state"] == RECIPE_STALE
    if store:
        _write_stored(tables, runs_dir, frames, required)
    run_df = frames["runs"][[*RUN_COLUMNS, "recipe_state", "stale"]]
    found = frames["problems"]
    file_problems = [Problem(str(runs_dir / f), str(m)) for f, m in zip(found["file"], found["message"], strict=True)]
    return RunTables(
        runs=run_df,
        scores=frames["scores"].reset_index(drop=True),
        shares=frames["shares"].reset_index(drop=True),
        counts=frames["counts"].reset_index(drop=True) if with_counts else frames["counts"].iloc[:0],
        recipes=new_recipes,
        problems=sorted([*file_problems, *link_problems], key=lambda p: p.path),
        reread=runs + problems,
        stored=stored is not None,
    )


def _fresh_frames(parsed: Iterable[tuple[str, dict[str, Any] | Problem, tuple[int, int]]]) -> dict[str, pd.DataFrame]:
    """The tables of ``(file name, record or its Problem, (mtime_ns, size))``, problems included."""
    runs, scores, shares, counts, problems = [], [], [], [], []
    for name, record, stamp in parsed:
        if isinstance(record, Problem):
            problems.append((name, record.message, *stamp))
            continue
        flat = _flatten(name, record)
        runs.append((*flat.run, *stamp))
        scores.extend(flat.scores)
        shares.extend(flat.shares)
        if flat.counts is not None:
            counts.append((name, flat.counts))
    return {
        "runs": pd.DataFrame(runs, columns=[*RUN_COLUMNS, *STAMP]),
        "problems": pd.DataFrame(problems, columns=[*PROBLEM_COLUMNS, *STAMP]),
        "scores": pd.DataFrame(scores, columns=SCORE_COLUMNS).astype({"value": float}),
        "shares": pd.DataFrame(shares, columns=SHARE_COLUMNS),
        "counts": _counts_frame(counts),
    }


def _kept(
    stored: dict[str, pd.DataFrame] | None, stamps: dict[str, tuple[int, int]]
) -> tuple[dict[str, pd.DataFrame], bool]:
    """The stored rows of records whose files are unchanged, and whether any stored record was dropped."""
    if stored is None:
        return {}, False
    keep = {name: _stamped(stored[name], stamps) for name in ("runs", "problems")}
    if keep["runs"].all() and keep["problems"].all():
        return {n: f for n, f in stored.items() if n != "recipes"}, False
    kept = {name: stored[name][keep[name]] for name in keep}
    for name in ("scores", "shares", "counts"):
        if name in stored:
            kept[name] = stored[name][stored[name]["file"].isin(kept["runs"]["file"])]
    return kept, True


def _kept_counts(
    tables: Path | None, runs_dir: Path, stored: dict[str, pd.DataFrame], files: set[str]
) -> pd.DataFrame | None:
    """The stored raw counts of ``files``, from the same write as ``stored`` (None when unreadable)."""
    old = _read_stored(tables, runs_dir, ("counts",))
    if old is None or old["counts"].attrs["generation"] != stored["runs"].attrs["generation"]:
        return None
    return old["counts"][old["counts"]["file"].isin(files)]


def _merged(kept: pd.DataFrame | None, fresh: pd.DataFrame, stamps: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Kept and fresh rows in the order a fresh parse gives (by file name)."""
    if kept is None or kept.empty:
        return fresh
    if fresh.empty:
        return kept
    order = {name: i for i, name in enumerate(stamps)}
    both = pd.concat([kept, fresh], ignore_index=True)
    return both.sort_values("file", key=lambda f: f.map(order), kind="stable")


# --- submission bundles -------------------------------------------------------------------------------

BUNDLE_SUFFIX = ".tar.gz"
MANIFEST = "MANIFEST.sha256"
"""``<sha256 hex>  <member>`` per other member, ``sha256sum``'s format: ``sha256sum -c`` checks an unpacked bundle."""
BUNDLE_MEMBERS = ("card.json", "package.json", "environment.txt")
"""What a bundle holds besides its manifest and its ``records/<run id>.json``."""
MAX_BUNDLE_BYTES = 256 * 2**20
"""A bundle whose members add up to more is refused: a record is at most ``MAX_RECORD_BYTES``."""
MAX_BUNDLE_MEMBERS = 10_000
BUNDLE_MEMBER = re.compile(r"(records/)?[A-Za-z0-9][A-Za-z0-9_.-]*")
MANIFEST_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")


@dataclass(frozen=True)
class Bundle:
    """A verified submission bundle: its records by member name, the entry's card, and its package."""

    path: Path
    records: dict[str, dict[str, Any]]
    card: dict[str, Any]
    package: dict[str, Any]


def manifest_text(members: dict[str, bytes]) -> str:
    """The manifest of ``members`` (``{name: bytes}``), one line each in name order."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(members.items()))


def bundle_files(folder: Path) -> tuple[dict[str, tuple[int, int]], list[Problem]]:
    """``{file name: (mtime_ns, size)}`` of every bundle in ``folder``, and a ``Problem`` per link out of it."""
    found: dict[str, tuple[int, int]] = {}
    problems = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found, problems
    for entry in entries:
        if not entry.name.endswith(BUNDLE_SUFFIX) or entry.name.startswith("."):
            continue
        if entry.is_symlink() and not inside(Path(entry.path), folder):
            problems.append(Problem(entry.path, _outside(Path(entry.path))))
        elif entry.is_file():
            st = entry.stat()
            found[entry.name] = (st.st_mtime_ns, st.st_size)
    return found, problems


def _members(path: Path) -> dict[str, bytes]:
    """Every member of the archive ``path``, read into memory (nothing is extracted to disk); ``ValueError``
    for anything a bundle may not hold: links, folders with files outside ``records/``, odd names, bulk."""
    if path.is_symlink() and not inside(path, path.parent):
        raise ValueError(_outside(path))
    members: dict[str, bytes] = {}
    total = 0
    with tarfile.open(path, "r:gz") as tar:
        for info in tar:
            if info.isdir() and info.name.rstrip("/") == "records":
                continue
            if not info.isfile() or not BUNDLE_MEMBER.fullmatch(info.name):
                raise ValueError(f"holds {info.name!r}, which a bundle may not (only files named like records/x.json)")
            total += info.size
            if total > MAX_BUNDLE_BYTES or len(members) >= MAX_BUNDLE_MEMBERS:
                raise ValueError(f"holds more than {MAX_BUNDLE_BYTES / 2**20:g} MiB or {MAX_BUNDLE_MEMBERS} files")
            if info.name in members:
                raise ValueError(f"holds {info.name} twice")
            members[info.name] = tar.extractfile(info).read(info.size)
    return members


def _manifest_problem(members: dict[str, bytes]) -> str | None:
    """What about the members disagrees with the manifest (a file changed, added or missing), if anything."""
    if MANIFEST not in members:
        return f"has no {MANIFEST}; make bundles with segrepro submit"
    listed: dict[str, str] = {}
    for line in members[MANIFEST].decode("utf-8", "replace").splitlines():
        match = MANIFEST_LINE.fullmatch(line)
        if match is None:
            return f"{MANIFEST}: cannot read the line {line[:80]!r}"
        listed[match[2]] = match[1]
    files = {name: data for name, data in members.items() if name != MANIFEST}
    for name in sorted(set(files) | set(listed)):
        if name not in listed:
            return f"manifest does not match: {name} is not in {MANIFEST} (added after the bundle was made)"
        if name not in files:
            return f"manifest does not match: {name} is listed but missing"
        if hashlib.sha256(files[name]).hexdigest() != listed[name]:
            return f"manifest does not match: {name} has changed since the bundle was made (SHA-256 differs)"
    missing = [name for name in BUNDLE_MEMBERS if name not in files]
    if missing:
        return f"has no {', '.join(missing)}"
    return None


def read_bundle(path: Path) -> Bundle | Problem:
    """One submission bundle, verified: every member against the manifest, every record against the
    run-record schema and the bundle's card (same entry); else the ``Problem`` that rejects it whole."""
    try:
        members = _members(path)
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        return Problem(str(path), f"not a readable {BUNDLE_SUFFIX} archive ({exc})")
    except ValueError as exc:
        return Problem(str(path), str(exc))
    message = _manifest_problem(members)
    if message is not None:
        return Problem(str(path), message)
    try:
        card, package = (parse_json(members[name]) for name in ("card.json", "package.json"))
        records = {name: parse_json(data) for name, data in members.items() if name.startswith("records/")}
    except ValueError as exc:
        return Problem(str(path), str(exc))
    if not isinstance(card, dict) or not isinstance(card.get("id"), str) or not isinstance(package, dict):
        return Problem(str(path), "card.json and package.json must be JSON objects, the card with an id")
    if not records:
        return Problem(str(path), "holds no records/*.json")
    for name, record in records.items():
        message = record_problem(record)
        if message is None and record["baseline"]["id"] != card["id"]:
            message = f"is a run of {record['baseline']['id']!r}, not of the bundle's entry {card['id']!r}"
        if message is not None:
            return Problem(str(path), f"{name} {message}")
    return Bundle(path, records, card, package)


def load_submissions(
    folder: Path,
    recipes: dict[tuple[str, str], str] | None = None,
    selections: dict[tuple[str, str], SeedSelection] | None = None,
) -> RunTables:
    """The tables of the records in every bundle in ``folder`` (``results/submissions``), each run's ``file``
    being ``<bundle>/records/<run id>.json``. A bundle that fails verification is one ``Problem`` and none
    of its records count. Bundles are few and small, so nothing is stored: they are read on each load."""
    stamps, problems = bundle_files(folder)
    parsed: list[tuple[str, dict[str, Any] | Problem, tuple[int, int]]] = []
    for name, stamp in stamps.items():
        bundle = read_bundle(folder / name)
        if isinstance(bundle, Problem):
            problems.append(bundle)
            continue
        parsed += [(f"{name}/{member}", record, stamp) for member, record in sorted(bundle.records.items())]
    frames = _fresh_frames(parsed)
    recipes_df = recipes_frame(recipes or {}, selections)
    runs = frames["runs"][RUN_COLUMNS].reset_index(drop=True)
    runs["recipe_state"] = recipe_states(runs, recipes_df)
    runs["stale"] = runs["recipe_state"] == RECIPE_STALE
    return RunTables(runs, frames["scores"], frames["shares"], frames["counts"], recipes_df, problems, len(parsed))


def combine(first: RunTables, second: RunTables) -> RunTables:
    """One set of tables from two (a folder's records and the submitted ones); files must not repeat."""
    frames = {}
    for name in ("runs", "scores", "shares", "counts"):
        a, b = getattr(first, name), getattr(second, name)
        both = pd.concat([f for f in (a, b) if len(f)] or [a], ignore_index=True)
        frames[name] = both.astype({c: "category" for c in CATEGORIES.get(name, ())})
    recipes = pd.concat([first.recipes, second.recipes], ignore_index=True).drop_duplicates(["baseline", "tier"])
    problems = sorted([*first.problems, *second.problems], key=lambda p: p.path)
    return RunTables(**frames, recipes=recipes, problems=problems, reread=first.reread + second.reread)
