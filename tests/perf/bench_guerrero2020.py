"""Speed benchmark of paper 002's JC loss and MAP post-processing (not collected by pytest; run by hand).

    .venv/bin/python tests/perf/bench_guerrero2020.py [--repeat 5]

1. JC loss vs plain cross entropy (both masked, segrepro's own) on logits 8x4x256x256, forward + backward,
   best of ``--repeat``; target: JC at most 1.5x CE.
2. MAP post-processing (``MAPInstances``) of one 1024x1024 image's 4-class probabilities made from a synthetic
   touching-cell image (cell radius 16; each voxel's target class at 0.7, the others 0.1), best of ``--repeat``;
   target: under 1 s. The script checks the MAP result too: it exits non-zero unless at least 85% of the true
   cells are found at IoU > 0.5 (the touching band swallows some small cells even from perfect probabilities).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch

from segrepro.baselines.guerrero2020.losses import JCLoss
from segrepro.baselines.guerrero2020.postprocess import MAPInstances
from segrepro.baselines.guerrero2020.targets import TouchingGapTarget
from segrepro.baselines.losses import MaskedCELoss
from segrepro.datasets.synthetic_cells import generate_cells
from segrepro.metrics.instances import match_instances


def best_of(repeat: int, fn) -> tuple[float, float]:
    """Best wall time and best CPU time of this process (one thread: the CPU time is steadier on a shared
    machine than the wall time)."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def loss_step(loss: torch.nn.Module, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
    x = logits.detach().requires_grad_(True)
    loss(x, target, mask).backward()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"command: python tests/perf/bench_guerrero2020.py --repeat {args.repeat}  (commit {commit})")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}"
    )
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 4, 256, 256, generator=g)
    target = torch.randint(0, 4, (8, 256, 256), generator=g)
    mask = (torch.rand(8, 256, 256, generator=g) > 0.05).float()
    ce = best_of(args.repeat, lambda: loss_step(MaskedCELoss(), logits, target, mask))
    jc = best_of(args.repeat, lambda: loss_step(JCLoss(), logits, target, mask))
    print("## Loss, logits 8x4x256x256 (5% masked), forward + backward, one thread, best of", args.repeat)
    print("| loss | wall s | CPU s | CPU ratio |\n|---|---|---|---|")
    print(f"| masked cross entropy | {ce[0]:.4f} | {ce[1]:.4f} | 1.0 |")
    print(f"| JC (CE + J statistic) | {jc[0]:.4f} | {jc[1]:.4f} | {jc[1] / ce[1]:.2f}x CE (target <= 1.5x) |")

    _, instances, label = generate_cells((1024, 1024), seed=0, radius=16)
    classes = TouchingGapTarget(n_classes=4)(label, instances)
    probs = np.full((4, 1024, 1024), 0.1, np.float32)
    np.put_along_axis(probs, classes[None], 0.7, axis=0)
    z = torch.as_tensor(probs[None])
    post = MAPInstances()
    t = best_of(args.repeat, lambda: post(z, z.argmax(1)))
    (pred,) = post(z, z.argmax(1))
    found = match_instances(instances, pred.instances)
    recall = found.tp / (found.tp + found.fn)
    print(f"## MAP post-processing, one 1024x1024 image ({instances.max()} cells), best of {args.repeat}")
    print(f"| MAPInstances | wall {t[0]:.3f} s | CPU {t[1]:.3f} s | target < 1 s |")
    pq = found.scores()["pq"]
    print(f"cells found at IoU > 0.5: {found.tp} of {found.tp + found.fn} ({recall:.1%}); PQ {pq:.3f}")
    return 0 if recall >= 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
