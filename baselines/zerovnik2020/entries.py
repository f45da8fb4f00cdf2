"""Paper 004's table 1 as one entry family: each row is a set of mechanisms (``Mechanisms``), registered as
``zerovnik2020-<row>``, plus the two binary "any compartment" upper branches the TRAN rows start from.

Mechanisms **[paper]**: the network (U-Net, V-Net, DeepMedic, HighRes3DNet); ZM (HighRes3DZMNet's zero-mean
first-layer kernels, re-imposed after every optimiser step); CON (extended AGCWD, ``agcwd.py``); SM (the loss
honours the dataset's validity mask, i.e. paper 004's segmentation masks; metrics honour it on every row: the
rows without SM run on the ``-nosm`` dataset variants, which have none);
binary classifiers (one sigmoid network per class) and their merged output; TRAN (``warm_start``: the binary
any-compartment model's weights but the last layer initialise the multi-class model). Every row uses the Dice
loss (eq. 8), L2 1e-4, He initialisation, balanced windows 0.2 / 0.4 / 0.4 (eq. 6) and flips on all axes,
elastic deformation and ±10 % scaling.

Classes: dataset class 1 plays mitochondria and class 2 endolysosomes (UroCell's order); on datasets with
more classes the multi-class rows train on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from segrepro.augment import Augment
from segrepro.baselines.registry import register_baseline
from segrepro.baselines.zerovnik2020.agcwd import ExtendedAGCWD
from segrepro.entry import BaselineEntry, Recipe
from segrepro.inference import Inference
from segrepro.lazy import Lazy
from segrepro.preprocess import ZScore
from segrepro.sampling import Sampling

PREFIX = "zerovnik2020"
CITATION = (
    "Žerovnik Mekuč M, Bohak C, Hudoklin S, Kim BH, Romih R, Kim MY, Marolt M. Automatic segmentation of "
    "mitochondria and endolysosomes in volumetric electron microscopy data. Computers in Biology and Medicine "
    "119 (2020) 103693, doi:10.1016/j.compbiomed.2020.103693"
)
Network = Literal["unet", "vnet", "deepmedic", "highres3dnet"]
NETWORKS: dict[str, str] = {  # the model name of each network (its builder: networks.BUILDERS)
    "unet": "3-D U-Net (MONAI UNet, no residual units), He init",
    "vnet": "V-Net (MONAI VNet), He init",
    "deepmedic": "DeepMedic, compact dual pathway (layer sizes a reconstruction), He init",
    "highres3dnet": "HighRes3DNet (MONAI HighResNet, PReLU), He init",
}
NETWORK_NAMES = {"unet": "U-Net", "vnet": "V-Net", "deepmedic": "DeepMedic", "highres3dnet": "HighRes3DNet"}
PAPER_WINDOW = {
    "unet": (112, 112, 112),
    "vnet": (64, 128, 128),
    "deepmedic": (64, 64, 64),
    "highres3dnet": (96, 96, 96),
}
SMOKE_KWARGS: dict[str, dict] = {
    "unet": {"channels": (4, 8, 16, 32)},
    "vnet": {},
    "deepmedic": {"widths": (4,) * 8, "fc": 8},
    "highres3dnet": {"features": (4, 4, 4, 8, 8)},
}
WEIGHT_DECAY = {"weight_decay": 1e-4}  # L2 1e-4 (paper 3.1), as Adam's coupled weight decay


def recipes(network: str) -> dict[str, Recipe]:
    """Smoke (CI), quick (CPU-sized) and paper (GPU, bf16) tiers; windows per network."""
    smoke_patch = (32, 32, 32) if network == "vnet" else (16, 16, 16)  # V-Net: a 2-voxel bottleneck at least
    return {
        "smoke": Recipe(
            iterations=4,
            batch_size=1,
            lr=1e-3,
            patch_size={3: smoke_patch},
            val_every=4,
            optimizer_kwargs=WEIGHT_DECAY,
            model_kwargs=SMOKE_KWARGS[network],
            model_selection="last",  # no validation pass: predicting whole 3-D volumes was half a smoke run's time
            note="CI only: checks that the entry trains and predicts (last model, no validation).",
        ),
        "quick": Recipe(
            iterations=300,
            batch_size=2,
            lr=1e-3,
            patch_size={3: (16, 48, 48)},
            val_every=100,
            optimizer_kwargs=WEIGHT_DECAY,
            note="CPU-sized: 16x48x48 windows (fit drosophila-vnc-3d's 20 sections), 300 iterations.",
        ),
        "paper": Recipe(
            iterations=20000,
            batch_size=2,
            lr=1e-3,
            patch_size={3: PAPER_WINDOW[network]},
            val_every=1000,
            optimizer_kwargs=WEIGHT_DECAY,
            note=(
                "Windows 'as large as GPU memory allows' (paper 3.1, 12 GB Titan V); sizes, optimiser (Adam), lr, "
                "batch and iterations are not given in the paper and are reconstructions (HighRes3DNet's 96^3 from "
                "Li et al. 2017). bf16 autocast on CUDA."
            ),
        ),
    }


@dataclass(frozen=True)
class Mechanisms:
    """One row of table 1. ``heads``: binary classifiers, one per (sigmoid output channel, dataset classes it
    detects); empty for the multi-class softmax model. ``transfer_from``: the row's TRAN source entry."""

    network: Network = "highres3dnet"
    zero_mean: bool = False
    contrast: bool = False
    masks: bool = False
    heads: tuple[tuple[int, tuple[int, ...]], ...] = ()
    transfer_from: str | None = None

    def labels(self) -> list[str]:
        """The row's mechanisms in words, for the entry's description."""
        names = ["HighRes3DZMNet" if self.zero_mean else NETWORK_NAMES[self.network]]
        names += [n for flag, n in ((self.contrast, "CON"), (self.masks, "SM")) if flag]
        if self.heads:
            names.append("binary classifier(s) for classes " + ", ".join(str(c) for _, cs in self.heads for c in cs))
        if self.transfer_from:
            names.append(f"TRAN from {self.transfer_from}")
        return names


