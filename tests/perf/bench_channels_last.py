"""Training step time with the model in the default (contiguous) layout and in channels-last layout, side by
side in one run: the engine places every model channels-last (``segrepro.training.place``).

Paper 001's quick-tier U-Net and X-Net (base_channels 8, batch 8, 256x256, SCE+IoU loss) and a 3-D MONAI
BasicUNet (batch 2, 64^3); the inputs stay contiguous, as the patch sampler makes them. Prints a Markdown table.

    .venv/bin/python tests/perf/bench_channels_last.py [--threads 1] [--steps 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import torch
from monai.networks.nets import BasicUNet

from segrepro.baselines.fujii2021.networks import UNet, XNet
from segrepro.baselines.registry import get_baseline


def step_time(make: Callable[[], torch.nn.Module], layout: torch.memory_format | None, shape: tuple, loss, steps: int):
    torch.manual_seed(0)
    model = make()
    if layout is not None:
        model = model.to(memory_format=layout)
    x = torch.randn(*shape)
    y = torch.randint(0, 5, (shape[0], *shape[2:]))
    m = torch.ones(shape[0], *shape[2:])
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss(model(x), y, m).backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sce_iou = get_baseline("fujii2021-unet-sce-iou").loss()
    sce_and_iou = get_baseline("fujii2021-xnet-sce-and-iou").loss()

    def mean_loss(out, y, m):
        return out.mean()

    shape_2d, shape_3d = (8, 1, 256, 256), (2, 1, 64, 64, 64)
    cases = [
        ("U-Net 2-D (paper 001 quick)", lambda: UNet(1, 5, 2, base_channels=8), shape_2d, sce_iou, torch.channels_last),
        ("X-Net 2-D (paper 001 quick)", lambda: XNet(1, 5, 2, base_channels=8), shape_2d, sce_and_iou,
         torch.channels_last),
        ("BasicUNet 3-D", lambda: BasicUNet(3, 1, 3, features=(8, 8, 16, 32, 64, 8)), shape_3d, mean_loss,
         torch.channels_last_3d),
    ]  # fmt: skip
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps after 2 warm-up, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| model | contiguous s/step | channels-last s/step | speed-up |")
    print("|---|---:|---:|---:|")
    for name, make, shape, loss, layout in cases:
        plain = step_time(make, None, shape, loss, args.steps)
        fast = step_time(make, layout, shape, loss, args.steps)
        print(f"| {name} | {plain:.3f} | {fast:.3f} | {plain / fast:.2f}x |")


if __name__ == "__main__":
    main()
