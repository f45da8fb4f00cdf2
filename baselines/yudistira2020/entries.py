"""Paper 000's seven entries (Yudistira et al. 2020): table 1's balanced deep U-Net, one entry per loss.

Each entry has the same network (``network.py``), sigmoid multi-label outputs and the paper's decision
threshold; the losses are in ``losses.py``. See the package docstring for the tables and the
reconstructions.
"""

from __future__ import annotations

from segrepro.baselines.registry import register_baseline
from segrepro.entry import BaselineEntry, Recipe
from segrepro.lazy import Lazy

PAPER = "000"
CITATION = (
    "Yudistira N, Kavitha M, Itabashi T, Iwane AH, Kurita T. Prediction of Sequential Organelles Localization under "
    "Imbalance using A Balanced Deep U-Net. Scientific Reports 10, 2626 (2020). doi:10.1038/s41598-020-59285-9"
)
CONVENTION = "yudistira2020"
G3_TRAIN_IMAGES = 1507  # G-3 training images (the grouping of tables 4-6)

RECIPES = {
    "smoke": Recipe(
        iterations=20,
        batch_size=2,
        lr=1e-3,
        patch_size={2: (128, 128)},
        val_every=10,
        optimizer_kwargs={"betas": (0.5, 0.999), "eps": 1e-8},
        model_kwargs={"width": 16},
        note="CI check only: 1/16 width, 128x128 patches (the smallest side seven stride-2 convs allow).",
    ),
    "quick": Recipe(
        iterations=100,
        batch_size=4,
        lr=2e-3,
        patch_size={2: (128, 128)},
        val_every=25,
        optimizer_kwargs={"betas": (0.5, 0.999), "eps": 1e-8},
        schedule="step",
        schedule_kwargs={"step_size": 25, "gamma": 0.9},
        model_kwargs={"width": 16, "decoder_weight_decay": 1e-5},
        note=(
            "CPU tier (sized for the 35-run stress sweep): 1/16 width, every layer kept; the paper's Adam "
            "(beta1 0.5) and decoder-only weight decay, lr 2e-3 (20x the paper's, for 100 iterations) x0.9 every 25."
        ),
    ),
    "paper": Recipe(
        iterations=100 * G3_TRAIN_IMAGES // 4,
        batch_size=4,
        lr=1e-4,
        patch_size={2: (256, 256)},
        val_every=1000,
        optimizer_kwargs={"betas": (0.5, 0.999), "eps": 1e-8},
        schedule="step",
        schedule_kwargs={"step_size": 1000, "gamma": 0.9},
        model_kwargs={"width": 1, "decoder_weight_decay": 1e-5},
        note=(
            "Paper recipe: Adam lr 1e-4, betas (0.5, 0.999), eps 1e-8, weight decay 1e-5 on the decoder and head only "
            "(optimizer parameter groups), lr x0.9 every 1000 iterations, 256x256 inputs. Iterations = 100 epochs of "
            "G-3's 1507 training images at batch 4 (the batch size is not in the paper: reconstruction); G-1 is "
            "200 epochs of 5047 images (252,350 iterations), G-2 100 epochs of 3078 (76,950)."
        ),
    ),
}

TABLE1_TYPOS = (
    "table 1 prints 2,097,152 parameters for conv4 (4x4x512x256), omitting its 512 biases (2,097,664 with them)",
    "table 1 prints 4,194,432 for deconv5 (4x4x256x1024); weights + 256 biases are 4,194,560",
    "table 1's total 54,406,469 equals neither its column's sum (54,406,085) nor the architecture "
    "(54,406,725 conv/deconv weights and biases; 54,417,605 with BatchNorm affine parameters)",
)
NETWORK_NOTE = "Table 1 parameter-column typos (the model follows the layer shapes): " + "; ".join(TABLE1_TYPOS)
CDL_RECONSTRUCTION = (
    "CDL background term: the paper's 'outer joint' read as the dice loss of the complements DL(1-p, 1-g) "
    "(parameter `complement`)"
)
RWCDL_RECONSTRUCTION = (
    "RWCDL weights: w_k = (N_bk + 1) / (N_fk + 1) per image and class, rescaled to sum to K "
    "(parameter `normalise`; the paper's equation is not legible)"
)


def _entry(
    suffix: str, loss: str, loss_name: str, threshold: float, reconstructions: tuple[str, ...] = ()
) -> BaselineEntry:
    """The entry ``yudistira2020-<suffix>``: table 1's network trained on the class ``loss`` of ``losses.py``."""
    return BaselineEntry(
        id=f"yudistira2020-{suffix}",
        title=f"Balanced deep U-Net (table 1) + {loss_name}",
        paper=PAPER,
        citation=CITATION,
        model=Lazy("segrepro.baselines.yudistira2020.network:balanced_unet"),
        loss=Lazy(f"segrepro.baselines.yudistira2020.losses:{loss}"),
        recipes=RECIPES,
        output="sigmoid",
        threshold=threshold,
        spatial_dims=(2,),
        convention=CONVENTION,
        model_name="pix2pix-style U-Net of Yudistira et al. 2020 table 1 (54,406,725 conv/deconv parameters at 1->5)",
        loss_name=loss_name,
        description=(
            "Sigmoid multi-label outputs, one channel per foreground class; a pixel takes the most probable class "
            f"above {threshold}, else background. Inputs padded to a multiple of 128. {NETWORK_NOTE}."
        ),
        reconstructions=reconstructions,
    )


@register_baseline("yudistira2020-mse")
def mse() -> BaselineEntry:
    return _entry("mse", "MaskedMSELoss", "mean squared error (L_MSE)", 0.5)


@register_baseline("yudistira2020-dl")
def dl() -> BaselineEntry:
    return _entry("dl", "DiceLoss", "dice loss (L_D, m = 1)", 0.8)


@register_baseline("yudistira2020-cdl")
def cdl() -> BaselineEntry:
    return _entry("cdl", "CompoundDiceLoss", "compound dice loss (L_CD)", 0.8, (CDL_RECONSTRUCTION,))


@register_baseline("yudistira2020-rwcdl")
def rwcdl() -> BaselineEntry:
    return _entry(
        "rwcdl",
        "RegularizedWeightedCompoundDiceLoss",
        "regularized weighted compound dice loss (L_RWCD)",
        0.8,
        (CDL_RECONSTRUCTION, RWCDL_RECONSTRUCTION),
    )


@register_baseline("yudistira2020-gdl")
def gdl() -> BaselineEntry:
    return _entry("gdl", "MaskedGeneralizedDiceLoss", "generalized dice loss (Sudre 2017, MONAI)", 0.8)


@register_baseline("yudistira2020-dicebce")
def dicebce() -> BaselineEntry:
    return _entry(
        "dicebce",
        "DiceBCELoss",
        "dice + binary cross entropy",
        0.8,
        ("D + BCE: dice loss + mean BCE with equal weights (the paper gives no weighting)",),
    )


@register_baseline("yudistira2020-focaldice")
def focaldice() -> BaselineEntry:
    return _entry(
        "focaldice",
        "FocalDiceLoss",
        "focal dice (γ 2.0, α 0.2)",
        0.8,
        (
            "Focal dice: dice loss + α-balanced sigmoid focal loss (Lin 2017) with γ = 2.0, α = 0.2; the paper names "
            "only γ and α",
        ),
    )