def _model(mech: Mechanisms) -> Lazy:
    """The row's network, named lazily (listing entries imports no torch)."""
    return Lazy(
        "segrepro.baselines.zerovnik2020.networks:paper_network",
        network=mech.network,
        zero_mean=mech.zero_mean,
        heads=tuple(c for c, _ in mech.heads) if mech.heads else None,
    )


RECONSTRUCTIONS = (
    "optimiser (Adam), learning rate, batch size, iterations and windows per network: not given in the paper",
    "Dice loss sums over the whole batch; L2 1e-4 as Adam's weight decay",
    "eq. 6 sampling: a window centred on a voxel of the drawn class (background: a uniform window), on every row",
    "augmentation parameters (elastic sigma/magnitude, flip probability 0.5) are segrepro's defaults",
    "AGCWD: alpha 0.5, 256 levels, eq. 5 as a linear stretch between mean ± 3.5 std, then z-score",
    "every row honours the validity mask (segrepro's invariant): the SM ablation is a dataset option, the same "
    "volumes with the paper's segmentation masks (urocell, synthetic-3d-sm, drosophila-vnc-3d) or without "
    "(urocell-nosm, synthetic-3d-nosm, drosophila-vnc-3d-nosm); without them the metrics count every voxel too, "
    "whereas the paper scores every row with its masks",
    "merged binary output: the more probable class above 0.5, else background",
    "DeepMedic: layer sizes from Kamnitsas et al. 2017, same-padded convolutions, 3x average-pooled context",
    "the any-compartment model (TRAN source) is scored as class 1 when run on its own",
)


