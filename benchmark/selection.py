"""A paper's "N trainings, keep the K best by validation" as data, and the function that applies it to runs.

Paper 003 trains each network 15 times and reports the mean (std) of the 10 whose validation F1s sum highest.
``SeedSelection`` states that protocol (the seeds to run, how many to keep, by what); ``keep_best`` picks, per
(dataset, baseline, tier, fold), the runs kept, so the statistics a published mean (std) is compared with are
computed over the same kind of sample. The score a run is selected by is its best validation score (the
mean foreground dice of the checkpoint kept): within one dataset and baseline, the sum of the per-class F1s
is that mean times the (fixed) number of foreground classes, so both rank the runs alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
    """The best validation score of a run record's training curve (None without one: a method, or
    ``model_selection: last``)."""
    curve = [v for v in ((record.get("curves") or {}).get("val_score") or []) if v is not None]
    return max(curve) if curve else None


def keep_best(records: Iterable[Mapping[str, Any]], selection: SeedSelection) -> list[Mapping[str, Any]]:
    """The ``ok`` records kept by ``selection``, per (dataset, baseline, tier, fold): of the runs whose seed is
    one of ``selection.seeds``, the ``keep`` with the highest ``validation_score`` (ties: the lower seed).
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
        scored = [(validation_score(r), r) for r in runs]
        if any(s is None for s, _ in scored):
            raise UserError(f"{key[1]}: its runs have no validation curve to select seeds by")
        scored.sort(key=lambda sr: (-sr[0], sr[1]["seed"]))
        kept += [r for _, r in scored[: selection.keep]]
    return kept
