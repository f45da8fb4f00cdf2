"""Cost of paper 003's ilastik-style forest features (not collected by pytest; run by hand).

    OMP_NUM_THREADS=1 .venv/bin/python tests/perf/bench_meyer2021_forest.py [--size 256] [--chunk 32]

The filter bank (61 features in 3-D) of a size³ float32 volume (smoothed noise), computed slab by slab with
``feature_chunks`` and consumed as the forest's prediction consumes it (each slab dropped after use). Prints the
wall time and the process's peak resident memory (``ru_maxrss``), against the target: within 4 GB at 256³
(the whole stack would be 61 x 64 MiB = 3.8 GiB on its own).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time

import numpy as np

from segrepro.baselines.meyer2021.features import feature_chunks, feature_names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--chunk", type=int, default=32)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    threads = os.environ.get("OMP_NUM_THREADS")
    print(f"commit {commit}, load average {os.getloadavg()[0]:.1f}, OMP_NUM_THREADS {threads}")
    from scipy import ndimage

    rng = np.random.default_rng(0)
    volume = ndimage.gaussian_filter(rng.random((args.size,) * 3, dtype=np.float32), 2)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    t0 = time.perf_counter()
    planes, checksum = 0, 0.0
    for slab, f in feature_chunks(volume, args.chunk):
        planes += slab.stop - slab.start
        checksum += float(f[:, 0, 0, 0].sum())  # touch the slab, as a consumer would
        del f
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{len(feature_names(3))} features of a {args.size}^3 volume in slabs of {args.chunk}: {planes} planes")
    print(f"time {seconds:.1f} s; peak RSS {peak:.2f} GiB (volume and imports before: {base:.2f} GiB)")
    print(f"target peak <= 4 GB: {'met' if peak * 2**30 <= 4e9 else 'MISSED'}")


if __name__ == "__main__":
    main()
