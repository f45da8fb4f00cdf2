"""Throughput of the patch pipeline (sampling + augmentation) with 0 and 2 DataLoader workers
(not collected by pytest; run by hand).

    OMP_NUM_THREADS=1 .venv/bin/python tests/perf/bench_patch_pipeline.py [--batches 40]

A 3-D pipeline as papers 003/004 use it: four 96x128x128 training volumes, batches of 2 patches of
48x64x64, 80 % centred on a foreground class, flips on every axis, elastic deformation and ±10 % scaling
(MONAI transforms). The batches drawn with 0 and 2 workers are compared for equality (the pipeline must
be deterministic whatever the worker count); the script exits non-zero if they differ.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time

import numpy as np

from segrepro.augment import Augment
from segrepro.sampling import PatchSampler, Sampling, batches, make_train_volume


def sampler() -> PatchSampler:
    rng = np.random.default_rng(0)
    vols = []
    for _ in range(4):
        label = (rng.random((96, 128, 128)) < 0.01).astype(np.int64) * rng.integers(1, 3, (96, 128, 128))
        vols.append(make_train_volume(rng.standard_normal((96, 128, 128), np.float32), label, np.ones(label.shape), 3))
    augment = (Augment("flip"), Augment("elastic", 0.5), Augment("scale", 0.5, {"amount": 0.1}))
    return PatchSampler(vols, (48, 64, 64), Sampling(fg_fraction=0.8, augment=augment), seed=0, batch_size=2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=40)
    args = ap.parse_args()
    s = sampler()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(
        f"commit {commit}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    drawn = {}
    print("| workers | batches | patches | seconds | patches/s |")
    print("|---|---|---|---|---|")
    for workers in (0, 2):
        t0 = time.perf_counter()
        drawn[workers] = list(batches(s, 1, args.batches + 1, workers))
        dt = time.perf_counter() - t0
        n = args.batches * s.batch_size
        print(f"| {workers} | {args.batches} | {n} | {dt:.2f} | {n / dt:.1f} |")
    same = all(np.array_equal(a, b) for x, y in zip(drawn[0], drawn[2], strict=True) for a, b in zip(x, y, strict=True))
    print(f"identical batches with 0 and 2 workers: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
