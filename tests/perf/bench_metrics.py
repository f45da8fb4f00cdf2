"""Speed benchmark of the evaluation engine (not collected by pytest; run by hand).

    .venv/bin/python tests/perf/bench_metrics.py [--n-auc 100000000]

1. The full per-class confusion metric set on a 256^3 volume, 3 classes, a validity mask: segrepro
   vs MONAI's ConfusionMatrixMetric (fed one-hot tensors of the scored voxels), and two floors: one
   pass summing each input with ``ndarray.sum`` (the issue's floor), and one pass summing each
   input's bytes as uint64 words (about the memory-bandwidth limit of reading them once).
2. ROC AUC on --n-auc scores: segrepro exact, segrepro histogram, scikit-learn roc_auc_score.

The values are checked, not only timed: the script exits non-zero if segrepro and MONAI differ by
more than 1e-6 on any metric and class, if the exact AUC differs from scikit-learn's by more than
1e-6, or if the histogram AUC is further from it than its own error bound.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from monai.metrics import ConfusionMatrixMetric
from sklearn.metrics import roc_auc_score

from segrepro.metrics import CONFUSION_METRICS, HistogramAUC, confusion_counts, roc_auc, scores_from_counts

MONAI_NAMES = {
    "precision": "precision",
    "recall": "sensitivity",
    "tnr": "specificity",
    "dice": "f1 score",
    "iou": "threat score",
    "balanced_accuracy": "balanced accuracy",
    "youden_j": "informedness",
    "mcc": "matthews correlation coefficient",
}


def timed(fn, repeat=1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def monai_scores(pred, target, mask, k):
    p = torch.from_numpy(pred[mask].astype(np.int64))
    t = torch.from_numpy(target[mask].astype(np.int64))
    onehot = lambda x: torch.nn.functional.one_hot(x, k).T[None].float()  # noqa: E731  (1, K, N)
    metric = ConfusionMatrixMetric(include_background=True, metric_name=list(MONAI_NAMES.values()), reduction="none")
    metric(onehot(p), onehot(t))
    return {ours: r[0].double().numpy() for ours, r in zip(MONAI_NAMES, metric.aggregate(), strict=True)}


def bench_confusion(repeat):
    rng = np.random.default_rng(0)
    k, shape = 3, (256, 256, 256)
    target = rng.choice(np.arange(k, dtype=np.uint8), shape, p=[0.9, 0.08, 0.02])
    pred = np.where(rng.random(shape) < 0.85, target, rng.integers(0, k, shape, dtype=np.uint8))
    mask = rng.random(shape) < 0.9
    t_floor, _ = timed(lambda: (target.sum(), pred.sum(), mask.sum()), repeat)
    words = [a.reshape(-1).view(np.uint64) for a in (target, pred, mask)]  # 256^3 bytes: a multiple of 8
    t_read, _ = timed(lambda: [w.sum() for w in words], repeat)
    t_ours, ours = timed(lambda: scores_from_counts(confusion_counts(pred, target, k, mask)), repeat)
    t_monai, ref = timed(lambda: monai_scores(pred, target, mask, k), 1)
    diff = max(float(np.nanmax(np.abs(ours[m] - ref[m]))) for m in CONFUSION_METRICS)
    same_nan = all(np.array_equal(np.isnan(ours[m]), np.isnan(ref[m])) for m in CONFUSION_METRICS)
    print("## Confusion metrics: 256^3 volume, 3 classes (uint8 labels), bool mask (90% scored)")
    print(f"metrics: {', '.join(CONFUSION_METRICS)}, per class")
    print("| what | seconds | ratio |")
    print("|---|---|---|")
    print(f"| floor: one pass summing target, pred, mask (ndarray.sum) | {t_floor:.4f} | 1.0 |")
    print(f"| raw read: one pass summing their bytes as uint64 words | {t_read:.4f} | {t_read / t_floor:.2f}x floor |")
    print(
        f"| segrepro confusion_counts + scores_from_counts | {t_ours:.4f} | {t_ours / t_floor:.2f}x floor, "
        f"{t_ours / t_read:.1f}x raw read |"
    )
    print(
        f"| MONAI ConfusionMatrixMetric (one-hot of scored voxels) | {t_monai:.3f} | {t_monai / t_ours:.1f}x segrepro |"
    )
    print(f"max |segrepro - MONAI| over all metrics and classes: {diff:.2e} (MONAI computes in float32)")
    return diff <= 1e-6 and same_nan


def bench_auc(n):
    rng = np.random.default_rng(1)
    y = rng.random(n) < 0.1
    s = rng.beta(2, 5, n).astype(np.float32)
    s[y] = np.clip(s[y] + np.float32(0.25), 0, 1)
    t_exact, exact = timed(lambda: roc_auc(s, y))

    def hist():
        h = HistogramAUC(1)
        h.update_binary(0, s, y)
        return h.compute()

    t_hist, (auc, bound) = timed(hist)
    t_sk, sk = timed(lambda: roc_auc_score(y, s))
    print(f"\n## ROC AUC on {n:.0e} float32 scores (10% positives)")
    print("| what | seconds | AUC | vs scikit-learn |")
    print("|---|---|---|---|")
    print(f"| scikit-learn roc_auc_score | {t_sk:.2f} | {sk:.9f} | 1.0 |")
    print(
        f"| segrepro roc_auc (exact) | {t_exact:.2f} | {exact:.9f} | {t_sk / t_exact:.1f}x faster, "
        f"dAUC {abs(exact - sk):.1e} |"
    )
    print(
        f"| segrepro HistogramAUC | {t_hist:.2f} | {auc[0]:.9f} | {t_sk / t_hist:.1f}x faster, "
        f"dAUC {abs(auc[0] - sk):.1e} (bound {bound[0]:.1e}) |"
    )
    return abs(exact - sk) <= 1e-6 and abs(auc[0] - sk) <= bound[0] + 1e-9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-auc", type=int, default=10**8)
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the fast timings")
    args = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}  (commit {commit or 'unknown'})")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}"
    )
    ok = bench_confusion(args.repeat)
    ok = bench_auc(args.n_auc) and ok
    print(f"\npeak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB")
    if not ok:
        sys.exit("values differ beyond tolerance: see above")
    print("values checked: segrepro = MONAI to 1e-6; exact AUC = scikit-learn to 1e-6; histogram AUC within its bound")


if __name__ == "__main__":
    main()
