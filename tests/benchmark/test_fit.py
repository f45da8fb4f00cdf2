"""fit: checkpoints at every validation, resume after kill -9 to the same result, locks, --force."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from segrepro import paths
from segrepro.checkpoint import load_checkpoint
from segrepro.cli import main
from segrepro.errors import UserError
from segrepro.fit import fit

RUN = ("--dataset", "synthetic-2d", "--baseline", "unet-dicece", "--tier", "smoke", "--quiet")

# Runs `segrepro fit` and SIGKILLs itself in the training step right after the first checkpoint is saved.
KILLED_FIT = textwrap.dedent(
    """
    import os, signal, sys
    from segrepro import fit, sampling
    from segrepro.cli import main
    saved = []
    save = fit.save_checkpoint
    fit.save_checkpoint = lambda path, ckpt: (save(path, ckpt), saved.append(ckpt["state"]["iteration"]))
    batch = sampling.PatchSampler.batch
    def batch_then_die(self, index):
        if saved:
            os.kill(os.getpid(), signal.SIGKILL)
        return batch(self, index)
    sampling.PatchSampler.batch = batch_then_die
    sys.exit(main(sys.argv[1:]))
    """
)


def cli(*args: str, env: dict, code: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "segrepro.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


@pytest.mark.slow
def test_fit_killed_with_sigkill_resumes_to_the_same_record(prepared_2d, workdir):
    base = {**os.environ, "OMP_NUM_THREADS": "1"}
    plain = {**base, "SEGREPRO_RESULTS_DIR": str(workdir / "plain")}
    killed = {**base, "SEGREPRO_RESULTS_DIR": str(workdir / "killed")}
    assert cli("run", *RUN, env=plain).returncode == 0

    first = cli("fit", *RUN, env=killed, code=KILLED_FIT)
    assert first.returncode == -9, first.stderr
    run_id = "synthetic-2d__unet-dicece__smoke__f0__s0"
    ckpt = torch.load(workdir / "killed" / "models" / run_id / "checkpoint.pt", weights_only=True)
    assert not ckpt["finished"] and ckpt["state"]["iteration"] == 15  # smoke: validation every 15 of 30

    again = cli("fit", *RUN, env=killed)
    assert again.returncode == 0 and again.stdout.startswith("resumed"), again.stderr
    assert cli("run", *RUN, env=killed).returncode == 0
    # killed, then resumed by `run` itself: the record says so (its wall time covers the resumed part only)
    run_resumed = {**base, "SEGREPRO_RESULTS_DIR": str(workdir / "run-resumed")}
    assert cli("fit", *RUN, env=run_resumed, code=KILLED_FIT).returncode == -9
    assert cli("run", *RUN, env=run_resumed).returncode == 0
    a, b, c = (
        json.loads((workdir / d / "runs" / f"{run_id}.json").read_text()) for d in ("plain", "killed", "run-resumed")
    )
    assert a["metrics"] == b["metrics"] and a["curves"] == b["curves"] and a["best_iteration"] == b["best_iteration"]
    assert c["metrics"] == a["metrics"]
    assert [r["provenance"]["training"] for r in (a, b, c)] == ["trained", "exists", "resumed"]


def test_checkpoint_holds_what_resuming_and_predicting_need(fitted, workdir):
    ckpt = load_checkpoint(paths.checkpoint_path(fitted.run_id))
    assert ckpt["finished"] and ckpt["entry"] == "unet-dicece" and ckpt["in_channels"] == 1
    assert ckpt["n_classes"] == 4 and ckpt["spatial_dims"] == 2 and len(ckpt["recipe_hash"]) == 16
    state = ckpt["state"]
    assert state["iteration"] == 30 and [it for it, _ in state["val_score"]] == [15, 30]
    assert set(state["rng"]) == {"python", "numpy", "torch", "cuda"}  # the sampler needs none: batch i = f(seed, i)
    assert state["best_iteration"] in (15, 30) and state["best_state"].keys() == state["model"].keys()
    assert state["optimizer"]["state"] and state["scheduler"]["last_epoch"] == 30


def test_finished_checkpoint_is_kept_unless_forced(fitted, workdir, capsys, monkeypatch):
    path = paths.checkpoint_path(fitted.run_id)
    before = path.read_bytes()
    assert main(["fit", *RUN]) == 0
    assert "a finished checkpoint exists" in capsys.readouterr().out and path.read_bytes() == before
    assert fit(fitted, force=True, progress=False).action == "trained"
    after = load_checkpoint(path)
    assert after["finished"] and path.read_bytes() != before  # trained again (same seed: same weights)


def test_checkpoint_of_another_recipe_is_not_resumed(fitted, workdir):
    path = paths.checkpoint_path(fitted.run_id)
    ckpt = load_checkpoint(path)
    torch.save({**ckpt, "finished": False, "recipe_hash": "0" * 16}, path)
    with pytest.raises(UserError, match="made with another recipe_hash; give --force"):
        fit(fitted, progress=False)


def test_truncated_checkpoint_is_a_one_line_error(fitted, workdir, capsys):
    path = paths.checkpoint_path(fitted.run_id)
    path.write_bytes(path.read_bytes()[:100])
    assert main(["fit", *RUN]) == 2
    err = capsys.readouterr().err
    assert "not a readable segrepro checkpoint" in err and len(err.strip().splitlines()) == 1
