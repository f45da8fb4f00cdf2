"""Prediction overlays: the panel's layout, and ``--save-predictions`` writing PNGs the record lists."""

import json

import numpy as np
from PIL import Image

from segrepro.overlays import class_colours, overlay_panel
from segrepro.protocol import rescore


def test_panel_shows_image_truth_and_prediction_with_masked_voxels_hatched():
    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    label = np.zeros((8, 8), dtype=np.int64)
    label[:4] = 1
    pred = np.zeros_like(label)
    pred[:, :4] = 2
    mask = np.ones((8, 8), dtype=np.uint8)
    mask[7, 0] = 0  # on the hatch ((7 + 0) // 3 = 2, even)
    colours = class_colours(["#000000", "#ff0000", "#00ff00"])
    panel = overlay_panel(image, label, pred, mask, colours)
    assert panel.shape == (8, 3 * 8 + 4, 3) and panel.dtype == np.uint8
    grey, truth, predicted = panel[:, :8], panel[:, 10:18], panel[:, 20:28]
    assert (grey[..., 0] == grey[..., 1]).all()  # the image panel is grey
    assert truth[0, 7, 0] > truth[0, 7, 1]  # class 1 (red) painted where the truth has it
    assert predicted[7, 1, 1] > predicted[7, 1, 0]  # class 2 (green) where the prediction has it
    assert (truth[7, 0] == 128).all() and (predicted[7, 0] == 128).all()  # masked voxel: hatch grey
    assert (truth[4:, 4:] == grey[4:, 4:]).all()  # background left as the image


def test_3d_volume_shows_its_middle_slice():
    volume = np.zeros((5, 6, 6), dtype=np.float32)
    volume[2] = 1.0
    volume[2, 0, 0] = 0.0
    label = np.zeros((5, 6, 6), dtype=np.int64)
    panel = overlay_panel(volume, label, label, np.ones_like(label), class_colours(["#000000", "#ffffff"]))
    assert panel.shape == (6, 22, 3) and panel[0, 0, 0] < panel[1, 1, 0]


def test_duplicate_card_colours_fall_back_to_a_distinct_palette():
    colours = class_colours(["#888888"] * 4)
    assert len({tuple(c) for c in colours}) == 4


def test_run_saves_n_overlays_and_lists_them(fitted, workdir):
    record = rescore(fitted, progress=False, save_predictions=2, force=True).record
    assert record["status"] == "ok", record.get("reason")
    folder = workdir / "results" / "runs" / record["run_id"]
    listed = record["predictions"]
    assert len(listed) == 2 and sorted(p.name for p in folder.iterdir()) == sorted(p["file"] for p in listed)
    on_disk = json.loads((folder.parent / f"{record['run_id']}.json").read_text())
    assert on_disk["predictions"] == listed
    with Image.open(folder / listed[0]["file"]) as png:
        assert png.format == "PNG" and png.mode == "RGB"
