"""Paper 003's table-1 rows as registry entries: UNet, UNet+F, EUNet, EUNet+F and the Ilastik forest.

Meyer C, Mallouh V, Spehner D, Baudrier É, Schultz P, Naegel B. Automatic multi class organelle
segmentation for cellular FIB-SEM images. IEEE ISBI 2021.

Shared by all four **[paper]**: softmax + argmax, the weighted dice loss, Adam (lr 1e-3, ε 1e-7),
256x256 patches in batches of 4, 80 % of them centred on a voxel of a uniformly drawn foreground class
(the authors' code; the text says "containing at least one class"), rot90 and flips (no deformation:
shape matters), 100 epochs of 256 steps, prediction by sliding window with stride = patch / 3 keeping each
window's central tile, per-slice F1 averaged over slices (the ``meyer2021`` convention).
**[differences]** Model selection keeps the best validation dice (segrepro's protocol) where the paper keeps
the lowest validation loss after each epoch. The paper tier's "15 trainings, keep the best 10" is its
``seed_selection`` (seeds 0-14, ``segrepro.selection.keep_best``).
"""

from __future__ import annotations

from segrepro.augment import Augment
from segrepro.baselines.meyer2021.forest import IlastikForest
from segrepro.baselines.meyer2021.grain import GrainFilterChannels
from segrepro.baselines.registry import register_baseline
from segrepro.entry import BaselineEntry, Recipe
from segrepro.inference import Inference
from segrepro.lazy import Lazy
from segrepro.method import MethodRecipe
from segrepro.preprocess import ZScore
from segrepro.sampling import Sampling
from segrepro.selection import SeedSelection

CITATION = (
    "Meyer C, Mallouh V, Spehner D, Baudrier É, Schultz P, Naegel B. Automatic multi class organelle "
    "segmentation for cellular FIB-SEM images. IEEE 18th International Symposium on Biomedical Imaging "
    "(ISBI) 2021."
)
EPOCH = 256
ADAM = {"eps": 1e-7}


def recipes(arch: str) -> dict[str, Recipe]:
    """Per tier; the model size is what differs between the CPU tiers and the paper."""
    small = {"unet": {"base_channels": 4}, "eunet": {"backbone": "efficientnet-b0", "decoder_channels": (32,) * 5}}
    quick = {"unet": {"base_channels": 16}, "eunet": {"backbone": "efficientnet-b0"}}
    paper = {"unet": {"base_channels": 64}, "eunet": {"backbone": "efficientnet-b4"}}
    return {
        "smoke": Recipe(
            iterations=20,
            batch_size=2,
            lr=1e-3,
            patch_size={2: (64, 64)},
            val_every=10,
            optimizer_kwargs=ADAM,
            model_kwargs=small[arch],
            note="CI only: checks that the entry trains.",
        ),
        "quick": Recipe(
            iterations=1500,
            batch_size=4,
            lr=1e-3,
            patch_size={2: (128, 128)},
            val_every=250,
            optimizer_kwargs=ADAM,
            model_kwargs=quick[arch],
            note="CPU tier: a quarter of the channels (UNet) or the B0 backbone (EUNet), 128x128 patches, 1,500 steps.",
        ),
        "paper": Recipe(
            iterations=100 * EPOCH,
            batch_size=4,
            lr=1e-3,
            patch_size={2: (256, 256)},
            val_every=EPOCH,
            optimizer_kwargs=ADAM,
            model_kwargs=paper[arch],
            note="Paper 003: Adam lr 1e-3, ε 1e-7, 100 epochs x 256 batches of 4 256x256 patches, validated each epoch",
        ),
    }


PAPER_SEEDS = SeedSelection(seeds=tuple(range(15)), keep=10)
"""**[paper]** 15 trainings per network, the 10 with the highest sum of validation F1s reported (mean, std)."""

