"""``segrepro submit ENTRY_ID``: check a method from the author's own package, run it, and hand in its
records as one verifiable archive (a *submission bundle*).

Steps, each stopping everything when it fails (nothing is written until the last one):

1. the entry comes from an installed package's ``segrepro.baselines`` entry point (its name and version,
   and its git commit where its source is a git checkout, go into the bundle);
2. the checks of ``segrepro.entry_checks`` (card, builds, one training step, masked voxels, same seed) and a
   smoke run on the embedded synthetic data in a temporary folder; every failing check is one line saying
   what to fix;
3. the runs the author asks for (datasets x folds x seeds at one tier) through the standard protocol, into
   ``results/runs`` as any run; a record made by another recipe than the entry's current one is run again;
4. the bundle: the records, the card, the package, the environment (``name==version`` of every installed
   distribution, ``pip freeze``'s format) and a SHA-256 manifest (``segrepro.results.manifest_text``), as one
   ``.tar.gz`` written atomically. Dropped into ``results/submissions/``, the leaderboard and ``segrepro
   aggregate`` verify and show it.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from segrepro import paths
from segrepro.baselines import BASELINES
from segrepro.entry import BaselineEntry
from segrepro.errors import UserError
from segrepro.io import check_writable, new_folders_removed_on_error, write_with_atomic
from segrepro.records import git_state
from segrepro.results import BUNDLE_SUFFIX, MANIFEST, manifest_text
from segrepro.runspec import RunSpec, check_spec

EMBEDDED = {2: "synthetic-2d", 3: "synthetic-3d"}
"""The embedded (generated, no download) dataset of each dimension: the smoke run's data."""


@dataclass(frozen=True)
class Submission:
    """What to run for the bundle: ``entry`` on ``datasets`` x ``folds`` x ``seeds`` at ``tier``."""

    entry: str
    datasets: tuple[str, ...]
    tier: str = "smoke"
    folds: tuple[int, ...] = (0,)
    seeds: tuple[int, ...] = (0,)

    def specs(self) -> list[RunSpec]:
        return [
            RunSpec(dataset, self.entry, fold, seed, self.tier)
            for dataset in self.datasets
            for fold in self.folds
            for seed in self.seeds
        ]


def default_out(entry_id: str, tier: str) -> Path:
    return paths.results_dir() / "bundles" / f"{entry_id}-{tier}{BUNDLE_SUFFIX}"


def package_of(entry_id: str) -> dict[str, Any]:
    """The installed distribution whose ``segrepro.baselines`` entry point registers ``entry_id``: its name,
    version and entry point, with the git commit of its source where that is a git checkout (an editable
    install; a copy in site-packages has none, and the repository around a virtualenv is not the package's)."""
    module = BASELINES.origin(entry_id) or ""
    if module.startswith("segrepro."):
        raise UserError(
            f"{entry_id} is built into segrepro (its reference runs are in results/reference); "
            "submit an entry of your own package (README: Submit a method)"
        )
    for ep in metadata.entry_points(group=BASELINES.entry_point_group):
        if module == ep.module or module.startswith(f"{ep.module}."):
            spec = find_spec(module)
            source = Path(spec.origin).parent if spec and spec.origin else None
            checkout = source is not None and "site-packages" not in source.parts  # an editable install
            commit, dirty = git_state(source) if checkout else (None, None)
            return {
                "name": ep.dist.name if ep.dist else None,
                "version": ep.dist.version if ep.dist else None,
                "entry_point": f"{ep.name} = {ep.value}",
                "module": module,
                "git_commit": commit,
                "git_dirty": dirty,
                "segrepro": metadata.version("segrepro"),
            }
    raise UserError(
        f"{entry_id} is registered by {module or 'hand'}, not by an installed package's "
        f'[project.entry-points."{BASELINES.entry_point_group}"]: add the entry point and pip install your package'
    )


def environment_lock() -> str:
    """Every installed distribution as ``name==version``, sorted (the format of ``pip freeze``)."""
    pins = {f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]}
    return "".join(f"{pin}\n" for pin in sorted(pins, key=str.lower))


