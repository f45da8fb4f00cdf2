"""Costs of paper 003's additions (not collected by pytest; run by hand).

    OMP_NUM_THREADS=1 .venv/bin/python tests/perf/bench_meyer2021.py [--slice PATH.tif]

1. Grain-filter channels (λ = 650 and 3200 px) of one 1024x1024 slice: a Drosophila VNC section when
   ``--slice`` names one (the real EM texture the tree of shapes is built on), else a smoothed random
   image. Target: under 2 s. Wall and CPU time (the CPU time is the comparable number on a shared machine).
2. Centre-tile sliding-window prediction of a 1024x1024 slice (stride = window / 3, 256x256 windows) vs
   MONAI's default sliding window (overlap 0.25, Gaussian blending) with the same model (paper 003's UNet
   at the quick tier's width, placed as the engine places it: channels-last) and the same ``sw_batch_size``,
   interleaved, best of 3 each by CPU time. Target: the centre tile at most 3.5x the default (it evaluates
   about 9x the windows of a non-overlapping tiling).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

import numpy as np
import torch

from segrepro.baselines.meyer2021.grain import grain_filter
from segrepro.baselines.meyer2021.networks import DropoutUNet
from segrepro.inference import Inference, sliding_window_logits
from segrepro.training import place


def test_image(path: str | None) -> np.ndarray:
    if path:
        import tifffile

        return tifffile.imread(path).astype(np.float32)
    from scipy import ndimage

    return ndimage.gaussian_filter(np.random.default_rng(0).random((1024, 1024)), 2).astype(np.float32)


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slice", help="a 1024x1024 TIFF slice (e.g. a Drosophila VNC section)")
    args = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}, load average {os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()}")
    image = test_image(args.slice)
    z = (image - image.mean()) / image.std()
    wall, cpu = time.perf_counter(), time.process_time()
    grain_filter(z, (650, 3200))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"grain-filter channels, {z.shape[0]}x{z.shape[1]} slice: {wall:.2f} s wall, {cpu:.2f} s CPU")

    cpu_device = torch.device("cpu")
    model = place(DropoutUNet(1, 4, 2, base_channels=16).eval(), cpu_device, 2)
    x = torch.from_numpy(z)[None, None]
    times: dict[str, list[tuple[float, float]]] = {"default": [], "centre tile": []}
    settings = {"default": Inference(), "centre tile": Inference(centre_tile=True)}
    for _ in range(3):
        for name, s in settings.items():
            wall, cpu = time.perf_counter(), time.process_time()
            sliding_window_logits(model, x, (256, 256), s, cpu_device)
            times[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    best = {k: min(v) for k, v in times.items()}
    for k, (cpu, wall) in best.items():
        print(f"{k}: {cpu:.2f} s CPU, {wall:.2f} s wall (best of 3 by CPU)")
    print(f"centre tile / default (CPU): {best['centre tile'][0] / best['default'][0]:.2f}x")


if __name__ == "__main__":
    main()
