"""Reading the users' and the upstream files: TIFF, PNG, NIfTI and ``.npy`` into plain arrays, with one-line
errors naming the file, and the small helpers the adapters share (file matching, label mapping,
resizing, folds)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from segrepro.datasets.adapter import Fold, natural_key
from segrepro.datasets.card import ClassSpec
from segrepro.errors import UserError

IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".nii", ".nii.gz")


def stem(path: Path) -> str:
    """File name without its image suffix (``a.nii.gz`` -> ``a``)."""
    name = path.name
    for suffix in sorted(IMAGE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def image_files(folder: Path) -> list[Path]:
    """The TIFF/PNG/NIfTI files directly in ``folder``, in natural order."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(files, key=lambda p: natural_key(p.name))


def read_array(path: Path, squeeze: bool = True, labels: bool = False, key: str = "classes") -> np.ndarray:
    """Read one TIFF, PNG, NIfTI or NumPy ``.npy`` file as stored (NIfTI in its ``(x, y, z)`` array order),
    or the ``key`` array of a ``.npz`` file (what ``segrepro predict`` writes: ``classes``, ``probabilities``).

    Singleton axes are dropped unless ``squeeze`` is False (``segrepro evaluate`` compares the
    shapes as stored); a PNG with colour channels is converted to grey levels, a palette PNG gives
    its indices (the usual label-map encoding). With ``labels``, an RGB(A) PNG gives its label values
    (``grey_labels``: a colour one is refused). Any reading failure becomes a one-line ``UserError``
    naming the file.
    """
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    name = path.name.lower()
    try:
        if name.endswith(".npy"):
            arr = np.load(path, allow_pickle=False)
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as stored:
                if key not in stored.files:
                    raise UserError(f"{path}: no {key!r} array in it (it holds: {', '.join(stored.files) or 'none'})")
                arr = stored[key]
        elif name.endswith((".nii", ".nii.gz")):
            import nibabel as nib

            arr = np.asanyarray(nib.load(str(path)).dataobj)
        elif name.endswith((".tif", ".tiff")):
            import tifffile

            arr = tifffile.imread(path)
        elif name.endswith(".png"):
            from PIL import Image

            with Image.open(path) as im:
                if labels and im.mode in ("RGB", "RGBA"):
                    arr = grey_labels(np.asarray(im), path)
                else:
                    arr = np.asarray(im.convert("L") if im.mode in ("RGB", "RGBA", "LA") else im)
        else:
            raise UserError(f"{path}: unsupported file type (use TIFF, PNG, NIfTI, .npy or .npz)")
    except UserError:
        raise
    except Exception as exc:  # any library's reading failure: name the file, one line
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: cannot read ({detail})") from exc
    arr = np.asarray(arr)
    if squeeze:
        arr = np.squeeze(arr)
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise UserError(f"{path}: unsupported pixel type {arr.dtype}")
    return arr


def grey_labels(rgb: np.ndarray, path: Path) -> np.ndarray:
    """The label values of an RGB(A) label image saved with equal channels; a colour one (channels
    that differ anywhere) is refused, as grey levels of colours are not label values."""
    if (rgb[..., :3] != rgb[..., :1]).any():
        raise UserError(
            f"{path}: a colour (RGB) label image; label files hold one label value per pixel: "
            "save it as a grey or palette PNG (or a one-channel TIFF)"
        )
    return rgb[..., 0]


def read_slice(path: Path, labels: bool = False) -> np.ndarray:
    """One 2-D image; colour (RGB/RGBA in the last axis) is converted to grey levels, or with
    ``labels`` read as label values (``grey_labels``)."""
    arr = read_array(path, labels=labels)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        if labels:
            arr = grey_labels(arr, path)
        else:
            arr = arr[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if arr.ndim != 2:
        raise UserError(f"{path}: expected a 2-D image, got shape {arr.shape}")
    return arr


def paired_files(image_dir: Path, label_dir: Path, expects: str) -> list[tuple[str, Path, Path]]:
    """``(stem, image, label)`` for every image in ``image_dir``; each needs a label of the same stem,
    and each label an image (a stray label file means a missing or misnamed image)."""
    images = image_files(image_dir)
    if not images:
        raise UserError(f"{image_dir}: no TIFF/PNG/NIfTI images; expected {expects}")
    labels = {stem(p): p for p in image_files(label_dir)}
    pairs = []
    for img in images:
        if stem(img) not in labels:
            raise UserError(f"{label_dir / img.name}: missing label for {img}; expected {expects}")
        pairs.append((stem(img), img, labels.pop(stem(img))))
    if labels:
        orphan = next(iter(labels.values()))
        raise UserError(f"{orphan}: a label file with no image ({image_dir / stem(orphan)}.*); expected {expects}")
    return pairs


def require_files(paths: Iterable[Path], what: str) -> None:
    """Raise one line naming the first missing file and what the adapter expects."""
    for p in paths:
        if not p.is_file():
            raise UserError(f"{p}: missing; {what}")


def map_labels(
    raw: np.ndarray, classes: Sequence[ClassSpec], where: str, ignore: Sequence[float] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Raw label values -> (class ids uint8, validity mask uint8) following the card.

    Any numeric dtype is accepted as long as every value is one of the card's values (or an
    ``ignore`` value, which becomes masked); anything else is a one-line error naming the file.
    """
    # *_like keeps the memory order of ``raw`` (NIfTI data is Fortran-ordered): much faster.
    label = np.zeros_like(raw, dtype=np.uint8)
    mask = np.ones_like(raw, dtype=np.uint8)
    covered = np.zeros_like(raw, dtype=bool)
    for k, cls in enumerate(classes):
        for v in cls.values:
            sel = raw == v
            label[sel] = k
            covered |= sel
    for v in ignore:
        sel = raw == v
        mask[sel] = 0
        covered |= sel
    if not covered.all():
        bad = np.unique(raw[~covered]).tolist()
        allowed = sorted({float(v) for c in classes for v in c.values} | {float(v) for v in ignore})
        raise UserError(f"{where}: label values {bad[:5]} are not in the card (allowed: {allowed})")
    return label, mask


def resize2d(arr: np.ndarray, shape: tuple[int, int], nearest: bool) -> np.ndarray:
    """Resize a 2-D array: bilinear for images, nearest neighbour for labels and masks."""
    if arr.shape == shape:
        return arr
    from PIL import Image

    if nearest:
        im = Image.fromarray(arr.astype(np.int32), mode="I")
        return np.asarray(im.resize(shape[::-1], Image.Resampling.NEAREST)).astype(arr.dtype)
    im = Image.fromarray(arr.astype(np.float32), mode="F")
    return np.asarray(im.resize(shape[::-1], Image.Resampling.BILINEAR), dtype=np.float32)


def random_halves_folds(ids: Sequence[str], n_folds: int, val_fraction: float, seed: int = 0) -> list[Fold]:
    """``n_folds`` random 50:50 train/test partitions; ``val_fraction`` of each train half validates."""
    folds = []
    for f in range(n_folds):
        order = [ids[i] for i in np.random.default_rng(seed + f).permutation(len(ids))]
        half = len(order) // 2
        test, train = order[:half], order[half:]
        n_val = max(1, round(val_fraction * len(train))) if len(train) > 1 else 0
        folds.append(Fold(tuple(sorted(train[n_val:])), tuple(sorted(train[:n_val])), tuple(sorted(test))))
    return folds
