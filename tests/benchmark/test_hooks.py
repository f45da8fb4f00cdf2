"""The entry hooks reach the protocol: an entry with two input channels, merged training classes, augmented
uniform patches, centre-tile inference and its own post-processing trains and is scored in the dataset's
classes."""

import dataclasses

import numpy as np
import torch

from segrepro.augment import Augment
from segrepro.baselines import BASELINES, get_baseline
from segrepro.inference import Inference
from segrepro.postprocess import Prediction
from segrepro.protocol import RunSpec, execute
from segrepro.sampling import Sampling

CALLS: dict[str, int] = {"preprocess": 0, "target": 0, "postprocess": 0}


@dataclasses.dataclass(frozen=True)
class IntensityAndSquare:
    channels: int = 2

    def __call__(self, image: np.ndarray) -> np.ndarray:
        CALLS["preprocess"] += 1
        z = (image - image.mean()) / image.std()
        return np.stack([z, z**2]).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class AnyForeground:
    def classes(self, dataset_classes):
        return ["background", "foreground"]

    def __call__(self, label, instances=None):
        CALLS["target"] += 1
        return (np.asarray(label) > 0).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class ForegroundAsClassOne:
    def __call__(self, probs: torch.Tensor, decided: torch.Tensor) -> list[Prediction]:
        CALLS["postprocess"] += 1
        assert probs.shape[1] == 2  # the training classes
        out = []
        for p, d in zip(probs.numpy(), decided.numpy(), strict=True):
            scores = np.stack([p[0], p[1], np.zeros_like(p[0]), np.zeros_like(p[0])])  # the dataset's 4 classes
            out.append(Prediction(d.astype(np.int64), scores))
        return out


def test_every_hook_is_used_by_a_run(prepared_2d, monkeypatch):
    base = get_baseline("unet-ce")
    entry = dataclasses.replace(
        base,
        id="test-hooks",
        preprocess=IntensityAndSquare(),
        target_transform=AnyForeground(),
        sampling=Sampling(fg_fraction=0.0, augment=(Augment("flip"), Augment("rot90"))),
        inference=Inference(centre_tile=True),
        postprocess=ForegroundAsClassOne(),
    )
    BASELINES.names()  # load the registry, then add the test entry for this test only
    monkeypatch.setitem(BASELINES._items, entry.id, entry)
    record = execute(RunSpec("synthetic-2d", "test-hooks"), progress=False).record
    assert record["status"] == "ok", record.get("reason")
    assert all(CALLS.values()), CALLS
    model = entry.build_model(record["dataset"]["classes"], 2, "smoke")
    first_conv = next(p for p in model.parameters() if p.ndim == 4)
    assert first_conv.shape[1] == 2  # input channels come from the preprocess hook
    default = base.build_model(record["dataset"]["classes"], 2, "smoke")
    assert record["n_parameters"] == sum(p.numel() for p in model.parameters())
    assert record["n_parameters"] != sum(p.numel() for p in default.parameters())
    per_class = record["metrics"]["canonical"]["per_class"]
    assert set(per_class) == set(record["dataset"]["classes"])  # scored in the dataset's four classes
    counts = np.asarray(next(iter(record["metrics"]["counts_per_image"].values())))
    assert counts[2:, 0].sum() == 0  # classes 2 and 3 are never predicted: the model only knows "foreground"
