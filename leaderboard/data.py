"""The leaderboard's data access: find, parse and schema-validate the files it shows.

Three kinds of file, each checked against a JSON schema in ``segrepro/schemas``:

- run records ``*.json`` in ``results/reference/runs/`` (the reproductions committed to this
  repository) and ``results/runs/`` (the user's own, marked as theirs), read through
  ``segrepro.results``: the tables ``segrepro aggregate`` stored beside each folder
  (``results/tables``, ``results/reference/tables``), with records added or changed since then read
  and the tables brought up to date;
- submission bundles ``results/submissions/*.tar.gz`` (written by ``segrepro submit``), each verified
  through ``segrepro.results`` (SHA-256 manifest, then schema) and its records shown with source
  ``submitted``; a bundle that fails is named as a problem and left out whole;
- every paper package's ``baselines/<paper>/published.csv`` and ``methods.csv``, and its claims ledger
  ``claims.yaml`` (checked against ``schemas/claims.schema.json`` and the known metrics; the entries and
  datasets it names are checked against the registries by ``segrepro claims``, not here, so the page
  never imports the models);
- stress-test tables ``results/stress/<dataset>/stress.csv`` (and the same under ``results/reference/``),
  with the sweep's provenance from the ``stress.json`` beside each.

Files are read as JSON and CSV text only, size-capped; nothing in them is ever executed (no pickle, no
eval, no import). A malformed file becomes a ``Problem`` (which file, what is wrong) and is left out,
so one bad file never takes the page down. Everything here is plain Python + pandas, testable without
Streamlit; the app caches the results keyed on a digest of ``runs_signature`` (names, sizes and mtimes).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd

from segrepro import paths, results
from segrepro.claims import Claim, claim_files, load_claims
from segrepro.errors import UserError
from segrepro.records import run_record_schema
from segrepro.results import SOURCE_MINE, SOURCE_REFERENCE, SOURCE_SUBMITTED, Problem, read_capped, schema_message

PNG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.png$")
"""Overlay files a record may name: plain PNG file names inside the run's own folder, no paths."""

RUN_COLUMNS = ["key", "source", *results.RUN_COLUMNS, "recipe_state", "stale"]
SCORE_COLUMNS = ["key", "convention", "class", "metric", "value"]
SHARE_COLUMNS = ["key", "class", "share"]
PUBLISHED_COLUMNS = ["paper", "table", "dataset", "method", "class", "metric", "value", "std"]
METHODS_COLUMNS = ["table", "method", "baseline", "scale"]
STRESS_COLUMNS = ["ratio", "achieved_ratio", "baseline", "class", "metric", "value"]


@dataclass(frozen=True)
class Folders:
    """Where the page looks. ``runs`` and ``stress`` are ``(source, folder)`` pairs."""

    runs: tuple[tuple[str, Path], ...]
    published: Path
    stress: tuple[tuple[str, Path], ...]
    tables: bool = False
    """Use and update the tables stored beside each runs folder (``results.tables_dir``); without them,
    every record is parsed on each load."""
    submissions: Path | None = None
    """The folder of submission bundles (``results/submissions``); None: no bundles shown."""


