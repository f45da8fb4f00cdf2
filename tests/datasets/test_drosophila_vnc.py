"""drosophila-vnc: verified fetch from the local mirror folder, paper 001's 320 crops and five folds, and
class frequencies that match counts taken independently from the label PNGs; drosophila-vnc-cells: touching
cell profiles derived from its membrane labels."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from segrepro.baselines.guerrero2020.targets import TOUCHING, TouchingGapTarget
from segrepro.cli import main
from segrepro.datasets import get_dataset
from segrepro.datasets.drosophila_vnc import cells_from_membrane, crop_id

# Raw label values of each class, written out here rather than read from the card.
VALUES = {
    "membrane": (0, 32, 64, 96, 128),
    "mitochondria": (191,),
    "synapse": (223,),
    "glia/extracellular": (159,),
    "intracellular": (255,),
}


def test_card_pins_every_source_at_the_upstream_commit():
    card = get_dataset("drosophila-vnc").card
    assert len(card.sources) == 40
    for src in card.sources:
        assert src.url.endswith(src.path) and "4a5f051466d24d8dc1e855ab55658bb1b1dcd6bf" in src.url
        assert src.sha256 and len(src.sha256) == 64
    assert card.class_names == list(VALUES)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, prepare_from_mirror, mirror):
    return prepare_from_mirror(tmp_path_factory.mktemp("data"), "drosophila-vnc", mirror("drosophila-vnc"))


@pytest.mark.slow
def test_prepare_gives_paper_crops_and_folds(prepared):
    ids = prepared.meta["volumes"]
    assert len(ids) == 320
    img, lab, msk = prepared.load(ids[0])
    assert img.shape == lab.shape == msk.shape == (256, 256)
    assert len(prepared.folds) == 5
    tested = []
    for fold in prepared.folds:
        assert (len(fold.train), len(fold.val), len(fold.test)) == (192, 64, 64)
        assert not set(fold.train) & set(fold.val) and not set(fold.test) & (set(fold.train) | set(fold.val))
        tested += fold.test
    assert sorted(tested) == sorted(ids)


@pytest.mark.slow
def test_class_frequencies_match_the_label_pngs(prepared, mirror):
    labels = mirror("drosophila-vnc") / "stack1" / "labels"
    pixels = np.concatenate([np.asarray(Image.open(p)).ravel() for p in sorted(labels.glob("labels*.png"))])
    assert pixels.size == 20 * 1024 * 1024
    counts = {name: int(np.isin(pixels, values).sum()) for name, values in VALUES.items()}
    assert sum(counts.values()) == pixels.size
    assert prepared.meta["class_counts"] == counts
    for name, n in counts.items():
        assert prepared.meta["class_frequencies"][name] == pytest.approx(n / pixels.size)
    # The crop at section 3, row 1, column 2 is exactly that region of the PNG.
    _, lab, _ = prepared.load("s03_y1_x2")
    region = np.asarray(Image.open(labels / "labels00000003.png"))[256:512, 512:768]
    np.testing.assert_array_equal(lab == 2, region == 223)


def test_corrupted_mirror_file_fails_fetch_and_leaves_no_prepared_data(tmp_path, monkeypatch, capsys, mirror):
    vnc, copy = mirror("drosophila-vnc"), tmp_path / "mirror"
    for sub in ("raw", "labels"):
        shutil.copytree(vnc / "stack1" / sub, copy / "stack1" / sub)
    victim = copy / "stack1" / "labels" / "labels00000005.png"
    blob = bytearray(victim.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    victim.write_bytes(bytes(blob))
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(tmp_path / "data"))
    assert main(["datasets", "fetch", "drosophila-vnc", "--mirror", str(copy)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("segrepro: error:")]
    assert len(errors) == 1 and "stack1/labels/labels00000005.png: checksum mismatch" in errors[0]
    pinned = {s.path: s.sha256 for s in get_dataset("drosophila-vnc").card.sources}
    assert pinned["stack1/labels/labels00000005.png"] in errors[0]
    raw = tmp_path / "data" / "raw" / "drosophila-vnc" / "stack1" / "labels"
    assert not (raw / "labels00000005.png").exists() and not list(raw.glob("*.part"))
    assert main(["datasets", "prepare", "drosophila-vnc"]) == 2
    assert "missing; run `segrepro datasets fetch drosophila-vnc` first" in capsys.readouterr().err
    prepared = tmp_path / "data" / "prepared"
    assert not prepared.exists() or not any(prepared.iterdir())


@pytest.mark.slow
def test_smoke_run_on_the_real_data(prepared, tmp_path, monkeypatch):
    """The standard protocol runs on the prepared real dataset and scores its five classes."""
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(prepared.root.parents[1]))
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path / "results"))
    args = ["run", "--dataset", "drosophila-vnc", "--baseline", "unet-dicece", "--tier", "smoke", "--quiet"]
    assert main(args) == 0
    record = json.loads((tmp_path / "results" / "runs" / "drosophila-vnc__unet-dicece__smoke__f0__s0.json").read_text())
    assert record["status"] == "ok"
    assert sorted(record["metrics"]["counts_per_image"]) == sorted(prepared.fold(0).test)
    per_class = record["metrics"]["canonical"]["per_class"]
    assert list(per_class) == list(VALUES)
    assert all(0.0 <= per_class[name]["dice"] <= 1.0 for name in list(VALUES)[1:])


def test_cells_from_membrane_grow_profiles_until_neighbours_touch():
    membrane = np.zeros((20, 30), bool)
    membrane[:, 14:16] = True  # a 2-pixel membrane between two profiles
    membrane[:, 0:1] = True
    inst = cells_from_membrane(membrane, growth=3, min_size=30)
    assert set(np.unique(inst)) == {1, 2}  # no background left: the band is thinner than the growth
    assert (inst[:, :15] == inst[0, 2]).all() and (inst[:, 15:] == inst[0, 20]).all()  # meet at the midline
    far = np.ones((20, 30), bool)
    far[5:15, 2:8] = False  # one profile in a wide membrane: grows by 3 only
    one = cells_from_membrane(far, growth=3, min_size=30)
    np.testing.assert_array_equal(one > 0, ndimage.distance_transform_edt(far) <= 3)  # Euclidean growth
    speck = np.ones((10, 10), bool)
    speck[4:6, 4:6] = False  # 4 pixels: under min_size, not a profile
    assert cells_from_membrane(speck, min_size=30).max() == 0


def test_drosophila_vnc_cells_are_derived_from_the_mirror_labels_with_the_same_crops_and_folds(mirror):
    vnc = mirror("drosophila-vnc")
    cells, plain = get_dataset("drosophila-vnc-cells"), get_dataset("drosophila-vnc")
    assert cells.card.instances and cells.card.licence == plain.card.licence
    assert cells.card.sources == plain.card.sources and cells.card.splits == plain.card.splits
    ids = [crop_id(s, r, c) for s in range(20) for r in range(4) for c in range(4)]
    assert cells.folds(ids) == plain.folds(ids)
    for vol, base in zip(cells.volumes(vnc), plain.volumes(vnc), strict=False):
        if vol.id == "s00_y1_x0":
            break
        assert vol.id == base.id
        np.testing.assert_array_equal(vol.image, base.image)
        np.testing.assert_array_equal(vol.instances, cells_from_membrane(base.label == 0))
        np.testing.assert_array_equal(vol.label, vol.instances > 0)
        assert vol.instances.max() >= 5  # many profiles per crop, and most of them touch a neighbour
        t = TouchingGapTarget(n_classes=4)(vol.label, vol.instances)
        assert 0.05 < (t == TOUCHING).mean() < 0.4


def test_cells_variant_prepared_before_fetch_names_its_own_fetch_command(workdir, capsys):
    """drosophila-vnc-cells reads data/raw/drosophila-vnc-cells: the error names that dataset's fetch."""
    from segrepro.cli import main

    assert main(["datasets", "prepare", "drosophila-vnc-cells"]) == 2
    last = capsys.readouterr().err.strip().split("\r")[-1]  # after the progress bar
    assert last.startswith("segrepro: error: ") and "\n" not in last
    assert last.endswith("missing; run `segrepro datasets fetch drosophila-vnc-cells` first")
