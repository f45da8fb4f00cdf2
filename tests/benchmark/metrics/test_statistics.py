"""Bootstrap CI against a slow loop and scipy, paired comparison verdicts both ways."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import bootstrap, wilcoxon

from segrepro.metrics.statistics import bootstrap_ci, compare_entries, estimate, paired_comparison, summarise


@pytest.mark.parametrize("seed", range(5))
def test_bootstrap_ci_equals_a_slow_loop_with_the_same_draws(seed):
    values = np.random.default_rng(100 + seed).normal(size=int(7 + 5 * seed))
    rng = np.random.default_rng(seed)
    means = [values[rng.integers(0, values.size, values.size)].mean() for _ in range(2500)]
    np.testing.assert_allclose(
        bootstrap_ci(values, n_boot=2500, level=0.9, seed=seed), np.quantile(means, [0.05, 0.95])
    )


def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap():
    values = np.random.default_rng(0).exponential(size=200)
    ref = bootstrap((values,), np.mean, n_resamples=20000, method="percentile", random_state=1).confidence_interval
    lo, hi = bootstrap_ci(values, n_boot=20000, seed=1)
    assert abs(lo - ref.low) < 0.02 and abs(hi - ref.high) < 0.02


def test_estimate_drops_nan_and_is_seeded():
    values = [0.5, np.nan, 0.7, 0.6, 0.9]
    e = estimate(values, seed=3)
    assert e.n == 4 and e.mean == pytest.approx(0.675) and e.std == pytest.approx(np.std([0.5, 0.7, 0.6, 0.9], ddof=1))
    assert e.ci_low <= e.mean <= e.ci_high and e == estimate(values, seed=3)
    assert estimate([]).n == 0 and np.isnan(estimate([np.nan]).mean)


def test_paired_comparison_calls_a_clear_difference_and_a_tie():
    rng = np.random.default_rng(0)
    b = rng.uniform(0.5, 0.8, 30)
    a = b + 0.05 + rng.normal(0, 0.01, 30)
    better = paired_comparison(a, b, "new", "old", "dice", seed=4)
    assert better.verdict.startswith("new is better than old on dice")
    assert better.p_value == pytest.approx(wilcoxon(a - b).pvalue, rel=1e-12)
    assert better.mean_difference == pytest.approx((a - b).mean(), rel=1e-12)
    assert (better.ci_low, better.ci_high) == bootstrap_ci(a - b, seed=4) and better.ci_low > 0
    assert better == paired_comparison(a, b, "new", "old", "dice", seed=4)  # seeded: reproducible
    assert "n = 30 paired cases" in better.verdict
    tie = paired_comparison(b + rng.normal(0, 0.05, 30), b, "new", "old", "dice")
    assert tie.verdict.startswith("no clear difference") and tie.ci_low < 0 < tie.ci_high
    lower = paired_comparison(b - 0.1, b, "new", "old", "hd95", higher_is_better=False)
    assert lower.verdict.startswith("new is better than old on hd95")
    same = paired_comparison(b, b, "a", "b")
    assert same.p_value == 1.0 and same.verdict.startswith("no clear difference")
    assert paired_comparison([0.1], [0.2]).verdict.startswith("too few")
    with pytest.raises(ValueError, match="same cases"):
        paired_comparison([1, 2], [1, 2, 3])


def test_paired_comparison_drops_cases_with_a_nan_on_either_side_in_pairs():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.6, 0.9, 20), rng.uniform(0.4, 0.7, 20)
    a_nan, b_nan = a.copy(), b.copy()
    a_nan[3], b_nan[7] = np.nan, np.nan
    keep = np.ones(20, bool)
    keep[[3, 7]] = False
    assert paired_comparison(a_nan, b_nan) == paired_comparison(a[keep], b[keep])
    assert paired_comparison(a_nan, b_nan).n == 18


def test_compare_entries_pairs_runs_by_dataset_fold_and_seed():
    rng = np.random.default_rng(2)
    cases = [("d1", f, s) for f in range(3) for s in range(3)] + [("d2", f, 0) for f in range(3)]
    b_values = rng.uniform(0.5, 0.8, len(cases))
    a_values = b_values + 0.04 + rng.normal(0, 0.01, len(cases))
    a = pd.DataFrame(cases, columns=["dataset", "fold", "seed"]).assign(value=a_values)
    b = pd.DataFrame(cases, columns=["dataset", "fold", "seed"]).assign(value=b_values)
    only_a = pd.DataFrame([("d3", 0, 0, 0.99)], columns=["dataset", "fold", "seed", "value"])
    shuffled_b = b.sample(frac=1.0, random_state=0)  # pairing is by case, not by row order
    result = compare_entries(pd.concat([a, only_a]), shuffled_b, name_a="new", name_b="old", metric="dice", seed=1)
    assert result.n == len(cases)  # the case only one side has is left out
    assert result == paired_comparison(a_values, b_values, "new", "old", "dice", seed=1)
    assert result.test == "Wilcoxon signed-rank, two-sided (scipy.stats.wilcoxon)"
    assert result.p_value == pytest.approx(wilcoxon(a_values - b_values).pvalue, rel=1e-12)
    assert result.verdict.startswith("new is better than old on dice")
    with pytest.raises(ValueError, match="more than one score for the case dataset=d1, fold=0, seed=0"):
        compare_entries(pd.concat([a, a.iloc[:1]]), b)


def test_summarise_matches_plain_pandas_and_bootstrap_ci_per_group():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"g": rng.choice(["x", "y", "z"], 60), "value": rng.uniform(size=60)})
    frame.loc[[3, 7], "value"] = np.nan
    table = summarise(frame, ["g"])
    for g, group in frame.dropna().groupby("g"):
        row = table.loc[g]
        assert row["mean"] == pytest.approx(group["value"].mean()) and row["std"] == pytest.approx(group["value"].std())
        assert row["n"] == len(group) and (row["ci_low"], row["ci_high"]) == bootstrap_ci(group["value"].to_numpy())
    assert list(summarise(frame, ["g"], ci=False).columns) == ["mean", "std", "n"]
