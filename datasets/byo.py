"""Datasets whose files users bring themselves (private, not redistributable, or not downloadable
from here): the adapter states the layout it expects and fails with one line when it is not there.

``fetch`` cannot download such data; with ``--source DIR`` it copies the user's folder (in the
stated layout, checked on its first volume before anything is copied) into ``data/raw/<name>``,
atomically, so the DVC ``fetch`` stage works for them too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from segrepro.datasets.adapter import DatasetAdapter
from segrepro.errors import UserError
from segrepro.io import NO_SPACE, no_space_error, replace_dir_atomic, staging_dir


class BringYourOwnAdapter(DatasetAdapter):
    """Base of the adapters that read user-provided files; ``layout`` says which files, where."""

    layout: str
    where_to_get: str = "the data is not public: use your own copy"

    def fetch(self, raw_dir: Path, mirror: Path | None = None, base_url: str | None = None) -> None:
        """Copy ``mirror`` (the user's folder in the expected layout) into ``raw_dir``."""
        if base_url is not None:
            raise UserError(f"{self.card.name} cannot be downloaded ({self.where_to_get}); use --source DIR")
        if mirror is None:
            if raw_dir.is_dir() and any(raw_dir.iterdir()):
                return
            raise UserError(
                f"{self.card.name} cannot be downloaded ({self.where_to_get}): put your files in {raw_dir} "
                f"({self.layout}) or run: segrepro datasets fetch {self.card.name} --source DIR"
            )
        if mirror.resolve() == raw_dir.resolve():
            return
        self._check_layout(mirror)
        stage = staging_dir(raw_dir)

        def copy(src: str, dst: str) -> object:
            try:
                return shutil.copy2(src, dst)
            except OSError as exc:  # raised past copytree, which would only collect it
                if exc.errno in NO_SPACE:
                    raise no_space_error(raw_dir) from exc
                raise UserError(f"{src}: cannot copy it ({exc.strerror})") from exc

        try:
            shutil.copytree(mirror, stage, dirs_exist_ok=True, copy_function=copy)
            replace_dir_atomic(stage, raw_dir)
        except shutil.Error as exc:  # e.g. a dangling link in the folder
            src, _, why = exc.args[0][0]
            raise UserError(f"{src}: cannot copy it into {raw_dir} ({why})") from exc
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def _check_layout(self, folder: Path) -> None:
        """Read the first volume of ``folder``: a folder in another layout fails before any copy."""
        try:
            first = next(iter(self.volumes(folder)), None)
        except UserError as exc:
            raise UserError(f"{folder} is not in the {self.card.name} layout, nothing copied: {exc}") from exc
        if first is None:
            raise self.missing(folder)

    def missing(self, path: Path) -> UserError:
        """The one-line error for a file or folder of the layout that is not there."""
        return UserError(f"{path}: missing; {self.card.name} expects {self.layout}")
