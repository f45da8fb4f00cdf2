"""HD95 through MONAI against a brute-force surface distance."""

import numpy as np
from scipy.ndimage import binary_erosion
from scipy.spatial.distance import cdist

from segrepro.metrics.distance import hd95_per_class


def brute_hd95(a, b):
    ea, eb = a & ~binary_erosion(a), b & ~binary_erosion(b)
    d = cdist(np.argwhere(ea), np.argwhere(eb))
    return max(np.percentile(d.min(axis=1), 95), np.percentile(d.min(axis=0), 95))


def test_hd95_matches_brute_force_and_honours_the_mask():
    rng = np.random.default_rng(0)
    for _ in range(5):
        target = np.zeros((30, 30), int)
        pred = np.zeros((30, 30), int)
        y, x = rng.integers(4, 15, 2)
        target[y : y + 10, x : x + 12] = 1
        dy, dx = rng.integers(-3, 4, 2)
        pred[y + dy : y + dy + 9, x + dx : x + dx + 13] = 1
        d = hd95_per_class(pred, target, 2)
        assert abs(d[1] - brute_hd95(pred == 1, target == 1)) < 1e-6
    mask = np.ones((30, 30), bool)
    mask[:, 25:] = False
    noisy = pred.copy()
    noisy[:, 26:] = 1
    np.testing.assert_array_equal(hd95_per_class(noisy, target, 2, mask), hd95_per_class(pred, target, 2, mask))
    assert np.isnan(hd95_per_class(pred, target, 3)[2])