ARCHS = {
    "unet": (
        "UNet",
        Lazy("segrepro.baselines.meyer2021.networks:DropoutUNet"),
        "U-Net, depth 5, dropout 0.5 after the bottleneck (64 → 1024 channels at the paper tier)",
    ),
    "eunet": (
        "EUNet",
        Lazy("segrepro.baselines.meyer2021.networks:efficient_unet"),
        "EfficientUNet: MONAI FlexibleUNet, EfficientNet-B4 encoder from scratch",
    ),
}
RECONSTRUCTIONS = (
    "UNet: MONAI's blocks apply batch norm before ReLU (the paper's code: after)",
    "EUNet: MONAI FlexibleUNet decoder (5 levels, two convs each) instead of the paper's 4 levels of one conv + BN",
    "weighted dice class weights for datasets other than the paper's: 0.1 background, 1.0 foreground",
    "model selection by validation dice, not validation loss",
    "+F: the grain filter is computed once per whole slice (cached), where the authors' code (NeNISt, "
    "data/patch.py) filters each 256x256 patch after augmentation and each prediction window: shapes cut by "
    "a patch border differ",
)


def make_entry(arch: str, grain: bool) -> BaselineEntry:
    title, model, model_name = ARCHS[arch]
    suffix = "+F" if grain else ""
    return BaselineEntry(
        id=f"meyer2021-{arch}{'-f' if grain else ''}",
        title=f"{title}{suffix} (weighted dice)",
        paper="003",
        citation=CITATION,
        model=model,
        loss=Lazy("segrepro.baselines.meyer2021.losses:WeightedDiceLoss"),
        recipes=recipes(arch),
        spatial_dims=(2,),
        convention="meyer2021",
        model_name=model_name + (" + grain-filter channels (λ 650, 3200 px)" if grain else ""),
        loss_name="weighted dice, α = (0.1, 0.7, 1.0, 0.9) on the paper's classes (masked)",
        description=f"Paper 003 table 1 row {title}{suffix}.",
        reconstructions=RECONSTRUCTIONS,
        preprocess=GrainFilterChannels() if grain else ZScore(),
        sampling=Sampling(fg_fraction=0.8, augment=(Augment("rot90"), Augment("flip"))),
        inference=Inference(centre_tile=True),
        seed_selection={"paper": PAPER_SEEDS},
    )


for _arch in ARCHS:
    for _grain in (False, True):
        _entry = make_entry(_arch, _grain)
        register_baseline(_entry.id)(lambda entry=_entry: entry)


FOREST_RECIPES = {
    "smoke": MethodRecipe({"n_estimators": 10, "samples_per_class": 500}, "CI only: checks that the forest fits."),
    "quick": MethodRecipe(
        {"n_estimators": 100, "samples_per_class": 4000},
        "100 trees (ilastik's default) on up to 4,000 sampled training voxels per class.",
    ),
    "paper": MethodRecipe(
        {"n_estimators": 100, "samples_per_class": 20000},
        "100 trees (ilastik's default) on up to 20,000 sampled training voxels per class.",
    ),
}


@register_baseline("meyer2021-ilastik")
def ilastik_forest() -> BaselineEntry:
    """Table 1's "Ilastik" row: a random forest on ilastik's default filter bank (see ``forest.py``)."""
    return BaselineEntry(
        id="meyer2021-ilastik",
        title="Ilastik-style pixel classifier (random forest on the default filter bank)",
        paper="003",
        citation=CITATION,
        model=None,
        loss=None,
        recipes=FOREST_RECIPES,
        spatial_dims=(2, 3),
        convention="meyer2021",
        model_name="random forest (scikit-learn, 100 trees) on ilastik's default features at σ 0.3-10",
        loss_name="Gini impurity (random forest)",
        description="Paper 003 table 1 row Ilastik: the non-deep reference, for any 2-D or 3-D dataset.",
        reconstructions=(
            "the paper's ilastik features and brush strokes are unknown: every default filter at every default σ, "
            "trained on a class-balanced random sample of the fold's valid-mask training voxels",
            "scikit-learn's RandomForestClassifier in place of ilastik's VIGRA forest",
        ),
        method=IlastikForest(),
    )
