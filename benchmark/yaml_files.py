"""Reading the YAML files users write (params.yaml, dataset cards, claims ledgers): one place that turns an
unreadable file or bad YAML into a one-line error naming the file and, where YAML says, the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from segrepro.errors import UserError


def read_yaml(path: Path) -> Any:
    """The document in ``path`` (``yaml.safe_load``: plain data, nothing constructed), or a ``UserError``."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise UserError(f"{path}: cannot read: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', None) or type(exc).__name__}") from exc
