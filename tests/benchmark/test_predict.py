"""predict: a dataset split into compressed arrays, and a folder of the user's own images written back
in their format; what is written where, and the refusals."""

import nibabel as nib
import numpy as np
import pytest
import tifffile
from PIL import Image

from segrepro import paths
from segrepro.cli import main
from segrepro.datasets import load_prepared
from segrepro.errors import UserError
from segrepro.predict import load_prediction, predict_folder, predict_split, predictions_dir


def test_split_predictions_with_and_without_probabilities(fitted, workdir):
    files = predict_split(fitted, "val", probabilities=False, progress=False)
    data = load_prepared("synthetic-2d")
    assert [f.name for f in files] == [f"{v}.npz" for v in data.fold(0).val]
    classes, probs, instances = load_prediction(files[0])
    assert probs is None and instances is None and classes.dtype == np.uint8
    assert classes.shape == data.load(data.fold(0).val[0])[1].shape
    (test_file, *_) = sorted((predictions_dir(fitted.run_id) / "test").iterdir())  # written by run
    classes, probs, _ = load_prediction(test_file)
    assert probs.shape == (4, *classes.shape) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-5)
    assert (probs.argmax(axis=0) == classes).all()


def test_folder_of_tiffs_png_and_nifti_is_predicted_in_its_own_format(fitted, workdir):
    data = load_prepared("synthetic-2d")
    vid = data.fold(0).test[0]
    image = np.asarray(data.load(vid)[0])
    raw = (image - image.min()) / (image.max() - image.min()) * 60000  # the user's 16-bit scale
    own = workdir / "mine"
    own.mkdir()
    tifffile.imwrite(own / "a.tif", raw.astype(np.uint16))
    Image.fromarray(raw.astype(np.uint16)).save(own / "b.png")
    nib.save(nib.Nifti1Image(np.ascontiguousarray(raw.T.astype(np.float32)), np.diag([2, 2, 1, 1])), own / "c.nii.gz")
    out = workdir / "out"
    ckpt = paths.checkpoint_path(fitted.run_id)
    args = ["predict", "--checkpoint", str(ckpt), "--images", str(own), "--out", str(out)]
    assert main([*args, "--quiet", "--probabilities"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "a.probs.npz", "a.tif", "b.png", "b.probs.npz", "c.nii.gz", "c.probs.npz",
    ]  # fmt: skip
    expected, *_ = load_prediction(predictions_dir(fitted.run_id) / "test" / f"{vid}.npz")
    tif = tifffile.imread(out / "a.tif")
    assert tif.dtype == np.uint8 and (tif == expected).mean() > 0.99  # same image up to its scale (z-scored)
    assert (np.asarray(Image.open(out / "b.png")) == tif).all()
    nii = nib.load(out / "c.nii.gz")
    assert (tif == np.asarray(nii.dataobj).T).all() and np.allclose(nii.affine, np.diag([2, 2, 1, 1]))
    assert (load_prediction(out / "a.probs.npz")[0] == tif).all()


def test_folder_refusals(fitted, workdir):
    ckpt = paths.checkpoint_path(fitted.run_id)
    own = workdir / "mine"
    own.mkdir()
    with pytest.raises(UserError, match="no TIFF, PNG or NIfTI images"):
        predict_folder(ckpt, own, workdir / "out")
    tifffile.imwrite(own / "a.tif", np.zeros((4, 40, 40), np.uint8))
    with pytest.raises(UserError, match="must be another folder"):
        predict_folder(ckpt, own, own)
    with pytest.raises(UserError, match=r"a\.tif: expected a 2-D image"):
        predict_folder(ckpt, own, workdir / "out")
    tifffile.imwrite(own / "a.tif", np.zeros((40, 40), np.uint8))
    predict_folder(ckpt, own, workdir / "out", progress=False)
    with pytest.raises(UserError, match=r"exists .*give --force"):
        predict_folder(ckpt, own, workdir / "out")
    assert predict_folder(ckpt, own, workdir / "out", force=True, progress=False)


def test_predict_without_a_checkpoint_says_what_to_run(prepared_2d, workdir, capsys):
    assert main(["predict", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--quiet"]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
