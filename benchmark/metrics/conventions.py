"""How scores are formed from counts, as explicit parameters: one frozen ``Convention`` per way of
scoring, and a registry of the papers' conventions so each baseline entry can name its own.

The papers differ in four choices, which every convention states:
- ``per_image``: score each image, then average over images (True), or pool the counts of all
  images, then score once (False);
- ``slices``: the images are the 2-D slices of each volume (along axis 0) instead of the volumes;
- ``undefined``: what a score with a zero denominator counts as (the typical case: a class absent
  from both the prediction and the ground truth of an image): left out of the averages
  (``exclude``), 0 (``zero``), 1 (``one``) or NaN that propagates into the average (``nan``);
- ``skip_empty``: images whose scored ground truth has no foreground voxel are left out.
Images with no scored voxel at all (fully masked) are always left out: they hold no evidence.
``include_background`` says whether the mean over classes includes class 0.

Three more choices serve papers that score multi-label sigmoid outputs (paper 000):
- ``present_only``: per image, a class is scored only on the images whose ground truth contains it
  (an image without the class neither counts as 0 nor as 1 for it);
- ``multi_label``: the counts come from each class channel thresholded on its own (a voxel may be
  in several classes or none), as the entry's ``decide_each`` gives them, not from one class map;
- ``auc``: ``roc`` is the area under the ROC curve of the continuous scores; ``thresholded`` is the
  area under the ROC "curve" of the thresholded output, one operating point: (TPR + TNR) / 2.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from segrepro.errors import UserError
from segrepro.metrics.confusion import scores_from_counts

Undefined = Literal["exclude", "zero", "one", "nan"]
AucKind = Literal["roc", "thresholded"]
_FILL = {"zero": 0.0, "one": 1.0}


@dataclass(frozen=True)
class Convention:
    """One way of turning per-image confusion counts into per-class scores and their class mean."""

    name: str
    description: str
    per_image: bool = False
    slices: bool = False
    undefined: Undefined = "exclude"
    skip_empty: bool = False
    include_background: bool = False
    present_only: bool = False
    multi_label: bool = False
    auc: AucKind = "roc"
    paper: str = ""
    reconstruction: str = ""

    def __post_init__(self) -> None:
        if self.undefined not in ("exclude", "zero", "one", "nan"):
            raise ValueError(f"undefined must be exclude, zero, one or nan, not {self.undefined!r}")
        if self.auc not in ("roc", "thresholded"):
            raise ValueError(f"auc must be roc or thresholded, not {self.auc!r}")

    @property
    def slice_axis(self) -> int | None:
        """The axis whose 2-D slices are the images, or None when images are whole volumes."""
        return 0 if self.slices else None

    def to_dict(self) -> dict:
        return asdict(self)

    def kept(self, counts: np.ndarray) -> np.ndarray:
        """``(N,)`` which images of ``(N, K, 4)`` counts take part: scored voxels, and foreground if asked."""
        counts = np.asarray(counts)
        keep = counts[:, 0, :].sum(axis=1) > 0
        if self.skip_empty:
            keep &= (counts[:, 1:, 0] + counts[:, 1:, 2]).sum(axis=1) > 0  # TP + FN = ground truth
        return keep

    def fill(self, values: np.ndarray) -> np.ndarray:
        """Undefined (NaN) scores replaced as the convention says (``exclude`` and ``nan`` keep NaN)."""
        values = np.asarray(values, dtype=np.float64)
        if self.undefined in _FILL:
            return np.where(np.isnan(values), _FILL[self.undefined], values)
        return values

    def _mean(self, values: np.ndarray, axis: int) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an empty or all-NaN average is NaN, on purpose
            return values.mean(axis=axis) if self.undefined == "nan" else np.nanmean(values, axis=axis)

    def average(self, per_image: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """``(K,)`` per-class average of ``(N, K)`` per-image scores over the images the convention keeps
        (``counts`` are the same N images' ``(N, K, 4)``); with ``present_only``, class k averages only
        over the kept images whose ground truth contains it. No image left: NaN."""
        counts = np.asarray(counts)
        keep = self.kept(counts)
        values = self.fill(np.asarray(per_image, dtype=np.float64)[keep])
        if not self.present_only:
            return self._mean(values, axis=0) if values.shape[0] else np.full(counts.shape[1], np.nan)
        present = (counts[keep, :, 0] + counts[keep, :, 2]) > 0  # TP + FN: the class is in the ground truth
        return np.array([self._mean(values[present[:, k], k], axis=0) for k in range(counts.shape[1])])

    def class_mean(self, per_class: np.ndarray, include_background: bool | None = None) -> float:
        """Mean over classes 1..K-1 (or 0..K-1): a class whose score is NaN is left out unless ``undefined='nan'``."""
        with_bg = self.include_background if include_background is None else include_background
        values = np.asarray(per_class, dtype=np.float64)[0 if with_bg else 1 :]
        return float(self._mean(values, axis=0)) if values.size else float("nan")

    def scores(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Per-class scores ``{metric: (K,)}`` from ``(N, K, 4)`` counts of N images (or slices); with
        ``auc="thresholded"`` also ``auc``, the (TPR + TNR) / 2 of the decisions the counts come from."""
        counts = np.asarray(counts)
        if not self.per_image:
            out = {m: self.fill(v) for m, v in scores_from_counts(counts[self.kept(counts)].sum(axis=0)).items()}
        else:
            out = {m: self.average(v, counts) for m, v in scores_from_counts(counts).items()}
        if self.auc == "thresholded":
            out["auc"] = out["balanced_accuracy"]
        return out


CONVENTIONS: dict[str, Convention] = {}


def register_convention(convention: Convention) -> Convention:
    """Add a convention to the registry; a duplicate name is an error, never a silent override."""
    if convention.name in CONVENTIONS:
        raise ValueError(f"convention {convention.name!r} is already registered")
    CONVENTIONS[convention.name] = convention
    return convention


def get_convention(name: str) -> Convention:
    """The registered convention ``name``, or a ``UserError`` listing the known ones."""
    if name in CONVENTIONS:
        return CONVENTIONS[name]
    close = difflib.get_close_matches(name, CONVENTIONS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UserError(f"unknown convention {name!r}{hint} Known: {', '.join(sorted(CONVENTIONS))}")


CANONICAL = register_convention(
    Convention(
        name="canonical",
        description="counts pooled over all test images (whole volumes), then scored; a class with an "
        "undefined score is left out of the mean over foreground classes",
    )
)
register_convention(
    Convention(
        name="yudistira2020",
        description="per image, then averaged over images; each class only on the images whose ground truth "
        "contains it; images without any foreground class excluded; multi-label decisions (each class channel "
        "thresholded on its own); AUC = (TPR + TNR) / 2 of the thresholded output; an undefined score in an "
        "image that contains the class (e.g. precision with nothing predicted) counts as 0",
        per_image=True,
        undefined="zero",
        skip_empty=True,
        present_only=True,
        multi_label=True,
        auc="thresholded",
        paper="000",
        reconstruction="read from the printed numbers (METHODS.md 000): the recalls rule out scoring a class on "
        "images without it, and all 18 rows with recall 0.0000 print AUC 0.5000, i.e. (TPR + TNR) / 2 of the "
        "thresholded output; that an undefined score (precision with nothing predicted) counts as 0 is our reading "
        "of the paper's remark that zero TP lowers the averages",
    )
)
register_convention(
    Convention(
        name="fujii2021",
        description="IoU per class from counts pooled over the test crops; mean over all classes",
        include_background=True,
        paper="001",
        reconstruction="pooled (not per crop) is our reading; the paper says only 'IoU of each class and "
        "mean IoU, the average IoU of all classes'",
    )
)
register_convention(
    Convention(
        name="guerrero2020",
        description="pooled like canonical for the semantic scores; the paper itself reports instance "
        "metrics (P05, RQ, SQ, PQ at IoU > 0.5)",
        paper="002",
    )
)
register_convention(
    Convention(
        name="meyer2021",
        description="per 2-D slice, then averaged over slices; a slice where a score is undefined is left out",
        per_image=True,
        slices=True,
        paper="003",
        reconstruction="leaving out slices where a class is absent (instead of scoring them 0 or 1) is our reading",
    )
)
register_convention(
    Convention(
        name="zerovnik2020",
        description="per test volume, then averaged over volumes (leave-one-volume-out folds)",
        per_image=True,
        paper="004",
    )
)
