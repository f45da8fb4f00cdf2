"""Paper 001's eight table rows as baseline entries (Fujii et al. 2021, X-Net).

Each entry is one (architecture, loss) pair of tables 1 and 2. The ``paper`` tier is the paper's
recipe; ``quick`` and ``smoke`` are CPU-sized versions of it (narrower, shorter, smaller crops).
Layer sizes are reconstructions (see ``networks.py``); the loss details too (see ``losses.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from segrepro.baselines.registry import register_baseline
from segrepro.entry import BaselineEntry, Recipe
from segrepro.lazy import Lazy
from segrepro.sampling import Sampling

if TYPE_CHECKING:
    from segrepro.baselines.fujii2021.losses import Second

CITATION = (
    "Fujii H, Tanaka H, Ikeuchi M, Hotta K. X-Net with Different Loss Functions for Cell Image "
    "Segmentation. CVPR Workshops (CVMI) 2021."
)
# IoU per class and mean IoU over all five classes (membrane included: there is no background class),
# pooled over the test crops of a fold; see segrepro.metrics.conventions. The paper prints percent.
CONVENTION = "fujii2021"
EPOCH = 24  # 192 training crops / batch 8 = 24 iterations per epoch

RECIPES = {
    "smoke": Recipe(
        iterations=20,
        batch_size=2,
        lr=1e-3,
        patch_size={2: (64, 64)},
        val_every=10,
        model_kwargs={"base_channels": 4},
        note="CI only: checks that the entry trains.",
    ),
    "quick": Recipe(
        iterations=3000,
        batch_size=8,
        lr=1e-3,
        patch_size={2: (256, 256)},
        val_every=150,
        schedule="multistep",
        schedule_kwargs={"milestones": [2000], "gamma": 0.1},
        model_kwargs={"base_channels": 8},
        note=(
            "CPU-sized paper recipe (U-Net trains in about 27 min with 2 threads on a 2-core CPU, X-Net twice that): "
            "base_channels 8 instead of 64, whole 256x256 crops, batch 8, 3000 iterations (125 epochs of the 192 "
            "training crops) with the paper's 10x lr drop at two thirds of training, best model on validation "
            "every 150 iterations."
        ),
    ),
    "paper": Recipe(
        iterations=1500 * EPOCH,
        batch_size=8,
        lr=1e-3,
        patch_size={2: (256, 256)},
        val_every=10 * EPOCH,
        schedule="multistep",
        schedule_kwargs={"milestones": [1000 * EPOCH], "gamma": 0.1},
        model_kwargs={"base_channels": 64},
        note=(
            "Paper 001: Adam, lr 1e-3 then 1e-4 after epoch 1000, 1500 epochs of 24 iterations (192 crops, "
            "batch 8), whole 256x256 crops, best model on validation (checked every 10 epochs)."
        ),
    ),
}

# arch -> (title, its class in networks.py, model name)
ARCHS: dict[str, tuple[str, str, str]] = {
    "unet": ("U-Net", "UNet", "U-Net (max-pool/deconv), MONAI basic_unet blocks"),
    "double-unet": ("Double U-Net", "DoubleUNet", "Double U-Net: two U-Nets in series"),
    "ensemble-unet": ("Ensemble U-Net", "EnsembleUNet", "Ensemble U-Net: two U-Nets, softmax averaged"),
    "xnet": ("X-Net", "XNet", "X-Net: two encoders, two decoders, 1x1-conv fusion (output3)"),
}
RECONSTRUCTIONS = (
    "layer sizes: w-2w-4w-8w levels + 16w bottleneck, w = base_channels = 64 at the paper tier (the classic U-Net)",
    "batch norm + ReLU after each 3x3 conv",
    "X-Net decoder k takes its skip connections from encoder k",
    "Double U-Net: the second U-Net sees concat(image, softmax(output1)); both outputs are trained",
    "Ensemble U-Net: both U-Nets trained on the loss, prediction = mean of their softmax outputs",
    "SCE class weights: inverse class frequency among the training batch's scored voxels",
    "IoU/dice sums over all scored voxels of the batch per class, then mean over classes",
    "folds of drosophila-vnc: seeded shuffle of the 320 crops (see the dataset card)",
    "model selection by segrepro's validation score (mean Dice over classes 1..4) rather than mean IoU",
)


def make_entry(arch: str, second: Second, split: bool) -> BaselineEntry:
    """The entry for one table row: ``arch`` with SCE + ``second`` ("A+B") or SCE and ``second``."""
    title, network, model_name = ARCHS[arch]
    name = {"iou": "IoU", "dice": "Dice"}[second]
    loss_label = f"SCE and {name}" if split else f"SCE+{name}"
    entry_id = f"fujii2021-{arch}-sce-{'and-' if split else ''}{second}"
    how = (
        f"output1 on class-weighted SCE, output2 on {name} loss, output3 on their sum"
        if split
        else f"every output on class-weighted SCE + {name} loss"
    )
    return BaselineEntry(
        id=entry_id,
        title=f"{title} ({loss_label})",
        paper="001",
        citation=CITATION,
        model=Lazy(f"segrepro.baselines.fujii2021.networks:{network}"),
        loss=Lazy("segrepro.baselines.fujii2021.losses:FujiiLoss", second, split),
        recipes=RECIPES,
        spatial_dims=(2,),
        convention=CONVENTION,
        model_name=model_name,
        loss_name=f"{loss_label} (γ = 1e-5, masked): {how}",
        description=f"Paper 001 table row {title}({loss_label}); softmax output, argmax decision.",
        reconstructions=RECONSTRUCTIONS,
        sampling=Sampling(fg_fraction=0.0),  # the paper trains on uniformly drawn crops
    )


ROWS = (
    ("unet", "dice", False),
    ("unet", "iou", False),
    ("double-unet", "iou", False),
    ("ensemble-unet", "iou", False),
    ("xnet", "dice", False),
    ("xnet", "iou", False),
    ("xnet", "dice", True),
    ("xnet", "iou", True),
)

for _row in ROWS:
    _entry = make_entry(*_row)
    register_baseline(_entry.id)(lambda entry=_entry: entry)
