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
from segrepro.inference import Inference, centre_weights, predict_volume, sliding_window_logits


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


def test_centre_weights_are_one_in_the_central_third():
    w = centre_weights((6, 9))
    assert w.shape == (6, 9)
    assert (w[2:4, 3:6] == 1).all()
    inner = np.zeros_like(w, bool)
    inner[2:4, 3:6] = True
    assert np.allclose(w[~inner], 1e-3)


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
    centre_err = (centre - reference).abs().max().item()
    blended_err = (blended - reference).abs().max().item()
    assert centre_err < 1e-2  # only the off-centre windows leak in, at weight 1e-3 (the floor MONAI applies)
    assert blended_err > 10 * centre_err  # default blending keeps window-edge artefacts


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
