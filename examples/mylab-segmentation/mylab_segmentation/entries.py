"""The entry segrepro finds through the ``segrepro.baselines`` entry point. It names its model and loss
with ``Lazy`` so that ``segrepro baselines list`` does not import torch or MONAI."""

from segrepro.baselines import BaselineEntry, Recipe, register_baseline
from segrepro.lazy import Lazy

FEATURES = {"features": (8, 8, 16, 32, 64, 8)}
SMOKE = Recipe(iterations=20, batch_size=4, lr=3e-3, patch_size={2: (64, 64)}, val_every=10, model_kwargs=FEATURES)
QUICK = Recipe(iterations=600, batch_size=8, lr=1e-3, patch_size={2: (128, 128)}, val_every=100, model_kwargs=FEATURES)


@register_baseline("mylab-basicunet-dice")
def entry() -> BaselineEntry:
    return BaselineEntry(
        id="mylab-basicunet-dice",
        title="BasicUNet + masked Dice (example)",
        paper="mylab-2026",
        citation="Example method shipped with segrepro (examples/mylab-segmentation)",
        model=Lazy("mylab_segmentation.nets:basic_unet"),
        loss=Lazy("mylab_segmentation.nets:DiceLoss"),
        recipes={"smoke": SMOKE, "quick": QUICK},
        spatial_dims=(2,),
        model_name="MONAI BasicUNet",
        loss_name="MONAI MaskedDiceLoss (softmax, background included)",
        description="A small example of an outside method: MONAI's network and loss, registered by entry point.",
    )
