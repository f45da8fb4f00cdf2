"""predict_volume: probabilities made in place slab by slab and class ids decided per slab equal the
whole-volume computation (up to float32 rounding), for softmax and sigmoid entries, in 2-D and 3-D."""

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from segrepro import inference
from segrepro.baselines import get_baseline
from segrepro.inference import predict_volume


@pytest.mark.parametrize("baseline", ["unet-dicece", "yudistira2020-dl"])
@pytest.mark.parametrize("shape", [(40, 36), (12, 20, 24)])
def test_slabs_equal_the_whole_volume(monkeypatch, baseline, shape):
    entry = get_baseline(baseline)
    if len(shape) not in entry.spatial_dims:
        pytest.skip(f"{baseline} is {entry.spatial_dims}-D only")
    torch.manual_seed(0)
    model = entry.build_model(1, 4, len(shape), "smoke").eval()
    image = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    roi = tuple(min(16, s) for s in shape)
    with torch.no_grad():
        logits = sliding_window_inference(torch.from_numpy(image)[None, None], roi, 4, model, 0.25, "gaussian")
        whole = entry.probabilities(logits)
        decided = entry.decide(whole)[0].numpy()
    monkeypatch.setattr(inference, "SLAB_VOXELS", 1)  # one row (2-D) or plane (3-D) per slab
    probs, pred = predict_volume(model, entry, image, roi, torch.device("cpu"))
    assert probs.shape == (4, *shape) and probs.dtype == np.float32 and pred.dtype == np.uint8
    np.testing.assert_allclose(probs, whole[0].numpy(), rtol=1e-6, atol=1e-7)  # SIMD lanes: 1 ulp
    np.testing.assert_array_equal(pred, decided)
