"""Cost of the prepared-data integrity check (not collected by pytest; run by hand).

    .venv/bin/python tests/perf/bench_verify.py [--volumes 320] [--shape 256 256]

Prepares a dataset the size of drosophila-vnc (320 crops of 256x256: float32 image, uint8 label
and mask, 126 MB) from random arrays, then times ``load_prepared`` (which runs
``PreparedDataset.verify``): the fast path (every file's size and mtime as in the stamp: one
``stat`` each) and the slow path (every mtime changed, so every file is hashed again and the stamp
rewritten). It also times
``prepare`` itself, whose single read of the written files yields both the data hash and the
per-file checksums. The script exits non-zero if a corrupted file is not caught.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from segrepro.datasets import ClassSpec, DatasetAdapter, DatasetCard, Fold, Volume, load_prepared
from segrepro.datasets.synthetic import rotating_folds
from segrepro.errors import UserError


class RandomCrops(DatasetAdapter):
    def __init__(self, n: int, shape: tuple[int, ...]) -> None:
        self.n, self.shape = n, shape
        classes = tuple(ClassSpec(str(k), (k,)) for k in range(5))
        self.card = DatasetCard("bench", "bench", "", len(shape), classes, "-", "-")

    def volumes(self, raw_dir: Path) -> Iterable[Volume]:
        rng = np.random.default_rng(0)
        for i in range(self.n):
            label = rng.integers(0, 5, self.shape, dtype=np.uint8)
            yield Volume(f"c{i}", rng.random(self.shape, dtype=np.float32), label, np.ones(self.shape, np.uint8))

    def folds(self, ids: list[str]) -> list[Fold]:
        return rotating_folds(ids, 5)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volumes", type=int, default=320)
    parser.add_argument("--shape", type=int, nargs="+", default=[256, 256])
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(
        f"commit {commit}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "prepared"
        t0 = time.perf_counter()
        RandomCrops(args.volumes, tuple(args.shape)).prepare(Path(tmp), out)
        prepare_s = time.perf_counter() - t0
        files = [p for p in out.rglob("*") if p.is_file()]
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        print(f"{args.volumes} volumes {tuple(args.shape)}, {len(files)} files, {size_mb:.0f} MB")
        print(f"prepare (writes and hashes everything once): {prepare_s:.2f} s")
        fast = timed(lambda: load_prepared("bench", out), 7)
        print(
            f"load_prepared, fast path (stat per file): median {statistics.median(fast) * 1e3:.1f} ms "
            f"(min {min(fast) * 1e3:.1f}, max {max(fast) * 1e3:.1f})"
        )

        def touch_all_then_load() -> None:
            for p in files:
                os.utime(p)
            load_prepared("bench", out)

        slow = timed(touch_all_then_load, 3)
        print(
            f"load_prepared, every mtime changed (hash every file): median {statistics.median(slow):.2f} s "
            f"({size_mb / statistics.median(slow):.0f} MB/s)"
        )
        victim = out / "images" / "c7.npy"
        data = bytearray(victim.read_bytes())
        data[-1] ^= 0xFF
        victim.write_bytes(bytes(data))
        try:
            load_prepared("bench", out)
        except UserError as exc:
            print(f"a flipped byte: {str(exc).replace(str(out), '<prepared>')}")
        else:
            print("FAIL: a flipped byte was not caught")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
