"""Paper 002's table rows as baseline entries (Guerrero-Peña et al. 2020, J regularization).

Table 1 crosses four losses with two post-processings: JC over three (J3) or four (J4) classes with MAP,
and BWM, DSC and W3 (trained on the three classes background / cell / touching) with MAP or watershed (WT).
A loss's WT row shares the fit stage of its MAP row: one trained network, two post-processings.
Every entry uses the same U-Net (MONAI ``BasicUNet``: 2-D, or 3-D with the same topology), normal
initialisation, Adam at lr 1e-4 (1e-3 at the quick tier) and the paper's augmentations (rotation,
mirroring, gamma, warping) as MONAI transforms. They need instance labels (``synthetic-cells-2d``,
``drosophila-vnc-cells``, ``ctc``...).
"""

from __future__ import annotations

from collections.abc import Callable

from segrepro.augment import Augment
from segrepro.baselines.guerrero2020.postprocess import MAPInstances, WatershedInstances
from segrepro.baselines.guerrero2020.targets import TouchingGapTarget
from segrepro.baselines.registry import register_baseline
from segrepro.entry import BaselineEntry, Recipe
from segrepro.lazy import Lazy
from segrepro.postprocess import Postprocess
from segrepro.sampling import Sampling

CITATION = (
    "Guerrero-Peña FA, Marrero Fernandez PD, Tsang Ing Ren, Cunha A. J regularization improves imbalanced "
    "multiclass segmentation. IEEE ISBI 2020."
)
FEATURES = {"smoke": (4, 4, 8, 16, 32, 4), "quick": (16, 16, 32, 64, 128, 16), "paper": (32, 32, 64, 128, 256, 32)}

RECIPES = {
    "smoke": Recipe(
        iterations=10,
        batch_size=2,
        lr=1e-3,
        patch_size={2: (64, 64), 3: (16, 32, 32)},
        val_every=5,
        model_kwargs={"features": FEATURES["smoke"]},
        note="CI only: checks that the entry trains (lr 1e-3 so ten steps move the weights).",
    ),
    "quick": Recipe(
        iterations=1000,
        batch_size=8,
        lr=1e-3,
        patch_size={2: (128, 128), 3: (24, 64, 64)},
        val_every=100,
        model_kwargs={"features": FEATURES["quick"]},
        note=(
            "CPU-sized: half the paper's width, 128x128 patches, 1000 iterations at Adam lr 1e-3, ten times the "
            "paper's 1e-4: at 1e-4 the 1000 iterations left the U-Net undertrained (drosophila-vnc-cells fold 0, "
            "J4 + MAP: PQ 0.050 and final training loss 1.98 at 1e-4, PQ 0.091 and 1.67 at 1e-3; J3: PQ 0.018 "
            "and 0.064; the 1e-4 records are in commit 164946f)"
        ),
    ),
    "paper": Recipe(
        iterations=20000,
        batch_size=8,
        lr=1e-4,
        patch_size={2: (256, 256), 3: (48, 128, 128)},
        val_every=500,
        model_kwargs={"features": FEATURES["paper"]},
        note="Paper 002: Adam lr 1e-4; iterations, batch and patch size are not stated [reconstruction].",
    ),
}
AUGMENT = Sampling(
    augment=(
        Augment("rot90", prob=0.5),
        Augment("flip", prob=0.5),
        Augment("gamma", prob=0.5),
        Augment("elastic", prob=0.3),
    )
)
RECONSTRUCTIONS = (
    "U-Net: MONAI BasicUNet as the original U-Net (two 3x3 conv + ReLU per level, no normalisation, max-pool, "
    "transposed conv); widths per tier in the recipe",
    "normal initialisation: Kaiming-normal conv weights, zero biases",
    "rotation as random 90-degree rotations; 'touching contrast modulation' is not applied",
    "λ = 0.5 in the JC loss (the paper does not state it)",
    "BWM, DSC and W3 are trained on the three classes background / cell / touching",
    "W3 weight map: w = 1 + w_c + 10·exp(-(d1+d2)^2 / (2·5^2)), w_c the BWM class weight, d1/d2 the distances "
    "to the nearest two connected components of the cell class",
    "watershed: markers = components of z_cell > 0.8 with >= 10 voxels, flooded over z_bg + z_gap",
    "iterations, batch and patch size of the paper tier",
)


LOSSES: dict[str, tuple[str, Lazy, int]] = {
    "j3": ("J3", Lazy("segrepro.baselines.guerrero2020.losses:JCLoss"), 3),
    "j4": ("J4", Lazy("segrepro.baselines.guerrero2020.losses:JCLoss"), 4),
    "bwm": ("BWM", Lazy("segrepro.baselines.guerrero2020.losses:BWMLoss"), 3),
    "dsc": ("DSC", Lazy("segrepro.baselines.losses:MaskedDiceCELoss"), 3),
    "w3": ("W3", Lazy("segrepro.baselines.guerrero2020.losses:W3Loss"), 3),
}
POSTS: dict[str, tuple[str, Callable[[], Postprocess]]] = {
    "map": ("MAP", MAPInstances),
    "wt": ("WT", WatershedInstances),
}
LOSS_NAMES = {
    "j3": "JC loss over 3 classes: CE + J statistic (λ = 0.5)",
    "j4": "JC loss over 4 classes (with gap): CE + J statistic (λ = 0.5)",
    "bwm": "cross entropy with class-balance weights (BWM)",
    "dsc": "cross entropy + soft dice (DSC)",
    "w3": "cross entropy with the triplex weight map (W3, reconstruction)",
}


def make_entry(loss: str, post: str) -> BaselineEntry:
    """One table-1 row: ``loss`` (j3, j4, bwm, dsc, w3) with ``post`` (map, wt)."""
    loss_title, loss_cls, n_classes = LOSSES[loss]
    post_title, post_cls = POSTS[post]
    return BaselineEntry(
        id=f"guerrero2020-{loss}-{post}",
        title=f"U-Net ({loss_title}, {post_title})",
        paper="002",
        citation=CITATION,
        model=Lazy("segrepro.baselines.guerrero2020.networks:unet"),
        loss=loss_cls,
        recipes=RECIPES,
        model_name="U-Net (MONAI BasicUNet), 2-D or 3-D with the same topology",
        loss_name=LOSS_NAMES[loss],
        description=(
            f"Paper 002 row {loss_title} + {post_title}: trained on {n_classes} classes derived from instance "
            f"labels, instances by {post_title}; scored as background/cell and by PQ against instance labels."
        ),
        reconstructions=RECONSTRUCTIONS,
        target_transform=TouchingGapTarget(n_classes=n_classes),
        sampling=AUGMENT,
        postprocess=post_cls(),
        shares_fit_with=None if post == "map" else f"guerrero2020-{loss}-map",
    )


ROWS = (
    ("bwm", "map"),
    ("dsc", "map"),
    ("w3", "map"),
    ("bwm", "wt"),
    ("dsc", "wt"),
    ("w3", "wt"),
    ("j3", "map"),
    ("j4", "map"),
)

for _loss, _post in ROWS:
    _entry = make_entry(_loss, _post)
    register_baseline(_entry.id)(lambda entry=_entry: entry)
