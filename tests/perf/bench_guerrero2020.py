"""Speed benchmark of paper 002's JC loss and MAP post-processing (not collected by pytest; run by hand).

    .venv/bin/python tests/perf/bench_guerrero2020.py [--repeat 5]

1. JC loss vs plain cross entropy (both masked, segrepro's own) on logits 8x4x256x256, forward + backward,
   best of ``--repeat``, the losses taking turns within each repeat (so a change of load hits all alike);
   target: JC at most 1.5x CE. ``JCLossBefore`` (the autograd implementation of commit 1fabc35, kept here
   only to time it side by side) runs beside it, and the script checks that both give the same value and
   gradient.
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
from collections.abc import Callable

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
    return best_in_turns(repeat, {"": fn})[""]


def best_in_turns(repeat: int, fns: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
    """``best_of`` for several functions, which take turns within each repeat."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - w0, time.process_time() - c0))
    return {name: (min(w for w, _ in t), min(c for _, c in t)) for name, t in times.items()}


class JCLossBefore(torch.nn.Module):
    """The JC loss as commit 1fabc35 computed it (autograd through log-softmax, exp and a scatter-add):
    timed beside ``JCLoss`` only."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(logits, dim=1)
        ce = -logp.gather(1, target.long().unsqueeze(1)).squeeze(1)
        ce = (ce * mask).sum() / mask.sum().clamp_min(1e-8)
        b, k = logp.shape[:2]
        bucket = target.reshape(b, 1, -1).long().masked_fill(mask.reshape(b, 1, -1) == 0, k)
        sums = torch.zeros(b, k, k + 1, dtype=logp.dtype)
        m = sums.scatter_add_(2, bucket.expand(b, k, -1), logp.reshape(b, k, -1).exp()).sum(0)[:, :k]
        n = torch.bincount(bucket.reshape(-1), minlength=k + 1)[:k].to(logp.dtype)
        rate = m / n.clamp_min(1)[None, :]
        pair = (n[:, None] > 0) & (n[None, :] > 0) & ~torch.eye(k, dtype=torch.bool)
        return ce + (-0.5 * torch.log(0.5 + 0.5 * (rate.diagonal()[:, None] - rate) + 1e-8))[pair].sum()


def loss_step(
    loss: torch.nn.Module, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward + backward; the value and the gradient."""
    x = logits.detach().requires_grad_(True)
    value = loss(x, target, mask)
    value.backward()
    return value.detach(), x.grad


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
    losses = {
        "masked cross entropy": MaskedCELoss(),
        "JC before (autograd, commit 1fabc35)": JCLossBefore(),
        "JC now (gradient written out)": JCLoss(),
    }
    (v0, g0), (v1, g1) = (loss_step(losses[name], logits, target, mask) for name in list(losses)[1:])
    same = torch.allclose(v0, v1, rtol=1e-6) and torch.allclose(g0, g1, rtol=1e-4, atol=1e-12)
    times = best_in_turns(args.repeat, {n: lambda f=f: loss_step(f, logits, target, mask) for n, f in losses.items()})
    ce = times["masked cross entropy"][1]
    print("## Loss, logits 8x4x256x256 (5% masked), forward + backward, one thread, best of", args.repeat, "in turns")
    print("| loss | wall s | CPU s | CPU ratio to CE |\n|---|---|---|---|")
    for name, (wall, cpu) in times.items():
        print(f"| {name} | {wall:.4f} | {cpu:.4f} | {cpu / ce:.2f}x |")
    diff, largest = (g0 - g1).abs().max().item(), g0.abs().max().item()
    verdict = "same" if same else "DIFFERENT"
    print(f"JC before vs now: value {v0.item():.7f} vs {v1.item():.7f}, largest gradient difference {diff:.1e}")
    print(f"(largest gradient {largest:.1e}): {verdict}")

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
    return 0 if recall >= 0.85 and same else 1


if __name__ == "__main__":
    sys.exit(main())
