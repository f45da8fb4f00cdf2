"""Checkpoint files of the fit stage: ``results/models/<run_id>/checkpoint.pt``, written atomically
and read with ``weights_only`` (no code runs from a file someone hands over)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from segrepro.errors import UserError
from segrepro.io import write_with_atomic

CHECKPOINT_FORMAT = 1


def save_checkpoint(path: Path, ckpt: dict[str, Any]) -> None:
    write_with_atomic(path, lambda f: torch.save(ckpt, f))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint written by ``fit``, or a one-line ``UserError`` naming the file."""
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; train it first with segrepro fit (or segrepro run)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise UserError(f"{path}: not a readable segrepro checkpoint ({type(exc).__name__}); fit it again") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path}: not a segrepro checkpoint (format {CHECKPOINT_FORMAT})")
    return ckpt
