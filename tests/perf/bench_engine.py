"""Engine overheads of issue 11 (not collected by pytest; see bench_engine.md for the command and output).

1. fit's training step vs a bare PyTorch loop (same model, batch, patch, loss, optimiser), interleaved
   rounds, one torch thread; validation excluded from both (val_every beyond the measured steps).
2. checkpointing at every validation of a quick-tier run, as a proxy: the measured cost of one
   ``save_checkpoint`` of the quick-tier state x the run's validations, over the run's training time
   (its iterations x the measured step time).
3. ``predict_volume`` of a 256^3 volume with unet-dicece's quick-tier model (4 classes): peak resident
   memory above the level before the call (model and input loaded), against the float32 probabilities.
   Run in a fresh subprocess so the peak is this call's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)

from segrepro.baselines import get_baseline  # noqa: E402
from segrepro.checkpoint import save_checkpoint  # noqa: E402
from segrepro.entry import Recipe  # noqa: E402
from segrepro.sampling import PatchSampler, make_train_volume  # noqa: E402
from segrepro.training import TrainState, make_optimizer, rng_states, seed_everything, train  # noqa: E402

K, DIMS, TIER = 4, 2, "quick"
CLASSES = [f"class {k}" for k in range(K)]


def volumes() -> list:
    rng = np.random.default_rng(0)
    return [
        make_train_volume(rng.standard_normal((256, 256), dtype=np.float32), rng.integers(0, K, (256, 256)),
                          np.ones((256, 256), np.float32), K)
        for _ in range(4)
    ]  # fmt: skip


def bare_steps(entry, recipe: Recipe, n: int) -> float:
    seed_everything(0)
    model = entry.build_model(CLASSES, DIMS, TIER)
    loss_fn, opt = entry.loss(), make_optimizer(model, recipe)
    sampler = PatchSampler(volumes(), tuple(recipe.patch_size[DIMS]), entry.sampling, 0, recipe.batch_size)
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        x, y, m = (torch.from_numpy(a) for a in sampler.batch(i))
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y, m)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def fit_steps(entry, recipe: Recipe, n: int) -> float:
    seed_everything(0)
    model = entry.build_model(CLASSES, DIMS, TIER)
    sampler = PatchSampler(volumes(), tuple(recipe.patch_size[DIMS]), entry.sampling, 0, recipe.batch_size)
    r = Recipe(**{**recipe.__dict__, "iterations": n, "val_every": n + 1})
    t0 = time.perf_counter()
    train(model, entry.loss(), sampler, r, lambda m: 0.0, torch.device("cpu"), r.iterations, progress=False)
    return time.perf_counter() - t0


def training_overhead(rounds: int = 9, steps: int = 10) -> float:
    """Per-step times of bare and fit, interleaved round by round; the overhead is the median of the
    rounds' paired ratios (robust to the shared machine's load swings) and the ratio of the best rounds."""
    entry = get_baseline("unet-dicece")
    recipe = entry.recipe(TIER)
    bare, fit = [], []
    for _ in range(rounds):  # interleaved
        bare.append(bare_steps(entry, recipe, steps) / steps)
        fit.append(fit_steps(entry, recipe, steps) / steps)
    ratios = sorted(f / b for b, f in zip(bare, fit, strict=True))
    print(
        f"training step ({TIER} unet-dicece 2-D, batch {recipe.batch_size}, patch {recipe.patch_size[DIMS]}), "
        f"{rounds} interleaved rounds of {steps} steps, ms per step:"
    )
    print(f"  bare {[round(t * 1e3, 1) for t in bare]}")
    print(f"  fit  {[round(t * 1e3, 1) for t in fit]}")
    print(
        f"  fit overhead: median of paired ratios {100 * (ratios[len(ratios) // 2] - 1):+.1f} %, "
        f"best round vs best round {100 * (min(fit) / min(bare) - 1):+.1f} % (target <= 10 %)"
    )
    return min(bare)


def checkpoint_overhead(step_s: float, repeat: int = 5) -> None:
    entry = get_baseline("unet-dicece")
    recipe = entry.recipe(TIER)
    model = entry.build_model(CLASSES, DIMS, TIER)
    opt = make_optimizer(model, recipe)
    model(torch.zeros(1, 1, 64, 64)).sum().backward()
    opt.step()
    state = TrainState(iteration=50, best_state=model.state_dict(), model=model.state_dict(),
                       optimizer=opt.state_dict(), rng=rng_states())  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.pt"
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            save_checkpoint(path, {"format": 1, "state": vars(state)})
            times.append(time.perf_counter() - t0)
        size = path.stat().st_size
    n_val = -(-recipe.iterations // recipe.val_every)
    save, run = min(times) * n_val, step_s * recipe.iterations
    print(
        f"checkpoint ({size / 2**20:.1f} MiB): {min(times) * 1e3:.1f} ms per save (best of {repeat}), "
        f"x {n_val} validations = {save:.2f} s over {recipe.iterations} steps x {step_s * 1e3:.1f} ms = {run:.1f} s "
        f"of training: {100 * save / run:.2f} % (target <= 3 %; training time only, so an upper bound)"
    )


PREDICT = """
import resource, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from segrepro.baselines import get_baseline
from segrepro.inference import predict_volume
entry = get_baseline("unet-dicece")
model = entry.build_model(["bg", "a", "b", "c"], 3, "quick")
image = np.random.default_rng(0).standard_normal((256, 256, 256), dtype=np.float32)
def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
before = rss_mib()
t0 = time.perf_counter()
prediction = predict_volume(model, entry, image[None], tuple(entry.recipe("quick").patch_size[3]), torch.device("cpu"))
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(before, peak, prediction.scores.nbytes / 2**20, prediction.classes.dtype, seconds)
"""


def predict_memory() -> None:
    out = subprocess.run([sys.executable, "-c", PREDICT], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout.split()  # fmt: skip
    before, peak, probs_mib, dtype, seconds = float(out[0]), float(out[1]), float(out[2]), out[3], float(out[4])
    print(
        f"predict 256^3, unet-dicece quick 3-D, 4 classes: {seconds:.1f} s; resident {before:.0f} MiB before "
        f"(model + input), peak {peak:.0f} MiB: +{peak - before:.0f} MiB = {(peak - before) / probs_mib:.2f}x the "
        f"{probs_mib:.0f} MiB float32 probabilities (target <= 2x); class ids {dtype}"
    )


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, load average {os.getloadavg()[0]:.1f}")
    step = training_overhead()
    checkpoint_overhead(step)
    predict_memory()
    print(f"load average at end {os.getloadavg()[0]:.1f}")
