"""segrepro run-plan on each executor (local processes, a Ray cluster started here, submitit's local
executor for SLURM): done runs skipped, a failed run reported while the other finishes, a killed run
resumed from its checkpoint; bad input (unreachable Ray, missing extra) is one line and writes nothing."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segrepro import paths
from segrepro.checkpoint import load_checkpoint
from segrepro.cli import main
from segrepro.datasets import get_dataset
from segrepro.plan import Selection, format_plan, plan_lines
from segrepro.runspec import RunSpec

GOOD = RunSpec("synthetic-2d", "unet-ce")
BAD = RunSpec("synthetic-3d", "unet-ce")  # its prepared images are truncated: the run fails


def write_plan(workdir: Path, sel: Selection) -> Path:
    path = workdir / "plan.jsonl"
    path.write_text(format_plan(plan_lines(sel)))
    return path


@pytest.fixture
def plan_good_and_bad(workdir: Path) -> Path:
    """A plan of two smoke runs: GOOD on synthetic-2d, BAD on synthetic-3d whose images were truncated."""
    for name in ("synthetic-2d", "synthetic-3d"):
        get_dataset(name).prepare(paths.raw_dir(name), paths.prepared_dir(name))
    plan = write_plan(workdir, Selection(("synthetic-2d", "synthetic-3d"), ("unet-ce",)))
    for image in (paths.prepared_dir("synthetic-3d") / "images").glob("*.npy"):
        image.write_bytes(image.read_bytes()[:100])
    return plan


def outcomes(workdir: Path, plan: Path) -> dict[str, dict]:
    lines = (workdir / "results" / "plans" / f"{plan.name}.outcomes.jsonl").read_text().splitlines()
    return {o["run_id"]: o for o in map(json.loads, lines)}


def record(spec: RunSpec) -> dict:
    return json.loads(paths.run_record(spec.run_id).read_text())


def assert_good_done_bad_failed(workdir: Path, plan: Path, last_line: str) -> dict[str, dict]:
    assert record(GOOD)["status"] == "ok"
    assert not paths.run_record(BAD.run_id).exists()  # refused before work: corrupted data, no record
    found = outcomes(workdir, plan)
    assert found[GOOD.run_id]["state"] == "done"
    assert found[BAD.run_id]["state"] == "failed" and "truncated or changed" in found[BAD.run_id]["reason"]
    assert last_line.startswith("1 done, 0 already done, 1 failed; records in ")
    assert last_line.endswith(f"failed: {BAD.run_id}")
    return found


def kill_mid_fit(spec: RunSpec) -> None:
    """Start ``segrepro fit`` for ``spec`` and SIGKILL it once its first (unfinished) checkpoint is saved."""
    args = ["fit", "--dataset", spec.dataset, "--baseline", spec.baseline, "--tier", spec.tier, "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-m", "segrepro.cli", *args], env=env)
    ckpt = paths.checkpoint_path(spec.run_id)
    deadline = time.monotonic() + 300
    while not ckpt.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert load_checkpoint(ckpt)["finished"] is False, "the kill came after training finished"


@pytest.mark.slow
def test_local_two_jobs_one_fails_the_other_finishes_and_a_rerun_skips_it(plan_good_and_bad, workdir, capsys):
    assert main(["run-plan", str(plan_good_and_bad), "--jobs", "2", "--quiet"]) == 1
    out = capsys.readouterr()
    assert_good_done_bad_failed(workdir, plan_good_and_bad, out.out.strip().splitlines()[-1])
    assert f"{BAD.run_id}: FAILED (" in out.err
    before = paths.run_record(GOOD.run_id).read_bytes()
    assert main(["run-plan", str(plan_good_and_bad), "--jobs", "2", "--quiet", "--allow-failure"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("0 done, 1 already done, 1 failed")
    assert paths.run_record(GOOD.run_id).read_bytes() == before


@pytest.mark.slow
def test_ray_runs_one_task_per_run_a_failure_and_a_killed_run_resumed(plan_good_and_bad, workdir, capsys):
    import ray

    kill_mid_fit(GOOD)
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    try:
        assert main(["run-plan", str(plan_good_and_bad), "--executor", "ray", "--quiet"]) == 1
    finally:
        ray.shutdown()
    found = assert_good_done_bad_failed(workdir, plan_good_and_bad, capsys.readouterr().out.strip().splitlines()[-1])
    assert found[GOOD.run_id]["resumed"] is True
    assert load_checkpoint(paths.checkpoint_path(GOOD.run_id))["finished"] is True


@pytest.mark.slow
def test_slurm_job_array_through_submitits_local_executor(plan_good_and_bad, workdir, capsys):
    args = ["run-plan", str(plan_good_and_bad), "--executor", "slurm", "--cluster", "local", "--cpus", "1", "--quiet"]
    assert main(args) == 1
    out = capsys.readouterr()
    assert_good_done_bad_failed(workdir, plan_good_and_bad, out.out.strip().splitlines()[-1])
    assert "submitted job array" in out.err
    assert any((workdir / "results" / "slurm").glob("*_result.pkl"))  # submitit's own job files


def test_slurm_dry_run_shows_the_sbatch_parameters_from_flags(prepared_2d, workdir, capsys):
    plan = write_plan(workdir, Selection(("synthetic-2d",), ("unet-ce", "unet-dicece"), seeds=(0, 1)))
    flags = ["--partition", "gpu", "--gpus", "1", "--time", "30", "--mem", "8", "--cpus", "6"]
    assert main(["run-plan", str(plan), "--executor", "slurm", "--dry-run", *flags, "--array-parallelism", "3"]) == 0
    out = capsys.readouterr().out
    for line in (
        "--partition=gpu",
        "--gpus-per-node=1",
        "--time=30",
        "--mem=8GB",
        "--cpus-per-task=6",
        "--array=0-3%3",
    ):
        assert f"#SBATCH {line}\n" in out
    assert out.strip().splitlines()[-4:] == [
        s.run_id for s in Selection(("synthetic-2d",), ("unet-ce", "unet-dicece"), seeds=(0, 1)).specs()
    ]
    assert not (workdir / "results").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def plan_and_done_record(prepared_2d, workdir: Path) -> tuple[Path, bytes]:
    """A two-run plan, and a done record of another run that bad input must leave alone."""
    plan = write_plan(workdir, Selection(("synthetic-2d",), ("unet-ce",), seeds=(0, 1)))
    other = paths.run_record("synthetic-2d__unet-dicece__smoke__f0__s0")
    other.parent.mkdir(parents=True)
    other.write_text('{"status": "ok"}')
    return plan, other.read_bytes()


def assert_one_line_and_nothing_written(capsys, workdir: Path, before: bytes, message: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert [p.name for p in (workdir / "results" / "runs").iterdir()] == [
        "synthetic-2d__unet-dicece__smoke__f0__s0.json"
    ]
    assert paths.run_record("synthetic-2d__unet-dicece__smoke__f0__s0").read_bytes() == before
    assert [p.name for p in (workdir / "results").iterdir()] == ["runs"]  # no plans/, models/, slurm/, locks/


def test_unreachable_ray_address_is_one_line_error(plan_and_done_record, workdir, capsys):
    plan, before = plan_and_done_record
    address = f"127.0.0.1:{free_port()}"
    assert main(["run-plan", str(plan), "--executor", "ray", "--address", address, "--quiet"]) == 2
    assert_one_line_and_nothing_written(capsys, workdir, before, f"cannot reach the Ray cluster at {address}")


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("ray", ["--executor", "ray"]),
        ("submitit", ["--executor", "slurm"]),
        ("submitit", ["--executor", "slurm", "--dry-run"]),
    ],
)
def test_missing_extra_is_one_line_error_naming_it(plan_and_done_record, workdir, capsys, monkeypatch, module, args):
    plan, before = plan_and_done_record
    monkeypatch.setitem(sys.modules, module, None)  # `import ray` / `import submitit` raises ImportError
    assert main(["run-plan", str(plan), *args, "--quiet"]) == 2
    message = (
        f"needs {'Ray' if module == 'ray' else 'submitit'}, which is not installed: pip install 'segrepro[cluster]'"
    )
    assert_one_line_and_nothing_written(capsys, workdir, before, message)


def test_slurm_without_slurm_here_is_one_line_error(plan_and_done_record, workdir, capsys, monkeypatch):
    plan, before = plan_and_done_record
    monkeypatch.setenv("PATH", str(workdir / "no-bin"))  # no srun on PATH, as on a machine without SLURM
    assert main(["run-plan", str(plan), "--executor", "slurm", "--quiet"]) == 2
    assert_one_line_and_nothing_written(capsys, workdir, before, "no SLURM on this machine (srun not found)")