def make_entry(row: str, title: str, mech: Mechanisms) -> BaselineEntry:
    """The entry of one table-1 row (``row`` is the id suffix, ``title`` the paper's method name)."""
    positives = {c: cs for c, cs in mech.heads}
    return BaselineEntry(
        id=f"{PREFIX}-{row}",
        title=f"{title} (paper 004)",
        paper="004",
        citation=CITATION,
        model=_model(mech),
        loss=(
            Lazy("segrepro.baselines.zerovnik2020.losses:BinaryDice", positives)
            if mech.heads
            else Lazy("segrepro.baselines.zerovnik2020.losses:PaperDice")
        ),
        recipes=recipes(mech.network),
        output="sigmoid" if mech.heads else "softmax",
        spatial_dims=(3,),
        convention="zerovnik2020",
        model_name=NETWORKS[mech.network]
        + (", zero-mean first-layer kernels (HighRes3DZMNet)" if mech.zero_mean else ""),
        loss_name="Dice loss, eq. 8, masked by the validity mask"
        + (
            " (the paper's segmentation masks: run it on urocell, synthetic-3d-sm or drosophila-vnc-3d)"
            if mech.masks
            else ""
        ),
        description=f"Paper 004 table 1, '{title}'. Mechanisms: {'; '.join(mech.labels())}.",
        reconstructions=RECONSTRUCTIONS,
        preprocess=ExtendedAGCWD() if mech.contrast else ZScore(),
        sampling=Sampling(
            class_probabilities=(0.2, 0.4, 0.4),
            augment=(Augment("flip"), Augment("elastic"), Augment("scale", params={"amount": 0.1})),
            pad_small=False,
        ),
        inference=Inference(sw_batch_size=1),  # one 3-D window at a time: 256^3 prediction fits in CPU memory
        after_step=Lazy("segrepro.baselines.zerovnik2020.networks:zero_mean_kernels") if mech.zero_mean else None,
        warm_start=mech.transfer_from,
    )


ANY = ((0, (1, 2)),)  # the upper branch: one binary network, any compartment vs background
ROWS: tuple[tuple[str, str, Mechanisms], ...] = (
    ("unet", "U-Net", Mechanisms("unet")),
    ("vnet", "V-Net", Mechanisms("vnet")),
    ("deepmedic", "DeepMedic", Mechanisms("deepmedic")),
    ("highres3dnet", "HighRes3DNet", Mechanisms()),
    ("highres3dnet-binary-m", "HighRes3DNet - binary classifier for M", Mechanisms(heads=((0, (1,)),))),
    ("highres3dnet-binary-el", "HighRes3DNet - binary classifier for EL", Mechanisms(heads=((1, (2,)),))),
    (
        "highres3dnet-merged",
        "HighRes3DNet merged output of binary classifiers",
        Mechanisms(heads=((0, (1,)), (1, (2,)))),
    ),
    ("highres3dnet-any", "HighRes3DNet - binary classifier for any compartment (TRAN source)", Mechanisms(heads=ANY)),
    (
        "highres3dnet-tran",
        "HighRes3DNet with transfer learning (TRAN)",
        Mechanisms(transfer_from=f"{PREFIX}-highres3dnet-any"),
    ),
    ("highres3dnet-con", "HighRes3DNet with contrast enhancement (CON)", Mechanisms(contrast=True)),
    ("highres3dzmnet", "HighRes3DZMNet", Mechanisms(zero_mean=True)),
    ("highres3dzmnet-con", "HighRes3DZMNet with CON", Mechanisms(zero_mean=True, contrast=True)),
    (
        "highres3dzmnet-con-sm",
        "HighRes3DZMNet with CON and segmentation masks",
        Mechanisms(zero_mean=True, contrast=True, masks=True),
    ),
    (
        "pipeline-any",
        "Proposed pipeline, upper branch (binary, any compartment)",
        Mechanisms(zero_mean=True, contrast=True, masks=True, heads=ANY),
    ),
    (
        "pipeline",
        "Proposed pipeline",
        Mechanisms(zero_mean=True, contrast=True, masks=True, transfer_from=f"{PREFIX}-pipeline-any"),
    ),
)

for _row, _title, _mech in ROWS:
    _entry = make_entry(_row, _title, _mech)
    register_baseline(_entry.id)(lambda entry=_entry: entry)
