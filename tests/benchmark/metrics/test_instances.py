"""Instance metrics: matching and PQ/SQ/RQ against MONAI, detection against a slow flood fill."""

from collections import deque

import numpy as np
import pytest
import torch
from monai.metrics import compute_panoptic_quality

from segrepro.metrics.instances import (
    DetectionCounts,
    InstanceCounts,
    component_detection,
    match_instances,
    semantic_instance_counts,
)


def random_instances(rng, shape=(40, 40), n=12):
    """Ground truth of random boxes, and a prediction that shifts, grows, drops and invents some."""
    gt, pred = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
    for i in range(1, n + 1):
        y, x = rng.integers(0, shape[0] - 4), rng.integers(0, shape[1] - 4)
        h, w = rng.integers(2, 10, 2)
        gt[y : y + h, x : x + w] = i
        if rng.random() < 0.8:
            dy, dx = rng.integers(-2, 3, 2)
            dh, dw = rng.integers(-1, 3, 2)
            y2, x2 = max(0, y + dy), max(0, x + dx)
            pred[y2 : y2 + max(1, h + dh), x2 : x2 + max(1, w + dw)] = 100 + i
    for _ in range(int(rng.integers(0, 4))):
        y, x = rng.integers(0, shape[0] - 3, 2)
        pred[y : y + 3, x : x + 3] = 500 + int(rng.integers(0, 50))
    return gt, pred


def monai_counts(gt, pred):
    if not gt.any() and not pred.any():
        return InstanceCounts()
    tp, fp, fn, iou = compute_panoptic_quality(
        torch.as_tensor(pred), torch.as_tensor(gt), output_confusion_matrix=True
    ).tolist()
    return InstanceCounts(int(tp), int(fp), int(fn), iou)


@pytest.mark.parametrize("seed", range(25))
def test_matching_and_panoptic_quality_match_monai(seed):
    rng = np.random.default_rng(seed)
    gt, pred = random_instances(rng)
    mask = None if seed % 2 else rng.random(gt.shape) < 0.9
    g = gt if mask is None else np.where(mask, gt, 0)
    p = pred if mask is None else np.where(mask, pred, 0)
    ours, ref = match_instances(gt, pred, mask), monai_counts(g, p)
    assert (ours.tp, ours.fp, ours.fn) == (ref.tp, ref.fp, ref.fn)
    assert abs(ours.iou_sum - ref.iou_sum) < 1e-5
    s = ours.scores()
    den = ref.tp + 0.5 * ref.fp + 0.5 * ref.fn
    assert abs(s["pq"] - ref.iou_sum / den) < 1e-6 and abs(s["rq"] - ref.tp / den) < 1e-12
    if ref.tp:
        assert abs(s["sq"] - ref.iou_sum / ref.tp) < 1e-6 and s["pq"] == pytest.approx(s["sq"] * s["rq"])
    assert s["p05"] == pytest.approx(ref.tp / (ref.tp + ref.fp))


def test_empty_cases_are_nan_not_perfect():
    assert np.isnan(match_instances(np.zeros((4, 4)), np.zeros((4, 4))).scores()["pq"])
    only_gt = match_instances(np.eye(4, dtype=int), np.zeros((4, 4), int))
    assert only_gt.fn == 1 and only_gt.scores()["pq"] == 0.0 and np.isnan(only_gt.scores()["p05"])


def flood_components(binary):
    """Slow obvious 8-connected labelling of one 2-D slice."""
    labels, n = np.zeros(binary.shape, int), 0
    for start in zip(*np.nonzero(binary), strict=True):
        if labels[start]:
            continue
        n += 1
        labels[start] = n
        queue = deque([start])
        while queue:
            y, x = queue.popleft()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    q = (y + dy, x + dx)
                    if 0 <= q[0] < binary.shape[0] and 0 <= q[1] < binary.shape[1] and binary[q] and not labels[q]:
                        labels[q] = n
                        queue.append(q)
    return labels, n


def slow_detection(pred, target, k, mask):
    out = [0, 0, 0]
    for z in range(target.shape[0]):
        labels, n = flood_components((target[z] == k) & mask[z])
        for i in range(1, n + 1):
            comp = labels == i
            recall = (pred[z][comp] == k).mean()
            out[0 if recall > 0.8 else 2 if recall < 0.1 else 1] += 1
    return DetectionCounts(*out)


@pytest.mark.parametrize("seed", range(12))
def test_component_detection_per_slice_matches_slow_flood_fill(seed):
    rng = np.random.default_rng(seed)
    k = 3
    target = (rng.random((3, 14, 14)) < 0.3) * rng.integers(1, k, (3, 14, 14))
    pred = np.where(rng.random(target.shape) < rng.uniform(0.3, 0.95), target, rng.integers(0, k, target.shape))
    mask = rng.random(target.shape) < (1.0 if seed % 3 == 0 else 0.8)
    ours = component_detection(pred, target, k, mask)
    for c in range(1, k):
        assert ours[c] == slow_detection(pred, target, c, mask)
    total = ours[1].scores()
    assert sum(total.values()) == pytest.approx(1.0)


