"""The inference hook: sliding-window settings as data, paper 003's centre-tile strategy, and
probabilities made in place slab by slab with class ids decided per slab equal to the whole-volume
computation (up to float32 rounding), for softmax and sigmoid entries, in 2-D and 3-D."""

import dataclasses

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from segrepro import inference
from segrepro.baselines import get_baseline
from segrepro.inference import Inference, centre_tiles, predict_volume, sliding_window_logits


@pytest.mark.parametrize("baseline", ["unet-dicece", "yudistira2020-dl"])
@pytest.mark.parametrize("shape", [(40, 36), (12, 20, 24)])
def test_slabs_equal_the_whole_volume(monkeypatch, baseline, shape):
    entry = get_baseline(baseline)
    if len(shape) not in entry.spatial_dims:
        pytest.skip(f"{baseline} is {entry.spatial_dims}-D only")
    torch.manual_seed(0)
    model = entry.build_model(["bg", "a", "b", "c"], len(shape), "smoke").eval()
    image = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    roi = tuple(min(16, s) for s in shape)
    with torch.no_grad():
        logits = sliding_window_inference(torch.from_numpy(image)[None, None], roi, 4, model, 0.25, "gaussian")
        whole = entry.probabilities(logits)
        decided = entry.decide(whole)[0].numpy()
    monkeypatch.setattr(inference, "SLAB_VOXELS", 1)  # one row (2-D) or plane (3-D) per slab
    prediction = predict_volume(model, entry, image[None], roi, torch.device("cpu"))
    probs, pred = prediction.scores, prediction.classes
    assert probs.shape == (4, *shape) and probs.dtype == np.float32 and pred.dtype == np.uint8
    np.testing.assert_allclose(probs, whole[0].numpy(), rtol=1e-6, atol=1e-7)  # SIMD lanes: 1 ulp
    np.testing.assert_array_equal(pred, decided)


def test_centre_tiles_cover_the_volume_once_with_the_central_thirds():
    margin, tile, starts = centre_tiles((256, 12), (1024, 40))
    assert margin == [85, 4] and tile == [86, 4]
    assert starts == [[86 * i for i in range(12)], [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]]  # ceil(1024 / 86) = 12


def zero_padded_conv() -> torch.nn.Module:
    """A 5x5 box filter with zero padding: inside a window it is exact, at a window's edge it sees zeros."""
    conv = torch.nn.Conv2d(1, 1, 5, padding=2, bias=False)
    torch.nn.init.constant_(conv.weight, 1 / 25)
    return conv.eval()


@torch.no_grad()
def test_centre_tile_takes_every_voxel_from_a_window_centre():
    x = torch.rand(1, 1, 40, 52, generator=torch.Generator().manual_seed(0))
    roi = (12, 12)
    model = zero_padded_conv()
    pad = (4, 4, 4, 4)
    # Hand-computed reference: the box filter of the reflect-padded image, where every voxel has its whole
    # 5x5 neighbourhood (a window's central third keeps 4 voxels of context to each side).
    reference = model(torch.nn.functional.pad(x, pad, mode="reflect"))[..., 4:-4, 4:-4]
    centre = sliding_window_logits(model, x, roi, Inference(centre_tile=True), torch.device("cpu"))
    blended = sliding_window_logits(model, x, roi, Inference(overlap=0.25), torch.device("cpu"))
    assert centre.shape == x.shape
    torch.testing.assert_close(centre, reference, rtol=0, atol=1e-6)  # no other window leaks in
    assert (blended - reference).abs().max().item() > 1e-2  # default blending keeps window-edge artefacts


class CountingIdentity(torch.nn.Module):
    """Returns its input (one channel per input channel) and counts the windows it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.windows = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.windows += x.shape[0]
        return x * 1.0


@torch.no_grad()
@pytest.mark.parametrize(
    ("shape", "roi", "windows"),
    [((40, 52), (12, 12), 10 * 13), ((7, 10, 9), (6, 6, 6), 4 * 5 * 5), ((5, 8), (5, 8), 2 * 2)],
)
def test_centre_tile_runs_only_the_windows_whose_centres_are_needed(shape, roi, windows):
    x = torch.rand(1, 2, *shape, generator=torch.Generator().manual_seed(1))
    model = CountingIdentity()
    out = sliding_window_logits(model, x, roi, Inference(centre_tile=True, sw_batch_size=3), torch.device("cpu"))
    assert model.windows == windows  # ceil(side / central tile) per axis
    torch.testing.assert_close(out, x, rtol=0, atol=0)  # every voxel written, from the right place


@pytest.mark.parametrize("bad", [{"overlap": 1.0}, {"blend": "median"}, {"sw_batch_size": 0}])
def test_bad_inference_settings_are_refused(bad):
    with pytest.raises(ValueError):
        Inference(**bad)


def test_predict_volume_gives_probabilities_and_a_prediction():
    entry = dataclasses.replace(get_baseline("unet-ce"), inference=Inference(centre_tile=True, sw_batch_size=2))
    torch.manual_seed(0)
    model = entry.build_model(["bg", "a", "b"], 2, "smoke")
    image = np.random.default_rng(0).random((1, 50, 70), np.float32)
    prediction = predict_volume(model, entry, image, (32, 32), torch.device("cpu"))
    probs = prediction.scores
    assert probs.shape == (3, 50, 70)
    np.testing.assert_allclose(probs.sum(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(prediction.classes, probs.argmax(axis=0))
    assert prediction.instances is None
