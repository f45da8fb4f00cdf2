"""3-D prediction of one 256³ volume with HighRes3DNet on CPU (paper 004): voxels/s and peak memory.

Runs the engine's own ``predict_volume`` (MONAI sliding-window inference with the entry's settings) with the
``zerovnik2020-highres3dnet`` entry's paper-tier window, on a synthetic volume (the timing does not depend on
the content). Peak memory is the process's peak resident set size (target: under 6 GB).

    OMP_NUM_THREADS=2 .venv/bin/python tests/perf/bench_highres3d_predict.py [--size 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import torch

from segrepro.baselines import get_baseline
from segrepro.inference import predict_volume
from segrepro.training import place

ENTRY = "zerovnik2020-highres3dnet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="side of the cubic volume (default 256)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    entry = get_baseline(ENTRY)
    roi = entry.recipe("paper").patch_size[3]
    # placed as `segrepro predict` places it (Predictor: channels-last 3-D layout)
    model = place(
        entry.build_model(["background", "mitochondria", "endolysosomes"], 3, "paper"), torch.device("cpu"), 3
    )
    image = entry.preprocess(np.random.default_rng(0).normal(size=(args.size,) * 3).astype(np.float32))
    t0 = time.perf_counter()
    windows = []  # one line per window on stderr: a run stopped early still tells its rate

    def log_window(*_: object) -> None:
        windows.append(time.perf_counter() - t0)
        print(f"window {len(windows)} done at {windows[-1]:.1f} s", file=sys.stderr, flush=True)

    model.register_forward_hook(log_window)
    prediction = predict_volume(model, entry, image, roi, torch.device("cpu"))
    seconds = time.perf_counter() - t0
    voxels = args.size**3
    assert prediction.classes.shape == (args.size,) * 3
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: KiB
    print(f"entry {ENTRY}, volume {args.size}^3, window {roi}, inference {entry.inference.to_dict()}")
    print(f"torch {torch.__version__}, threads {args.threads}, python {sys.version.split()[0]}")
    print(f"time {seconds:.1f} s, {voxels / seconds:,.0f} voxels/s, peak RSS {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
