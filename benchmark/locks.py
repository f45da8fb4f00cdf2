"""One lock per run id, so that two identical commands never write the same checkpoint, predictions
or record at once: the second waits for the first (and then finds its results)."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from segrepro import paths
from segrepro.io import check_writable

_held: set[str] = set()  # run ids this process holds, so fit -> predict -> score inside run nest freely


@contextmanager
def run_lock(run_id: str) -> Iterator[None]:
    """Hold ``results/locks/<run_id>.lock`` (``fcntl.flock``; released by the OS if the process dies)."""
    if run_id in _held:
        yield
        return
    folder = paths.results_dir() / "locks"
    check_writable(folder)
    fd = os.open(folder / f"{paths.check_slug(run_id, 'run id')}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"segrepro: another process is working on {run_id}; waiting for it to finish", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _held.add(run_id)
        try:
            yield
        finally:
            _held.discard(run_id)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
