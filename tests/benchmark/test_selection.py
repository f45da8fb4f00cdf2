"""Paper 003's "15 trainings, keep the 10 best by validation" applied to run records."""

from __future__ import annotations

import pandas as pd
import pytest

from segrepro.baselines import get_baseline
from segrepro.errors import UserError
from segrepro.selection import SeedSelection, keep_best, selected_runs, selections_table, validation_score


def record(seed: int, best: float | None, fold: int = 0, baseline: str = "meyer2021-unet", status: str = "ok") -> dict:
    curve = [] if best is None else [[256, best / 2], [512, best], [768, best - 0.01], [1024, None]]
    return {
        "dataset": "fib-sem-hela", "baseline": baseline, "tier": "paper", "fold": fold, "seed": seed,
        "status": status, "curves": {"train_loss": [[256, 1.0], [512, 0.5]], "val_score": curve},
    }  # fmt: skip


def test_the_best_k_of_n_seeds_are_kept_per_fold():
    selection = SeedSelection(seeds=tuple(range(5)), keep=3)
    runs = [record(s, v) for s, v in enumerate([0.5, 0.9, 0.7, 0.9, 0.1])]
    runs += [record(s, 0.5 + 0.01 * s, fold=1) for s in range(5)]
    runs.append(record(7, 0.99))  # not one of the selection's seeds: never kept
    kept = keep_best(runs, selection)
    fold0 = [r["seed"] for r in kept if r["fold"] == 0]
    assert fold0 == [1, 3, 2]  # best validation first, the tie broken by the lower seed
    assert [r["seed"] for r in kept if r["fold"] == 1] == [4, 3, 2]
    assert validation_score(runs[1]) == pytest.approx(0.9)


def test_missing_seeds_and_runs_without_validation_are_one_line_errors():
    selection = SeedSelection(seeds=(0, 1, 2), keep=2)
    with pytest.raises(UserError, match="run seeds 2 first") as err:
        keep_best([record(0, 0.5), record(1, 0.6), record(2, 0.7, status="failed")], selection)
    assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="no validation curve"):
        keep_best([record(s, None) for s in range(3)], selection)
    with pytest.raises(UserError, match="keeps 1 to 3"):
        SeedSelection(seeds=(0, 1, 2), keep=4)


def test_paper_003_networks_state_15_trainings_keep_10():
    for entry_id in ("meyer2021-unet", "meyer2021-unet-f", "meyer2021-eunet", "meyer2021-eunet-f"):
        selection = get_baseline(entry_id).seed_selection["paper"]
        assert selection.seeds == tuple(range(15)) and selection.keep == 10
    assert get_baseline("meyer2021-unet").card()["seed_selection"]["paper"]["keep"] == 10


def test_selected_runs_drops_only_the_ok_runs_a_complete_selection_leaves_out():
    rows = [("a", "paper", 0, s, "ok", 0.1 * s) for s in range(4)]  # complete: seeds 0-3, keep the best 2
    rows += [("a", "paper", 0, 4, "failed", float("nan"))]  # a failed run is never dropped
    rows += [("a", "paper", 1, s, "ok", 0.1 * s) for s in range(3)]  # fold 1 misses seed 3: counted whole
    rows += [("b", "paper", 0, s, "ok", 0.1 * s) for s in range(4)]  # no selection for b
    runs = pd.DataFrame(rows, columns=["baseline", "tier", "fold", "seed", "status", "val_score"]).assign(dataset="d")
    table = selections_table({("a", "paper"): SeedSelection(seeds=(0, 1, 2, 3), keep=2)})
    assert table.to_dict("records") == [{"baseline": "a", "tier": "paper", "seeds": "0,1,2,3", "keep": 2}]
    kept = selected_runs(runs, table)
    assert sorted(kept.loc[(kept["baseline"] == "a") & (kept["fold"] == 0), "seed"]) == [2, 3, 4]
    assert len(kept[(kept["baseline"] == "a") & (kept["fold"] == 1)]) == 3
    assert len(kept[kept["baseline"] == "b"]) == 4