def test_detection_thresholds_are_the_papers():
    target = np.zeros((1, 10, 30), int)
    target[0, :, 0:10] = 1  # recall 0.85 -> detected
    target[0, :, 11:21] = 1  # recall 0.80 -> under-detected (not > 0.80)
    target[0, :, 22:30] = 1  # recall 0.10 of 80 px... set below
    pred = np.zeros_like(target)
    pred[0, :, 0:10].flat[:85] = 1
    pred[0, :, 11:21].flat[:80] = 1
    pred[0, :, 22:30].flat[:7] = 1  # 7/80 < 0.10 -> missed
    assert component_detection(pred, target, 2)[1] == DetectionCounts(1, 1, 1)


def test_semantic_instances_use_scored_voxels_only():
    rng = np.random.default_rng(3)
    target = rng.integers(0, 3, (20, 20))
    pred = np.where(rng.random(target.shape) < 0.7, target, rng.integers(0, 3, target.shape))
    mask = rng.random(target.shape) < 0.6
    base = semantic_instance_counts(pred, target, 3, mask)
    pred2 = np.where(mask, pred, rng.integers(0, 3, target.shape))
    target2 = np.where(mask, target, rng.integers(0, 3, target.shape))
    assert semantic_instance_counts(pred2, target2, 3, mask) == base
    assert component_detection(pred2, target2, 3, mask) == component_detection(pred, target, 3, mask)


@pytest.mark.parametrize("seed", range(4))
def test_semantic_instances_per_slice_are_the_sum_of_each_slice_against_monai(seed):
    """With ``slice_axis``, components never join across slices: the counts are those of each 2-D slice, summed."""
    rng = np.random.default_rng(seed)
    target = (rng.random((4, 16, 16)) < 0.35) * rng.integers(1, 3, (4, 16, 16))
    pred = np.where(rng.random(target.shape) < 0.85, target, 0)
    mask = rng.random(target.shape) < 0.9
    ours = semantic_instance_counts(pred, target, 3, mask, slice_axis=0)
    for c in (1, 2):
        ref = InstanceCounts()
        for z in range(4):
            g, _ = flood_components((target[z] == c) & mask[z])
            p, _ = flood_components((pred[z] == c) & mask[z])
            ref = ref + monai_counts(g, p)
        assert (ours[c].tp, ours[c].fp, ours[c].fn) == (ref.tp, ref.fp, ref.fn)
        assert abs(ours[c].iou_sum - ref.iou_sum) < 1e-5


def test_instance_evaluation_matches_monai_panoptic_quality_metric_per_image_and_pooled():
    from monai.metrics import PanopticQualityMetric

    from segrepro.metrics.instances import InstanceEvaluation

    rng = np.random.default_rng(42)
    pairs = [random_instances(rng) for _ in range(6)]
    ev = InstanceEvaluation()
    for i, (gt, pred) in enumerate(pairs):
        ev.add(f"img{i}", gt, pred, None)
    record = ev.record()

    def panoptic(gt, pred):  # MONAI wants (B, 2, H, W): instance ids, then class ids (1 = the one class)
        def as_input(x):
            return torch.as_tensor(np.stack([x, (x > 0).astype(x.dtype)]))[None]

        metric = PanopticQualityMetric(num_classes=1, metric_name=("pq", "sq", "rq"), reduction="none")
        metric(as_input(pred), as_input(gt))
        return [float(v.sum()) for v in metric.aggregate()]

    for i, (gt, pred) in enumerate(pairs):
        mine = record["per_image"][f"img{i}"]
        pq, sq, rq = panoptic(gt, pred)
        assert (mine["pq"], mine["sq"], mine["rq"]) == pytest.approx((pq, sq, rq), abs=1e-6)
    # pooled = the counts summed: MONAI on the images laid side by side, ids kept apart
    wide_gt = np.concatenate([g + np.where(g > 0, 1000 * i, 0) for i, (g, _) in enumerate(pairs)], axis=1)
    wide_pred = np.concatenate([p + np.where(p > 0, 1000 * i, 0) for i, (_, p) in enumerate(pairs)], axis=1)
    pooled = record["pooled"]
    assert (pooled["pq"], pooled["sq"], pooled["rq"]) == pytest.approx(panoptic(wide_gt, wide_pred), abs=1e-6)
    assert pooled["tp"] == sum(r["tp"] for r in record["per_image"].values())