@dataclass
class Results:
    """Every valid run record, flattened: ``runs`` one row per record (``key`` = its file path),
    ``scores`` one row per (record, convention, class, metric), ``shares`` each class's share of
    the scored test voxels (TP + FN over all classes), from the record's raw counts. ``notes``: what
    loading did that the reader should know (records read because the stored tables lacked them)."""

    runs: pd.DataFrame
    scores: pd.DataFrame
    shares: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recipes: pd.DataFrame = field(default_factory=lambda: results.recipes_frame({}))
    """Per (baseline, tier) the current recipe hash and seed selection, as ``segrepro aggregate`` stored them."""


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
    root = paths.results_dir()
    reference = root / "reference"
    return Folders(
        runs=((SOURCE_REFERENCE, reference / "runs"), (SOURCE_MINE, root / "runs")),
        published=published_root(),
        stress=((SOURCE_REFERENCE, reference / "stress"), (SOURCE_MINE, root / "stress")),
        tables=True,
        submissions=root / "submissions",
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


def runs_signature(folders: Folders) -> tuple:
    """Names, mtimes and sizes of every run record and bundle: changes whenever one is added, changed or removed."""
    records = tuple(
        (source, str(folder), tuple(results.record_files(folder)[0].items())) for source, folder in folders.runs
    )
    if folders.submissions is None:
        return records
    bundles = results.bundle_files(folders.submissions)[0]
    return (*records, (SOURCE_SUBMITTED, str(folders.submissions), tuple(bundles.items())))


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


def load_results(folders: Folders) -> Results:
    """Every run record in ``folders.runs`` and in the bundles in ``folders.submissions`` (through
    ``segrepro.results``), with its source and its path as ``key`` (``<bundle>/records/<run id>.json`` for
    a submitted one); malformed files and bundles become problems."""
    runs, scores, shares, problems, notes, recipes = [], [], [], [], [], []

    def add(source: str, folder: Path, t: results.RunTables) -> None:
        recipes.append(t.recipes)
        keys = t.runs["file"].map(lambda f: str(folder / f))
        runs.append(t.runs.assign(key=keys, source=source))
        by_file = dict(zip(t.runs["file"], keys, strict=True))
        scores.append(t.scores.assign(key=_keyed(t.scores["file"], by_file)))
        shares.append(t.shares.assign(key=_keyed(t.shares["file"], by_file)))
        problems.extend(t.problems)

    for source, folder in folders.runs:
        store = results.tables_dir(folder) if folders.tables else None
        t = results.load(folder, store)
        add(source, folder, t)
        if store is not None and t.reread and t.stored:
            notes.append(
                f"{source}: {t.reread} record(s) added or changed since `segrepro aggregate` stored the tables "
                f"in {store}: read now, tables updated."
            )
        elif store is not None and t.reread:
            notes.append(f"{source}: no tables in {store} yet: {t.reread} record(s) read, tables written.")
    if folders.submissions is not None:
        add(SOURCE_SUBMITTED, folders.submissions, results.load_submissions(folders.submissions))
    found = pd.concat([r for r in recipes if len(r)] or [results.recipes_frame({})], ignore_index=True)
    return _results(runs, scores, shares, problems, notes, found.drop_duplicates(["baseline", "tier"]))


def _keyed(files: pd.Series, by_file: dict[str, str]) -> pd.Categorical:
    """Each row's record path, as a categorical (a few thousand paths over ~a million score rows)."""
    codes = pd.Categorical(files, categories=list(by_file))
    return codes.rename_categories(list(by_file.values()))


def _results(
    runs: list[pd.DataFrame],
    scores: list[pd.DataFrame],
    shares: list[pd.DataFrame],
    problems: list[Problem],
    notes: list[str],
    recipes: pd.DataFrame,
) -> Results:
    """The page's tables: categories for the repeated text columns."""
    runs = [r for r in runs if len(r)] or runs[:1]  # pandas warns on concatenating empty frames
    run_df = pd.concat(runs, ignore_index=True)[RUN_COLUMNS] if runs else pd.DataFrame(columns=RUN_COLUMNS)
    for col in ("key", "file", "run_id", "data_hash", "git_commit", "device", "started", "recipe_hash"):
        run_df[col] = run_df[col].astype(object)
    for col in ("source", "dataset", "baseline", "paper", "tier", "status", "convention", "recipe_state"):
        run_df[col] = run_df[col].astype("category")
    run_df["stale"] = run_df["stale"].astype(bool)
    score_df = _concat_keyed(scores, SCORE_COLUMNS)
    for col in ("key", "convention", "class", "metric"):
        score_df[col] = score_df[col].astype("category")
    share_df = _concat_keyed(shares, SHARE_COLUMNS).astype({"key": object, "class": object})
    return Results(run_df, score_df, share_df, problems, notes, recipes)


def _concat_keyed(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Frames whose ``key`` are categoricals of different categories, concatenated into one."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    keys = pd.api.types.union_categoricals([f["key"].astype("category") for f in frames])
    out = pd.concat([f[columns[1:]] for f in frames], ignore_index=True)
    out.insert(0, "key", keys)
    return out


def read_record(path: Path) -> dict[str, Any] | Problem:
    """The record the run page shows, through the results layer's checks: a record file, or
    ``<bundle>/records/<run id>.json`` from a bundle verified again."""
    bundle = next((p for p in path.parents if p.name.endswith(results.BUNDLE_SUFFIX)), None)
    if bundle is None:
        return results.read_record(path)
    found = results.read_bundle(bundle)
    if isinstance(found, Problem):
        return found
    return found.records.get(path.relative_to(bundle).as_posix()) or Problem(str(path), "not in its bundle")


def overlays(record_path: Path, record: dict[str, Any]) -> list[tuple[str, Path]]:
    """The prediction overlay PNGs of a run: ``(caption, file)`` inside the folder named like the record.

    Names come from the record's ``predictions`` list (or, without one, every PNG in the folder);
    only plain file names inside that folder are accepted, so a record cannot point elsewhere (a file there
    that links outside is named and left unopened by the page, ``app._overlay``)."""
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
        sweep = results.read_json(path)
    except (OSError, ValueError) as exc:
        return Problem(str(path), str(exc))
    prov = sweep.get("provenance") if isinstance(sweep, dict) else None
    message = schema_message(_provenance_validator(), prov)
    return Problem(str(path), f"provenance does not follow the run-record schema's ({message})") if message else prov


@cache
def _row_validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(files("segrepro").joinpath(f"schemas/{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


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
        text = read_capped(path).decode("utf-8")
        reader = csv.DictReader(text.splitlines())
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        extra = [c for c in header if c not in validator.schema["properties"]]
        if missing or (strict and extra):
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if strict and extra else "",
                )
                if part
            )
            optional = [c for c in validator.schema["properties"] if c not in required]
            also = f" (optional: {','.join(optional)})" if optional else ""
            return Problem(str(path), f"wrong columns ({detail}); expected exactly {','.join(required)}{also}")
        reader.fieldnames = header
        rows = []
        for row in reader:
            line = reader.line_num
            if None in row or None in row.values():
                return Problem(str(path), f"line {line}: has a different number of fields than the header")
            typed = {k: _cell(v, k in numeric) for k, v in row.items()}
            message = schema_message(validator, typed)
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
    mapping: dict[tuple[str, str], tuple[str, float, str]] = {}
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
            mapping[k] = (row["baseline"], row["scale"], row.get("reference", ""))
    df = pd.DataFrame(published, columns=PUBLISHED_COLUMNS).astype({"value": float, "std": float})
    keys = list(zip(df["table"], df["method"], strict=True))
    unmapped = sorted({f"{t}/{m}" for t, m in keys if (t, m) not in mapping})
    if unmapped and isinstance(methods, list):
        problems.append(Problem(str(methods_path), f"no row for {', '.join(unmapped)}: those numbers stay unmatched"))
    df["baseline"] = [mapping.get(k, ("", math.nan, ""))[0] for k in keys]
    df["scale"] = [mapping.get(k, ("", math.nan, ""))[1] for k in keys]
    df["reference"] = [mapping.get(k, ("", math.nan, ""))[2] for k in keys]
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
        else pd.DataFrame(columns=[*PUBLISHED_COLUMNS, "baseline", "scale", "reference", "package"])
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
