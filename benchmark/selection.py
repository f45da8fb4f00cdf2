"""A paper's "N trainings, keep the K best by validation" as data, and the function that applies it to runs.

Paper 003 trains each network 15 times and reports the mean (std) of the 10 whose validation F1s sum highest.
``SeedSelection`` states that protocol (the seeds to run, how many to keep, by what); ``keep_best`` picks, per
(dataset, baseline, tier, fold), the runs kept, so the statistics a published mean (std) is compared with are
computed over the same kind of sample. The score a run is selected by is its best validation score (the
mean foreground dice of the checkpoint kept): within one dataset and baseline, the sum of the per-class F1s
is that mean times the (fixed) number of foreground classes, so both rank the runs alike.

``selected_runs`` applies the registered selections to a table of runs (``segrepro.results``' ``runs``, whose
``val_score`` column is each run's ``validation_score``): ``segrepro aggregate`` and the leaderboard's views
both compute their statistics over what it keeps. The selections travel as data, in the ``seeds`` and ``keep``
columns of the stored ``recipes`` table (``selection_columns``), so the leaderboard never imports the entries.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from segrepro.errors import UserError

GROUP = ("dataset", "baseline", "tier", "fold")


@dataclass(frozen=True)
class SeedSelection:
    """Run every seed of ``seeds``; keep the ``keep`` runs with the highest validation score."""

    seeds: tuple[int, ...]
    keep: int
    by: str = "best validation score (sum of the validation F1s, up to the class count)"

    def __post_init__(self) -> None:
        if len(set(self.seeds)) != len(self.seeds) or not 1 <= self.keep <= len(self.seeds):
            raise UserError(f"a seed selection keeps 1 to {len(set(self.seeds))} distinct seeds, not {self.keep}")

    def to_dict(self) -> dict[str, Any]:
        return {"seeds": list(self.seeds), "keep": self.keep, "by": self.by}


def validation_score(record: Mapping[str, Any]) -> float | None:
    """The best validation score of a run record's training curve, whose points are ``[iteration, score]``
    (None without one: a method, or ``model_selection: last``)."""
    points = (record.get("curves") or {}).get("val_score") or []
    scores = [p[1] for p in points if len(p) > 1 and p[1] is not None]
    return max(scores) if scores else None


def keep_best(
    records: Iterable[Mapping[str, Any]],
    selection: SeedSelection,
    score: Callable[[Mapping[str, Any]], float | None] = validation_score,
) -> list[Mapping[str, Any]]:
    """The ``ok`` records kept by ``selection``, per (dataset, baseline, tier, fold): of the runs whose seed is
    one of ``selection.seeds``, the ``keep`` with the highest ``score`` (ties: the lower seed).
    A group with fewer runs than the selection's seeds is a one-line ``UserError`` naming the seeds to run."""
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("seed") in selection.seeds:
            groups.setdefault(tuple(r[k] for k in GROUP), []).append(r)
    kept: list[Mapping[str, Any]] = []
    for key, runs in sorted(groups.items()):
        missing = sorted(set(selection.seeds) - {r["seed"] for r in runs})
        if missing:
            what = ", ".join(f"{k} {v}" for k, v in zip(GROUP, key, strict=True))
            raise UserError(
                f"{what}: the selection keeps the best {selection.keep} of {len(selection.seeds)} seeds and "
                f"{len(missing)} have no ok run; run seeds {', '.join(map(str, missing))} first"
            )
        scored = [(score(r), r) for r in runs]
        if any(s is None for s, _ in scored):
            raise UserError(f"{key[1]}: its runs have no validation curve to select seeds by")
        scored.sort(key=lambda sr: (-sr[0], sr[1]["seed"]))
        kept += [r for _, r in scored[: selection.keep]]
    return kept


def registered_selections() -> dict[tuple[str, str], SeedSelection]:
    """``{(baseline id, tier): selection}`` of every registered entry that has one (imports the registry)."""
    from segrepro.baselines import BASELINES

    return {(entry_id, tier): s for entry_id, entry in BASELINES for tier, s in entry.seed_selection.items()}


def selection_columns(selections: Mapping[tuple[str, str], SeedSelection], keys: pd.DataFrame) -> pd.DataFrame:
    """``seeds`` (comma-separated, empty without a selection) and ``keep`` (0 without) for each
    (``baseline``, ``tier``) row of ``keys``: how the selections are stored beside the recipe hashes."""
    rows = [selections.get((b, t)) for b, t in zip(keys["baseline"], keys["tier"], strict=True)]
    return pd.DataFrame(
        {
            "seeds": [",".join(map(str, s.seeds)) if s else "" for s in rows],
            "keep": [s.keep if s else 0 for s in rows],
        },
        index=keys.index,
    )


def selections_table(selections: Mapping[tuple[str, str], SeedSelection]) -> pd.DataFrame:
    """The selections as ``selected_runs`` reads them: one row per (baseline, tier) with ``seeds`` and ``keep``."""
    keys = pd.DataFrame(sorted(selections), columns=["baseline", "tier"])
    return pd.concat([keys, selection_columns(selections, keys)], axis=1)


def _val_score(run: Mapping[str, Any]) -> float | None:
    value = run.get("val_score")
    return None if value is None or math.isnan(value) else float(value)


def selected_runs(runs: pd.DataFrame, recipes: pd.DataFrame) -> pd.DataFrame:
    """``runs`` without the ok runs that their entry's seed selection leaves out (``keep_best`` per dataset,
    baseline, tier, fold and, where there is one, source). ``recipes`` holds the selections (``seeds``,
    ``keep``; see ``selection_columns``). A group that still misses one of the selection's seeds, or whose
    runs lack a validation score, is kept whole: the paper's best K of N needs all N."""
    if runs.empty or "keep" not in recipes.columns:
        return runs
    group = [*GROUP, "source"] if "source" in runs.columns else list(GROUP)
    dropped: list[Any] = []
    for row in recipes[recipes["keep"] > 0].itertuples():
        selection = SeedSelection(tuple(int(s) for s in str(row.seeds).split(",")), int(row.keep))
        mine = runs[(runs["baseline"].astype(str) == row.baseline) & (runs["tier"].astype(str) == row.tier)]
        for _, part in mine.groupby([mine[c].astype(str) for c in group if c not in ("baseline", "tier")]):
            ok = part[(part["status"] == "ok") & part["seed"].isin(selection.seeds)]
            if set(ok["seed"]) != set(selection.seeds) or ok["val_score"].isna().any():
                continue
            kept = keep_best(ok.assign(_row=ok.index).to_dict("records"), selection, _val_score)
            dropped += sorted(set(part.index[part["status"] == "ok"]) - {r["_row"] for r in kept})
    return runs.drop(index=dropped)
