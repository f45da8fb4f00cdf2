"""The predict stage: a checkpoint's best weights applied to a dataset split or to a folder of your own images.

- a split of the run's dataset: ``results/predictions/<run_id>/<split>/<volume_id>.npz``, compressed,
  holding ``classes`` (class ids, uint8/uint16) and, when asked, ``probabilities`` (``(K, *spatial)``
  float32; ``score`` needs them for the AUC);
- a folder of TIFF/PNG/NIfTI images: each ``name.ext`` gets ``OUT/name.ext`` with the class ids in
  the input's format (NIfTI keeps its affine and header) and, when asked, ``OUT/name.probs.npz``.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from tqdm import tqdm

from segrepro import paths
from segrepro.baselines import get_baseline
from segrepro.cases import Case
from segrepro.checkpoint import load_checkpoint
from segrepro.datasets.readers import image_files, read_array, read_slice, stem
from segrepro.entry import BaselineEntry, count_parameters
from segrepro.errors import UserError
from segrepro.inference import predict_volume
from segrepro.io import check_writable, write_with_atomic
from segrepro.locks import run_lock
from segrepro.metrics import confusion_matrix, counts_from_matrix
from segrepro.postprocess import Prediction
from segrepro.runspec import RunSpec, check_spec
from segrepro.training import pick_device, place

SPLITS = ("train", "val", "test")


def predictions_dir(run_id: str) -> Path:
    return paths.run_folder("predictions", run_id)


def case_counts(
    model: torch.nn.Module,
    entry: BaselineEntry,
    cases: list[Case],
    patch: tuple[int, ...],
    device: torch.device,
    n_classes: int,
) -> dict[str, np.ndarray]:
    """Per-image ``(K, 4)`` TP/FP/FN/TN over scored voxels (validation, and the stress test's test set)."""
    out = {}
    for vid, img, lab, msk in cases:
        pred = predict_volume(model, entry, img, patch, device).classes
        out[vid] = counts_from_matrix(confusion_matrix(pred, lab, n_classes, msk))
    return out


class Predictor:
    """A finished checkpoint's model with its best weights, ready to predict. ``entry`` (default: the one
    the checkpoint was fitted for) may be an entry that shares that fit; its post-processing then applies."""

    def __init__(self, path: Path, entry: BaselineEntry | None = None) -> None:
        ckpt = load_checkpoint(path)
        if not ckpt["finished"]:
            raise UserError(
                f"{path} is unfinished (iteration {ckpt['state']['iteration']}); "
                "give the same fit (or run) command again to resume it"
            )
        self.about: dict[str, Any] = {k: v for k, v in ckpt.items() if k != "state"}
        self.training = {k: ckpt["state"][k] for k in ("best_iteration", "train_loss", "val_score")}
        if entry is not None and ckpt["entry"] not in (entry.id, entry.shares_fit_with):
            raise UserError(f"{path} was fitted for {ckpt['entry']}, not for {entry.id} or an entry it shares it with")
        self.entry = entry or get_baseline(ckpt["entry"])
        recipe = self.entry.recipe(ckpt["tier"])
        if recipe.hash() != ckpt["recipe_hash"]:
            raise UserError(
                f"{path} was trained with another {ckpt['tier']} recipe of {self.entry.id} "
                f"({ckpt['recipe_hash']}, now {recipe.hash()}); fit it again with --force"
            )
        self.spatial_dims = int(ckpt["spatial_dims"])
        self.device = pick_device()
        if self.entry.preprocess.channels != ckpt["in_channels"]:
            raise UserError(
                f"{path} takes {ckpt['in_channels']} input channels; {self.entry.id} now makes "
                f"{self.entry.preprocess.channels}: fit it again with --force"
            )
        if self.entry.method is not None:  # not a network (segrepro.method)
            from segrepro.method import load_fitted

            self.fitted = load_fitted(ckpt["state"])
            self.n_parameters: int = ckpt["state"]["n_parameters"]
            return
        self.patch = tuple(recipe.patch_size[self.spatial_dims])
        self.model = self.entry.build_model(list(ckpt["class_names"]), self.spatial_dims, ckpt["tier"])
        self.model.load_state_dict(ckpt["state"]["best_state"])
        place(self.model, self.device, self.spatial_dims)
        self.n_parameters = count_parameters(self.model)

    def __call__(self, image: np.ndarray) -> Prediction:
        """The prediction of one image as prepared (the entry's preprocessing is applied here)."""
        if self.entry.method is not None:
            from segrepro.method import method_prediction

            return method_prediction(self.entry, self.fitted, self.entry.preprocess(image))
        return predict_volume(self.model, self.entry, self.entry.preprocess(image), self.patch, self.device)


def save_prediction(path: Path, prediction: Prediction, probabilities: bool) -> None:
    """``classes``, the ``probabilities`` when asked and the ``instances`` where the entry made them."""
    arrays = {"classes": prediction.classes}
    if probabilities:
        arrays["probabilities"] = prediction.scores
    if prediction.instances is not None:
        arrays["instances"] = prediction.instances
    write_with_atomic(path, lambda f: np.savez_compressed(f, **arrays))


def load_prediction(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Class ids, probabilities and instance labels (the last two None when not saved) of one prediction file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            optional = [z[k] if k in z.files else None for k in ("probabilities", "instances")]
            return z["classes"], *optional
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: missing or unreadable prediction ({exc}); run segrepro predict again") from exc


def predict_split(spec: RunSpec, split: str = "test", probabilities: bool = False, progress: bool = True) -> list[Path]:
    """Predict every volume of ``split`` of the run's fold into ``results/predictions/<run_id>/<split>/``."""
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    entry, data = check_spec(spec)
    out = predictions_dir(spec.run_id) / split
    check_writable(out)
    with run_lock(spec.run_id):
        predictor = Predictor(spec.checkpoint, entry)
        if predictor.about["data_hash"] != data.data_hash:
            raise UserError(
                f"{spec.dataset} was prepared again since {spec.run_id} was fitted; fit it again with --force"
            )
        written = []
        ids = getattr(data.fold(spec.fold), split)
        for vid in tqdm(ids, desc=f"predict {split}", unit="img", disable=not progress, leave=False):
            image, _, _ = data.load(vid)
            prediction = predictor(image)
            save_prediction(out / f"{vid}.npz", prediction, probabilities)
            written.append(out / f"{vid}.npz")
    return written


def read_image(path: Path, spatial_dims: int) -> np.ndarray:
    """One of the user's images as the model takes it: 2-D slices (colour -> grey) or 3-D volumes, NIfTI's
    ``(x, y, z)`` array order reversed (``(z, y, x)``), as ``datasets prepare --card`` does."""
    arr = read_slice(path) if spatial_dims == 2 else read_array(path)
    if arr.ndim != spatial_dims:
        raise UserError(f"{path}: the model is {spatial_dims}-D; this image has shape {arr.shape}")
    return arr.T if path.name.lower().endswith((".nii", ".nii.gz")) else arr


def write_like(source: Path, path: Path, classes: np.ndarray) -> None:
    """Class ids into ``path`` in ``source``'s format (TIFF zlib-compressed, PNG, NIfTI with its affine)."""
    name = source.name.lower()
    if name.endswith((".tif", ".tiff")):
        import tifffile

        write_with_atomic(path, lambda f: tifffile.imwrite(f, classes, compression="zlib"))
    elif name.endswith(".png"):
        from PIL import Image

        write_with_atomic(path, lambda f: Image.fromarray(classes).save(f, format="PNG"))
    else:
        import nibabel as nib

        ref = nib.load(str(source))
        img = nib.Nifti1Image(np.ascontiguousarray(classes.T), ref.affine, ref.header)
        img.set_data_dtype(classes.dtype)
        data = img.to_bytes()

        def write(f: IO[bytes]) -> None:
            f.write(gzip.compress(data) if name.endswith(".gz") else data)

        write_with_atomic(path, write)


def predict_folder(
    checkpoint: Path,
    in_dir: Path,
    out_dir: Path,
    probabilities: bool = False,
    force: bool = False,
    progress: bool = True,
    entry: BaselineEntry | None = None,
) -> list[Path]:
    """Predict every TIFF/PNG/NIfTI image directly in ``in_dir`` into ``out_dir`` (see the module doc);
    ``entry`` as for ``Predictor``."""
    files = image_files(in_dir)
    if not files:
        raise UserError(f"{in_dir}: no TIFF, PNG or NIfTI images in this folder")
    if out_dir.resolve() == in_dir.resolve():
        raise UserError("--out must be another folder than --images (predictions are named like the images)")
    targets = [(f, out_dir / f.name, out_dir / f"{stem(f)}.probs.npz") for f in files]
    outputs = [path for _, c, p in targets for path in ((c, p) if probabilities else (c,))]
    existing = [path for path in outputs if path.exists()]
    if existing and not force:
        raise UserError(f"{existing[0]} exists ({len(existing)} outputs exist); give --force to replace them")
    check_writable(out_dir)
    predictor = Predictor(checkpoint, entry)
    written = []
    for source, target, probs_path in tqdm(targets, desc="predict", unit="img", disable=not progress, leave=False):
        prediction = predictor(read_image(source, predictor.spatial_dims))
        write_like(source, target, prediction.classes)
        written.append(target)
        if probabilities:
            save_prediction(probs_path, prediction, True)
            written.append(probs_path)
    return written
