"""Warm starts through checkpoints (paper 004's TRAN): the source run's weights, all but the last layer,
start the new run, which records the checkpoint it began from; a missing, unfinished or stale source says
which command makes it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from segrepro import paths
from segrepro.baselines import get_baseline
from segrepro.baselines.zerovnik2020.transfer import last_layer
from segrepro.checkpoint import load_checkpoint, save_checkpoint
from segrepro.datasets import get_dataset, load_prepared
from segrepro.errors import UserError
from segrepro.protocol import RunSpec, execute
from segrepro.warmstart import file_sha256, load_warm_start

SOURCE, TRAN = "zerovnik2020-highres3dnet-any", "zerovnik2020-highres3dnet-tran"


@pytest.fixture
def prepared_3d(workdir):
    return get_dataset("synthetic-3d").prepare(paths.raw_dir("synthetic-3d"), paths.prepared_dir("synthetic-3d"))


def test_a_tran_run_starts_from_its_source_checkpoint_and_records_it(prepared_3d):
    source = execute(RunSpec("synthetic-3d", SOURCE), progress=False).record
    assert source["status"] == "ok", source.get("reason")
    assert source["provenance"]["warm_start"] is None
    source_ckpt = paths.checkpoint_path(source["run_id"])
    spec = RunSpec("synthetic-3d", TRAN)
    entry, data = get_baseline(TRAN), load_prepared("synthetic-3d")

    warm = load_warm_start(spec, entry, data)
    model = entry.build_model(data.class_names, 3, "smoke")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    copied = warm.init(model)
    best = load_checkpoint(source_ckpt)["state"]["best_state"]
    assert copied and not set(copied) & set(last_layer(model))
    for k in copied:
        torch.testing.assert_close(model.state_dict()[k], best["heads.0." + k])
    assert all(torch.equal(model.state_dict()[k], before[k]) for k in last_layer(model))

    record = execute(spec, progress=False).record
    assert record["status"] == "ok", record.get("reason")
    started = record["provenance"]["warm_start"]
    assert started["run_id"] == source["run_id"] == "synthetic-3d__zerovnik2020-highres3dnet-any__smoke__f0__s0"
    assert started["checkpoint"] == source["checkpoint"]
    assert started["sha256"] == file_sha256(source_ckpt)
    assert started["recipe_hash"] == source["recipe_hash"]
    assert load_checkpoint(paths.checkpoint_path(spec.run_id))["warm_start"] == started


def test_a_tran_entry_without_its_source_names_the_command_in_one_line(prepared_3d):
    with pytest.raises(UserError) as err:
        execute(RunSpec("synthetic-3d", TRAN, fold=1, seed=3), progress=False)
    message = str(err.value)
    assert "\n" not in message
    assert f"`segrepro run --dataset synthetic-3d --baseline {SOURCE} --fold 1 --seed 3 --tier smoke`" in message
    assert not paths.checkpoint_path(RunSpec("synthetic-3d", TRAN, fold=1, seed=3).run_id).exists()


def test_the_cli_says_it_in_one_line_and_exits_non_zero(prepared_3d, workdir):
    args = ["run", "--dataset", "synthetic-3d", "--baseline", "zerovnik2020-pipeline", "--quiet"]
    proc = subprocess.run(
        [sys.executable, "-m", "segrepro.cli", *args],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=os.environ.copy(),
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "`segrepro run --dataset synthetic-3d --baseline zerovnik2020-pipeline-any --fold 0 --seed 0" in line


def test_a_source_unfinished_or_trained_on_other_data_is_refused(prepared_3d, monkeypatch):
    execute(RunSpec("synthetic-3d", SOURCE), progress=False)
    data = load_prepared("synthetic-3d")
    path = paths.checkpoint_path(RunSpec("synthetic-3d", SOURCE).run_id)
    finished = load_checkpoint(path)
    save_checkpoint(path, {**finished, "finished": False})
    with pytest.raises(UserError, match=r"is unfinished: finish it with `segrepro run .*--baseline " + SOURCE):
        load_warm_start(RunSpec("synthetic-3d", TRAN), get_baseline(TRAN), data)
    save_checkpoint(path, finished)
    monkeypatch.setattr(type(data), "data_hash", property(lambda self: "another"))
    with pytest.raises(UserError, match=r"another version of synthetic-3d.*--force"):
        load_warm_start(RunSpec("synthetic-3d", TRAN), get_baseline(TRAN), data)
