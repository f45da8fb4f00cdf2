"""What a quick-tier run of paper 004's networks costs in CPU time, per network and dataset: to plan the
reference runs and to judge the quick tier against issue 15's target (HighRes3DNet on drosophila-vnc-3d in
30 min or less on this machine).

Measures, with one torch thread and each entry's own model as ``fit`` places it (channels-last 3-D), the CPU
time of one training step (forward, Dice loss, backward, Adam step; the quick recipe's batch and window) and
of one sliding window of inference (batch 1, no grad), each the median of ``--repeats`` after one warm-up.
Then it projects a whole quick-tier run: ``iterations`` steps, plus one sliding-window pass over the
validation volumes at every validation and one over the test volumes, with the window counts MONAI's
``sliding_window_inference`` uses at the entry's overlap. CPU seconds of this process (``time.process_time``):
on a shared core the wall time is this divided by the process's share of the core. The projection leaves out
data loading, augmentation, scoring and writing, so a real run takes somewhat longer.

    OMP_NUM_THREADS=1 .venv/bin/python tests/perf/bench_zerovnik2020_quick_cost.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import torch

from segrepro.baselines import get_baseline
from segrepro.training import place

ENTRIES = ("zerovnik2020-unet", "zerovnik2020-vnet", "zerovnik2020-deepmedic", "zerovnik2020-highres3dnet")
# (name, volume shape, classes incl. background, validation volumes, test volumes) of fold 0
DATASETS = (
    ("synthetic-3d", (40, 48, 48), 4, 2, 2),
    ("drosophila-vnc-3d", (20, 256, 256), 6, 4, 4),
)


def windows(shape: tuple[int, ...], roi: tuple[int, ...], overlap: float) -> int:
    """Windows MONAI's sliding-window inference runs over ``shape`` (its scan interval: roi x (1 - overlap))."""
    n = 1
    for size, r in zip(shape, roi, strict=True):
        step = max(1, int(r * (1 - overlap)))
        n *= 1 if size <= r else math.ceil((size - r) / step) + 1
    return n


def cpu_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions per measurement (default 3)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load average {os.getloadavg()}")
    print("| entry | step (CPU s) | window (CPU s) | dataset | windows per volume | projected run (CPU min) |")
    print("|---|---:|---:|---|---:|---:|")
    for entry_id in ENTRIES:
        entry = get_baseline(entry_id)
        recipe = entry.recipe("quick")
        roi = tuple(recipe.patch_size[3])
        for name, shape, k, n_val, n_test in DATASETS:
            classes = [f"c{i}" for i in range(k)]
            model = place(entry.build_model(classes, 3, "quick"), torch.device("cpu"), 3)
            optimiser = torch.optim.Adam(model.parameters(), lr=recipe.lr, **recipe.optimizer_kwargs)
            loss = entry.loss()
            x = torch.randn(recipe.batch_size, 1, *roi)
            y = torch.randint(0, k, (recipe.batch_size, *roi))  # as the patch sampler gives them
            mask = torch.ones(y.shape)

            def step(model=model, optimiser=optimiser, loss=loss, x=x, y=y, mask=mask) -> None:
                model.train()
                optimiser.zero_grad()
                loss(model(x), y, mask).backward()
                optimiser.step()

            def window(model=model, roi=roi) -> None:
                model.eval()
                with torch.no_grad():
                    model(torch.randn(1, 1, *roi))

            t_step, t_window = cpu_seconds(step, args.repeats), cpu_seconds(window, args.repeats)
            n = windows(shape, roi, entry.inference.overlap)
            validations = recipe.iterations // recipe.val_every
            total = recipe.iterations * t_step + (validations * n_val + n_test) * n * t_window
            cells = (entry_id, f"{t_step:.2f}", f"{t_window:.2f}", name, n, f"{total / 60:.1f}")
            print("| " + " | ".join(map(str, cells)) + " |", flush=True)


if __name__ == "__main__":
    main()
