"""segrepro's reference baselines: MONAI's residual U-Net with Dice + CE, and with plain CE.

Not from one of the five papers: they anchor every dataset's leaderboard with a standard,
well-understood method (Ronneberger et al. 2015; Kerfoot et al. 2018 residual units, as in MONAI).
"""

from __future__ import annotations

from segrepro.baselines.registry import register_baseline
from segrepro.entry import BaselineEntry, Recipe
from segrepro.lazy import Lazy

CITATION = (
    "Ronneberger O, Fischer P, Brox T. U-Net: Convolutional Networks for Biomedical Image Segmentation. "
    "MICCAI 2015. Residual units: Kerfoot E et al., STACOM 2018 (MONAI UNet)."
)

RECIPES = {
    "smoke": Recipe(
        iterations=30,
        batch_size=4,
        lr=3e-3,
        patch_size={2: (64, 64), 3: (32, 32, 32)},
        val_every=15,
        model_kwargs={"channels": (8, 16, 32)},
    ),
    "quick": Recipe(
        iterations=400,
        batch_size=8,
        lr=2e-3,
        patch_size={2: (96, 96), 3: (32, 48, 48)},
        val_every=50,
        model_kwargs={"channels": (16, 32, 64, 128)},
    ),
    "paper": Recipe(
        iterations=20000,
        batch_size=16,
        lr=1e-3,
        patch_size={2: (256, 256), 3: (96, 96, 96)},
        val_every=500,
        schedule="step",
        schedule_kwargs={"step_size": 5000, "gamma": 0.5},
        model_kwargs={"channels": (32, 64, 128, 256, 512)},
        note="No paper recipe: a standard GPU-sized configuration for the reference baseline.",
    ),
}


def _entry(entry_id: str, loss: str, loss_name: str) -> BaselineEntry:
    return BaselineEntry(
        id=entry_id,
        title=f"U-Net (MONAI) + {loss_name}",
        paper="segrepro",
        citation=CITATION,
        model=Lazy("segrepro.baselines.monai_unet:monai_unet"),
        loss=Lazy(f"segrepro.baselines.losses:{loss}"),
        recipes=RECIPES,
        model_name="monai.networks.nets.UNet (residual units)",
        loss_name=loss_name,
        description="Reference baseline built from MONAI parts; softmax output, argmax decision.",
    )


@register_baseline("unet-dicece")
def unet_dicece() -> BaselineEntry:
    return _entry("unet-dicece", "MaskedDiceCELoss", "Dice + cross entropy")


@register_baseline("unet-ce")
def unet_ce() -> BaselineEntry:
    return _entry("unet-ce", "MaskedCELoss", "cross entropy")