@contextmanager
def _folders(root: Path) -> Iterator[None]:
    """Data and results under ``root`` for the block (the smoke run never touches the user's folders)."""
    names = ("SEGREPRO_DATA_DIR", "SEGREPRO_RESULTS_DIR")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({names[0]: str(root / "data"), names[1]: str(root / "results")})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def smoke_problems(entry: BaselineEntry) -> list[str]:
    """A whole smoke-tier run (fit, predict, score) on the embedded data, in a temporary folder."""
    from segrepro.datasets import get_dataset
    from segrepro.protocol import execute

    dataset = EMBEDDED[min(entry.spatial_dims)]
    with tempfile.TemporaryDirectory(prefix="segrepro-submit-") as tmp, _folders(Path(tmp)):
        get_dataset(dataset).prepare(paths.raw_dir(dataset), paths.prepared_dir(dataset))
        record = execute(RunSpec(dataset, entry.id, 0, 0, "smoke"), progress=False).record
    if record["status"] != "ok":
        return [f"the smoke run on {dataset} failed ({record['reason']}); run it yourself with segrepro run to debug"]
    if record["metrics"]["canonical"]["mean"].get("dice") is None:
        return [f"the smoke run on {dataset} scored no dice; its predictions must name the dataset's classes"]
    return []


def check_entry(entry: BaselineEntry, passed: Callable[[str], None]) -> list[str]:
    """Every failing check's problems, each a line saying what to fix (``passed`` is told each check that passes).
    The smoke run is left out when an earlier check failed: it would fail the same way, slower."""
    from segrepro.entry_checks import static_checks

    failed: list[str] = []
    for name, check in [*static_checks(entry), ("smoke run", lambda: smoke_problems(entry))]:
        if failed and name == "smoke run":
            break
        problems = check()
        failed += problems
        if not problems:
            passed(name)
    return failed


def _records(submission: Submission, progress: bool) -> list[dict[str, Any]]:
    """The record of every run of ``submission``, running those that have none (or one by another recipe)."""
    from segrepro.protocol import execute

    current = BASELINES.get(submission.entry).recipe(submission.tier).hash()
    records = []
    for spec in submission.specs():
        outcome = execute(spec, progress=progress)
        if outcome.action == "exists" and outcome.record.get("recipe_hash") != current:
            outcome = execute(spec, progress=progress, force=True)
        records.append(outcome.record)
    failed = [f"{r['run_id']} ({r['reason']})" for r in records if r["status"] != "ok"]
    if failed:
        where = paths.runs_dir()
        raise UserError(f"run(s) failed, no bundle written: {'; '.join(failed)}; their records are in {where}")
    return records


def write_bundle(out: Path, records: list[dict[str, Any]], card: dict[str, Any], package: dict[str, Any]) -> None:
    """The bundle of ``records`` at ``out``, written atomically (a temporary file beside it, then renamed)."""
    members = {f"records/{r['run_id']}.json": (json.dumps(r, indent=1) + "\n").encode() for r in records}
    members["card.json"] = (json.dumps(card, indent=2) + "\n").encode()
    members["package.json"] = (json.dumps(package, indent=2) + "\n").encode()
    members["environment.txt"] = environment_lock().encode()
    members[MANIFEST] = manifest_text(members).encode()

    def write(f: io.BufferedWriter) -> None:
        with tarfile.open(fileobj=f, mode="w:gz") as tar:
            for name, data in sorted(members.items()):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))

    write_with_atomic(out, write)


def submit(
    submission: Submission, out: Path, force: bool = False, progress: bool = True, check_only: bool = False
) -> Path | None:
    """Check the entry, run ``submission`` and write its bundle to ``out`` (None with ``check_only``).

    Every argument and the destination are checked before any work; an existing bundle is replaced only
    with ``force``."""
    entry = BASELINES.get(submission.entry)
    package = package_of(entry.id)
    if not out.name.endswith(BUNDLE_SUFFIX):
        raise UserError(f"--out {out}: a bundle's name ends in {BUNDLE_SUFFIX}")
    if out.exists() and not force and not check_only:
        raise UserError(f"{out} exists; give --force to replace it, or another --out")
    for spec in submission.specs():
        check_spec(spec)
    with new_folders_removed_on_error(out.parent):  # a check that fails leaves no empty bundles folder
        if not check_only:
            check_writable(out.parent)
        problems = check_entry(entry, lambda name: progress and print(f"ok   {name}", file=sys.stderr))
        if problems:
            for problem in problems:
                print(f"FAIL {problem}", file=sys.stderr)
            raise UserError(f"{len(problems)} check(s) of {entry.id} failed (listed above); fix them and submit again")
        if check_only:
            return None
        records = _records(submission, progress)
        write_bundle(out, records, entry.card(), package)
    return out
