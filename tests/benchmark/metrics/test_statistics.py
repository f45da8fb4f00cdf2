"""Bootstrap CI against a slow loop and scipy, paired comparison verdicts both ways."""

import numpy as np
import pytest
from scipy.stats import bootstrap, wilcoxon

from segrepro.metrics.statistics import bootstrap_ci, estimate, paired_comparison


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
