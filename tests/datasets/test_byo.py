"""Lucchi++ and the bring-your-own adapters on small files written in their layouts."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from segrepro.cli import main
from segrepro.datasets import load_prepared
from segrepro.datasets.arabidopsis import ArabidopsisAdapter
from segrepro.datasets.c_merolae import CMerolaeAdapter
from segrepro.datasets.ctc import CTCAdapter
from segrepro.datasets.fib_sem_hela import FibSemHelaAdapter
from segrepro.datasets.lucchi_pp import LucchiPPAdapter
from segrepro.errors import UserError


def png(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def tif(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, arr)


def write_lucchi(root: Path, n: int = 10, shape: tuple[int, int] = (12, 16)) -> dict[str, np.ndarray]:
    """Train/Test volumes as PNG slices named like the archive (``mask0000.png``)."""
    out = {}
    for part in ("Train", "Test"):
        rng = np.random.default_rng(len(part))
        img = rng.integers(0, 256, size=(n, *shape)).astype(np.uint8)
        lab = np.zeros((n, *shape), np.uint8)
        lab[:, 3:8, 4:10] = 255
        for z in range(n):
            png(root / f"{part}_In" / f"mask{z:04d}.png", img[z])
            png(root / f"{part}_Out" / f"mask{z:04d}.png", lab[z])
        out[part] = (img, lab)
    return out


def test_lucchi_pp_prepares_train_val_test(tmp_path):
    raw = tmp_path / "raw" / "Lucchi++"  # as the archive unpacks
    written = write_lucchi(raw)
    data = load_prepared("lucchi-pp", LucchiPPAdapter(val_fraction=0.2).prepare(tmp_path / "raw", tmp_path / "p"))
    assert data.folds[0].train == ("train",) and data.folds[0].val == ("val",) and data.folds[0].test == ("test",)
    img, lab, msk = data.load("val")
    assert img.shape == (2, 12, 16)  # the last 20% of the 10 training slices
    np.testing.assert_array_equal(img, written["Train"][0][8:].astype(np.float32))
    np.testing.assert_array_equal(lab, written["Train"][1][8:] // 255)
    _, test_lab, _ = data.load("test")
    assert test_lab.shape == (10, 12, 16) and set(np.unique(test_lab)) == {0, 1}
    assert msk.sum() < msk.size  # object borders are masked


def test_lucchi_pp_missing_folder_and_count_mismatch(tmp_path):
    raw = tmp_path / "raw"
    write_lucchi(raw)
    for f in (raw / "Test_Out").iterdir():
        f.unlink()
    with pytest.raises(UserError, match="Test_Out: missing; lucchi-pp expects Train_In/"):
        LucchiPPAdapter().prepare(raw, tmp_path / "p")
    write_lucchi(raw)
    (raw / "Train_Out" / "mask0003.png").unlink()
    with pytest.raises(UserError, match="9 label slices for 10 image slices"):
        LucchiPPAdapter().prepare(raw, tmp_path / "p")


def test_c_merolae_groups_resize_and_random_halves(tmp_path):
    raw = tmp_path / "raw"
    for group in ("G-1", "G-3"):
        for i in range(6):
            rng = np.random.default_rng(i)
            lab = np.zeros((40, 30), np.uint8)
            lab[5:35, 5:25] = 1
            lab[10:20, 8:18] = 3
            lab[22:26, 10:14] = 5
            png(raw / group / "images" / f"cell{i}.png", rng.integers(0, 256, (40, 30)).astype(np.uint8))
            png(raw / group / "labels" / f"cell{i}.png", lab)
    data = load_prepared("c-merolae", CMerolaeAdapter(n_folds=5).prepare(raw, tmp_path / "p"))
    assert len(data.meta["volumes"]) == 12
    img, lab, _ = data.load("G-3_cell2")
    assert img.shape == lab.shape == (256, 256)
    assert set(np.unique(lab)) == {0, 1, 3, 5}
    assert len(data.folds) == 10  # 5 per grouping present
    for f in data.folds[:5]:
        assert all(i.startswith("G-1_") for i in f.train + f.val + f.test)
        assert len(f.test) == 3 and len(f.train) + len(f.val) == 3 and f.val
    assert data.folds[0].test != data.folds[1].test or data.folds[0].train != data.folds[1].train


def test_c_merolae_missing_label_and_bad_value(tmp_path):
    raw = tmp_path / "raw"
    png(raw / "G-2" / "images" / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(UserError, match=r"G-2/labels/a\.png: missing label"):
        CMerolaeAdapter().prepare(raw, tmp_path / "p")
    png(raw / "G-2" / "labels" / "a.png", np.full((8, 8), 9, np.uint8))
    with pytest.raises(UserError, match=r"a\.png: label values \[9\] are not in the card"):
        CMerolaeAdapter().prepare(raw, tmp_path / "p")
    with pytest.raises(UserError, match="G-1: missing; c-merolae expects G-1/images"):
        CMerolaeAdapter().prepare(tmp_path / "empty", tmp_path / "p")


def test_arabidopsis_crops_512_resized_to_256_and_30_10_10(tmp_path):
    raw = tmp_path / "raw"
    rng = np.random.default_rng(0)
    # Two sections of 5 x 5 crops (2560 + a remainder that is dropped) -> 50 crops.
    for name in ("s1", "s2"):
        lab = np.zeros((2600, 2570), np.uint8)
        lab[::40, :] = lab[1::40, :] = 255  # 2-pixel walls: nearest-neighbour halving keeps one row
        tif(raw / "images" / f"{name}.tif", rng.integers(0, 256, (2600, 2570, 3)).astype(np.uint8))
        tif(raw / "labels" / f"{name}.tif", lab)
    data = load_prepared("arabidopsis-cells", ArabidopsisAdapter().prepare(raw, tmp_path / "p"))
    assert len(data.meta["volumes"]) == 50
    img, lab, _ = data.load("s2_r4c4")
    assert img.shape == lab.shape == (256, 256)
    assert [(len(f.train), len(f.val), len(f.test)) for f in data.folds] == [(30, 10, 10)] * 5
    assert data.meta["class_frequencies"]["cell wall"] == pytest.approx(
        2 / 40, abs=0.005
    )  # the fraction survives halving


def write_hela(raw: Path, n: int = 64) -> None:
    for stack in ("FS-1", "FS-2"):
        lab = np.zeros((n, 16, 16), np.uint8)
        lab[:, 2:6, 2:6], lab[:, 8, :], lab[:, 10:12, 10:14] = 1, 2, 3
        tif(raw / stack / "image.tif", np.random.default_rng(0).random((n, 16, 16)).astype(np.float32))
        tif(raw / stack / "labels.tif", lab)


def test_fib_sem_hela_slices_1_40_train_41_60_val_rest_test(tmp_path):
    raw = tmp_path / "raw"
    write_hela(raw)
    data = load_prepared("fib-sem-hela", FibSemHelaAdapter().prepare(raw, tmp_path / "p"))
    assert len(data.folds) == 2
    fs2 = data.folds[1]
    assert fs2.train == tuple(f"FS-2_z{z:03d}" for z in range(40))
    assert fs2.val == tuple(f"FS-2_z{z:03d}" for z in range(40, 60))
    assert fs2.test == tuple(f"FS-2_z{z:03d}" for z in range(60, 64))
    assert data.meta["class_counts"]["cell membrane"] == 2 * 64 * 16


def test_fib_sem_hela_missing_stack_is_one_line(tmp_path, workdir, capsys):
    raw = workdir / "data" / "raw" / "fib-sem-hela"
    write_hela(raw)
    (raw / "FS-2" / "labels.tif").unlink()
    assert main(["datasets", "prepare", "fib-sem-hela"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "FS-2/labels.tif: missing; fib-sem-hela expects FS-1/image.tif" in err
    assert not (workdir / "data" / "prepared" / "fib-sem-hela").exists()


def test_ctc_instances_and_leave_one_sequence_out(tmp_path):
    raw = tmp_path / "raw"
    for seq, frames in (("01", (0, 5, 9, 12, 20)), ("02", (3, 7))):
        for t in range(22):
            tif(raw / seq / f"t{t:03d}.tif", np.full((10, 12), t, np.uint16))
        for t in frames:
            inst = np.zeros((10, 12), np.uint16)
            inst[1:4, 1:4], inst[5:9, 6:11] = 1, 2 + t
            tif(raw / f"{seq}_GT" / "SEG" / f"man_seg{t:03d}.tif", inst)
    data = load_prepared("ctc", CTCAdapter().prepare(raw, tmp_path / "p"))
    assert data.meta["volumes"] == ["01_t000", "01_t005", "01_t009", "01_t012", "01_t020", "02_t003", "02_t007"]
    inst = np.load(tmp_path / "p" / "instances" / "01_t012.npy")
    assert set(np.unique(inst)) == {0, 1, 14}
    _, lab, _ = data.load("01_t012")
    np.testing.assert_array_equal(lab, inst > 0)
    f0, f1 = data.folds
    assert f0.test == ("01_t000", "01_t005", "01_t009", "01_t012", "01_t020") and f0.val and f0.train
    assert f1.test == ("02_t003", "02_t007") and f1.val == ("01_t012",)


def test_ctc_missing_frame_for_a_segmentation(tmp_path):
    raw = tmp_path / "raw"
    tif(raw / "01_GT" / "SEG" / "man_seg004.tif", np.ones((4, 4), np.uint16))
    (raw / "01").mkdir()
    with pytest.raises(UserError, match=r"01/t004\.tif: missing; the frame of"):
        CTCAdapter().prepare(raw, tmp_path / "p")


def test_byo_fetch_copies_a_folder_or_says_where_files_go(tmp_path, workdir, capsys):
    assert main(["datasets", "fetch", "fib-sem-hela"]) == 2
    assert "cannot be downloaded" in capsys.readouterr().err
    src = tmp_path / "mine"
    write_hela(src)
    assert main(["datasets", "fetch", "fib-sem-hela", "--source", str(src)]) == 0
    assert (workdir / "data" / "raw" / "fib-sem-hela" / "FS-1" / "labels.tif").is_file()
    assert main(["datasets", "prepare", "fib-sem-hela"]) == 0
