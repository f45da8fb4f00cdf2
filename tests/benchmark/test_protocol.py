"""run = fit -> predict -> score: arguments and destinations checked before any work, existing records
kept unless --force, failures recorded but never over an ok record."""

import json

import pytest
import torch

from segrepro import protocol
from segrepro.cli import main
from segrepro.errors import UserError
from segrepro.fit import FitOutcome
from segrepro.protocol import RunSpec, execute


def refuse_work(*args, **kwargs):
    raise AssertionError("work started before the checks")


def boom(*args, **kwargs):
    raise RuntimeError("out of memory on purpose")


def test_failure_is_recorded_with_reason(prepared_2d, workdir, monkeypatch):
    monkeypatch.setattr(protocol, "fit", boom)
    outcome = execute(RunSpec("synthetic-2d", "unet-ce"), progress=False)
    record = outcome.record
    assert outcome.action == "written" and record["status"] == "failed"
    assert record["reason"] == "RuntimeError: out of memory on purpose"
    on_disk = json.loads((workdir / "results" / "runs" / f"{record['run_id']}.json").read_text())
    assert on_disk["status"] == "failed" and on_disk["metrics"] is None


@pytest.mark.parametrize("seed", [-1, 2**63, 2**70])
def test_bad_seed_is_refused_before_any_work(prepared_2d, workdir, monkeypatch, capsys, seed):
    monkeypatch.setattr(protocol, "fit", refuse_work)
    assert main(["run", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--seed", str(seed)]) == 2
    assert "--seed must be between 0 and 2**63 - 1" in capsys.readouterr().err
    assert not (workdir / "results").exists()


def test_largest_seed_is_accepted(prepared_2d, workdir, monkeypatch):
    monkeypatch.setattr(protocol, "fit", boom)
    record = execute(RunSpec("synthetic-2d", "unet-ce", seed=2**63 - 1), progress=False).record
    assert record["seed"] == 2**63 - 1 and record["reason"].startswith("RuntimeError")


def test_unwritable_destination_is_refused_before_any_work(prepared_2d, workdir, monkeypatch):
    monkeypatch.setattr(protocol, "fit", refuse_work)
    (workdir / "results").mkdir()
    (workdir / "results" / "models").write_text("a file where the models folder should be")
    with pytest.raises(UserError, match=r"cannot write to .*models"):
        execute(RunSpec("synthetic-2d", "unet-ce"), progress=False)
    assert not (workdir / "results" / "runs").exists() or not any((workdir / "results" / "runs").iterdir())


def test_existing_record_is_kept_unless_forced(fitted, workdir, monkeypatch, capsys):
    path = workdir / "results" / "runs" / f"{fitted.run_id}.json"
    before = path.read_text()
    monkeypatch.setattr(protocol, "fit", refuse_work)
    args = ["run", "--dataset", fitted.dataset, "--baseline", fitted.baseline, "--quiet"]
    assert main(args) == 0
    assert "a record exists" in capsys.readouterr().out and path.read_text() == before
    calls = []
    monkeypatch.setattr(
        protocol, "fit", lambda spec, force, progress: calls.append(force) or FitOutcome(spec.checkpoint, "exists")
    )
    assert main([*args, "--force"]) == 0  # the checkpoint is reused by the stub; predict and score run again
    assert calls == [True] and json.loads(path.read_text())["status"] == "ok"
    assert json.loads(path.read_text())["provenance"]["started"] >= json.loads(before)["provenance"]["started"]
    assert json.loads(path.read_text())["provenance"]["training"] == "exists"


def test_ok_record_is_never_replaced_by_a_failure(fitted, workdir, monkeypatch, capsys):
    path = workdir / "results" / "runs" / f"{fitted.run_id}.json"
    before = path.read_text()
    monkeypatch.setattr(protocol, "fit", boom)
    args = ["run", "--dataset", fitted.dataset, "--baseline", fitted.baseline, "--quiet", "--force"]
    assert main(args) == 1
    assert "the existing ok record" in capsys.readouterr().err and path.read_text() == before
    outcome = execute(fitted, progress=False, force=True)
    assert outcome.action == "kept" and outcome.record["status"] == "failed" and path.read_text() == before


def test_failed_record_is_replaced_by_a_failure_or_a_success(fitted, workdir, monkeypatch):
    path = workdir / "results" / "runs" / f"{fitted.run_id}.json"
    ok = json.loads(path.read_text())
    path.write_text(json.dumps({**ok, "status": "failed", "metrics": None, "reason": "earlier"}))
    monkeypatch.setattr(protocol, "fit", boom)
    assert execute(fitted, progress=False, force=True).action == "written"
    assert json.loads(path.read_text())["reason"] == "RuntimeError: out of memory on purpose"


def test_record_says_the_load_the_wall_time_was_measured_under(fitted, workdir):
    record = json.loads((workdir / "results" / "runs" / f"{fitted.run_id}.json").read_text())
    load = record["provenance"]["load_average"]
    assert set(load) == {"start", "end"} and all(isinstance(v, float) and v >= 0 for v in load.values())
    assert record["provenance"]["cpu"].endswith(f"logical CPUs, {torch.backends.cpu.get_cpu_capability()}")
