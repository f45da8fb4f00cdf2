"""Run records: one schema-validated JSON per run, with provenance, written atomically."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from datetime import datetime, timezone
from functools import cache
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from segrepro.io import write_json_atomic

if TYPE_CHECKING:  # torch is imported where it is used: the leaderboard reads records without it (~2 s)
    import torch

SCHEMA_VERSION = 1


@cache
def run_record_schema() -> dict[str, Any]:
    return json.loads(files("segrepro").joinpath("schemas/run_record.schema.json").read_text())


@cache
def _validator() -> jsonschema.protocols.Validator:
    """The schema's validator, checked and built once (``jsonschema.validate`` re-checks the schema
    against its metaschema on every call: ~40 ms a record)."""
    schema = run_record_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_record(record: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``record`` does not follow the schema."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(record))
    if error is not None:
        raise error


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Validate the record as it will read back from disk, then write it atomically."""
    as_json = json.loads(json.dumps(record))
    validate_record(as_json)
    write_json_atomic(path, as_json)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_state(cwd: Path | None = None) -> tuple[str | None, bool | None]:
    """The current commit and whether the work tree differs from it (None outside a git repo)."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit, bool(dirty)
    except (OSError, subprocess.CalledProcessError):
        return None, None


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("segrepro", "torch", "monai", "numpy", "scipy", "scikit-learn"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_description() -> str:
    """The processor a wall time was measured on: its model name, logical CPUs and the vector instructions torch
    uses (``AVX2``, ``AVX512``), which bound how fast a CPU run can go."""
    import torch

    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        lines = cpuinfo.read_text().splitlines()
        model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), model)
    return f"{model}, {os.cpu_count()} logical CPUs, {torch.backends.cpu.get_cpu_capability()}"


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def command_line() -> str:
    return " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]])


def finish_provenance(prov: dict[str, Any], wall_time_s: float, device: torch.device) -> None:
    """Fill in the end of a ``provenance()`` block: finish time, wall time and peak memory (GPU or process)."""
    import torch

    prov["finished"] = now_iso()
    prov["wall_time_s"] = round(wall_time_s, 3)
    prov["load_average"] = {**prov.get("load_average", {}), "end": round(os.getloadavg()[0], 2)}
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else peak_memory_mb()
    prov["peak_memory_mb"] = round(peak, 1)


def provenance(device: torch.device) -> dict[str, Any]:
    """Where a result comes from: commit, package versions, device, the command, start time, threads, the
    processor and the machine's 1-minute load average (a wall time means little without them); ``finished``,
    ``wall_time_s``, ``peak_memory_mb`` and the load at the end are filled in at the end."""
    import torch

    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "versions": package_versions(),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "command": command_line(),
        "started": now_iso(),
        "finished": None,
        "wall_time_s": 0.0,
        "peak_memory_mb": None,
        "deterministic": True,
        "threads": torch.get_num_threads(),
        "cpu": cpu_description(),
        "load_average": {"start": round(os.getloadavg()[0], 2), "end": None},
    }
