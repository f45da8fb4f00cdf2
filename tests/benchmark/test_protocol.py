"""A run that breaks after it started is recorded as failed, with its reason."""

import json

from segrepro import protocol
from segrepro.protocol import RunSpec, execute


def test_failure_is_recorded_with_reason(prepared_2d, workdir, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("out of memory on purpose")

    monkeypatch.setattr(protocol, "_train_and_evaluate", boom)
    record = execute(RunSpec("synthetic-2d", "unet-ce"), progress=False)
    assert record["status"] == "failed"
    assert record["reason"] == "RuntimeError: out of memory on purpose"
    on_disk = json.loads((workdir / "results" / "runs" / f"{record['run_id']}.json").read_text())
    assert on_disk["status"] == "failed" and on_disk["metrics"] is None
