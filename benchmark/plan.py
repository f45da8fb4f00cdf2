"""The benchmark matrix as a plan: a selection (datasets x baselines x folds x seeds, one tier) expanded
into run specs, each with its run id (``RunSpec.run_id``, the one spelling) and the state of its record:
done, failed, stale (an ok record made by an older recipe than its entry's) or to do.

``segrepro plan`` writes it as JSON lines; every executor (``segrepro run-plan``) reads those lines back,
and dvc.yaml's ``run`` matrix expands params.yaml in the same order (a test checks they agree).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segrepro import paths
from segrepro.errors import UserError
from segrepro.runspec import RunSpec, check_seed
from segrepro.tiers import TIERS
from segrepro.yaml_files import read_yaml

PLAN_FORMAT = 1  # bump when a plan line's fields change: an older or newer plan is refused, not guessed at
DONE, FAILED, STALE, TODO = "done", "failed", "stale", "to do"
STATES = (DONE, FAILED, STALE, TODO)
RUNNABLE = (FAILED, STALE, TODO)  # what run-plan works on (done runs are skipped)


@dataclass(frozen=True)
class Selection:
    """Which runs: every combination of the lists, at one tier (the order of dvc.yaml's matrix)."""

    datasets: tuple[str, ...]
    baselines: tuple[str, ...]
    folds: tuple[int, ...] = (0,)
    seeds: tuple[int, ...] = (0,)
    tier: str = "smoke"

    def specs(self) -> list[RunSpec]:
        """Dataset, then baseline, fold, seed: the order of dvc.yaml's ``matrix``."""
        combos = itertools.product(self.datasets, self.baselines, self.folds, self.seeds)
        return [RunSpec(d, b, f, s, self.tier) for d, b, f, s in combos]


def selection_from_params(path: Path) -> Selection:
    """The selection of a params.yaml (``datasets``, ``baselines``, ``folds``, ``seeds``, ``tier``)."""
    params = read_yaml(path)
    keys = ("datasets", "baselines", "folds", "seeds", "tier")
    if not isinstance(params, dict) or any(k not in params for k in keys):
        raise UserError(f"{path} needs the keys {', '.join(keys)} (as in the project's params.yaml)")
    lists = [k for k in keys[:4] if not isinstance(params[k], list)]
    if lists:
        raise UserError(f"{path}: {', '.join(lists)} must be lists (e.g. seeds: [0, 1])")
    return Selection(*(tuple(params[k]) for k in keys[:4]), tier=params["tier"])


def check_selection(sel: Selection) -> None:
    """Every name and number valid (unknown baselines and datasets list the known ones), or a ``UserError``."""
    from segrepro.baselines import get_baseline
    from segrepro.runspec import check_dataset_name

    if sel.tier not in TIERS:
        raise UserError(f"unknown tier {sel.tier!r}; choose one of {', '.join(TIERS)}")
    for what, values in (("datasets", sel.datasets), ("baselines", sel.baselines)):
        if not values:
            raise UserError(f"the selection has no {what}")
    for name in sel.datasets:
        paths.check_slug(name, "dataset")
        check_dataset_name(name)
    for name in sel.baselines:
        get_baseline(name).recipe(sel.tier)
    for fold in sel.folds:
        if not isinstance(fold, int) or fold < 0:
            raise UserError(f"folds must be whole numbers 0 or more, not {fold!r}")
    for seed in sel.seeds:
        if not isinstance(seed, int):
            raise UserError(f"seeds must be whole numbers, not {seed!r}")
        check_seed(seed)


def current_recipe_hashes(baselines: Iterable[str], tier: str) -> dict[str, str]:
    from segrepro.baselines import get_baseline

    return {b: get_baseline(b).recipe(tier).hash() for b in baselines}


def record_state(spec: RunSpec, current_hash: str | None) -> str:
    """The state of ``spec``'s record in ``results/runs``: to do (none), failed, stale or done."""
    path = paths.run_record(spec.run_id)
    try:
        record = json.loads(path.read_bytes())
    except FileNotFoundError:
        return TODO
    except (OSError, ValueError):
        return FAILED  # unreadable: running it again writes a fresh record
    if not isinstance(record, dict) or record.get("status") != "ok":
        return FAILED
    if current_hash is not None and record.get("recipe_hash") != current_hash:
        return STALE
    return DONE


def plan_lines(sel: Selection) -> Iterator[dict[str, Any]]:
    """One plan line per run spec: its fields, run id and record state."""
    check_selection(sel)
    hashes = current_recipe_hashes(sel.baselines, sel.tier)
    for spec in sel.specs():
        yield spec_line(spec, record_state(spec, hashes[spec.baseline]))


def spec_line(spec: RunSpec, state: str) -> dict[str, Any]:
    return {
        "plan_format": PLAN_FORMAT,
        "run_id": spec.run_id,
        "dataset": spec.dataset,
        "baseline": spec.baseline,
        "fold": spec.fold,
        "seed": spec.seed,
        "tier": spec.tier,
        "state": state,
    }


def line_spec(line: dict[str, Any], where: str) -> RunSpec:
    """The run spec of a plan line, or a ``UserError`` naming ``where`` (file and line number)."""
    fmt = line.get("plan_format") if isinstance(line, dict) else None
    if fmt != PLAN_FORMAT:
        raise UserError(
            f"{where}: a plan of format {fmt!r}, and this segrepro reads format {PLAN_FORMAT}; "
            "write it again with: segrepro plan --out PLAN"
        )
    try:
        spec = RunSpec(line["dataset"], line["baseline"], line["fold"], line["seed"], line["tier"])
    except KeyError as exc:
        raise UserError(f"{where}: the plan line has no {exc.args[0]!r}; write it again with segrepro plan") from None
    if line.get("run_id") != spec.run_id:
        raise UserError(f"{where}: run id {line.get('run_id')!r} does not match its fields ({spec.run_id})")
    return spec


def read_plan(path: Path) -> list[RunSpec]:
    """The run specs of a plan file (JSON lines), checked line by line before any run starts."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"cannot read the plan {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a plan (JSON lines written by segrepro plan)") from None
    specs = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            raise UserError(f"{path}:{number}: not a JSON line; write the plan with segrepro plan") from None
        specs.append(line_spec(line, f"{path}:{number}"))
    if not specs:
        raise UserError(f"{path} holds no runs")
    return specs


def format_plan(lines: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
