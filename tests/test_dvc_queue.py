"""The DVC queue (README, "Run on a cluster"): two smoke experiments queued with `dvc exp run --queue`, run
by `dvc queue start -j 2`; both succeed, `dvc exp show` has their scores and each one's record lands."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml


def dvc(repo: Path, *args: str, env: dict[str, str]) -> str:
    # stdout to a file, not a pipe: `dvc queue start` leaves workers behind that keep a pipe open
    with open(repo.parent / "dvc.out", "w+") as out:
        done = subprocess.run(["dvc", *args], cwd=repo, stdout=out, stderr=subprocess.STDOUT, env=env)
        out.seek(0)
        text = out.read()
    assert done.returncode == 0, text
    return text


@pytest.mark.slow
def test_two_queued_smoke_runs_finish_and_their_records_land(repo_copy):
    if shutil.which("dvc") is None or shutil.which("segrepro") is None:
        pytest.fail("dvc and segrepro must be on PATH; run the tests through `make test`")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGREPRO_")}
    env["OMP_NUM_THREADS"] = "1"
    repo = repo_copy
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params.update(datasets=["synthetic-2d"], baselines=["unet-ce"], tier="smoke", seeds=[0])
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    git = ["git", "-c", "user.name=segrepro-test", "-c", "user.email=test@segrepro.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "benchmark"], cwd=repo, check=True)
    for name, seed in (("seed-0", 0), ("seed-1", 1)):
        dvc(repo, "exp", "run", "--queue", "--name", name, "-S", f"seeds=[{seed}]", env=env)
    dvc(repo, "queue", "start", "-j", "2", env=env)
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        status = dvc(repo, "queue", "status", env=env)
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(5)
    try:
        assert status.count("Success") == 2, status
        shown = json.loads(dvc(repo, "exp", "show", "--json", env=env))
        scores = {
            rev["name"]: rev["data"]["metrics"]["results/dvc/metrics.json"]["data"]["synthetic-2d"]["unet-ce"]["smoke"]
            for commit in shown
            for group in commit.get("experiments") or []
            for rev in group["revs"]
        }
        assert set(scores) == {"seed-0", "seed-1"} and all(
            s["n_runs"] == 1 and s["n_failed"] == 0 for s in scores.values()
        )
        for name, seed in (("seed-0", 0), ("seed-1", 1)):
            dvc(repo, "exp", "apply", name, env=env)
            record = json.loads(
                (repo / "results" / "runs" / f"synthetic-2d__unet-ce__smoke__f0__s{seed}.json").read_text()
            )
            assert record["status"] == "ok" and record["seed"] == seed
            assert record["metrics"]["canonical"]["mean"]["dice"] == pytest.approx(scores[name]["dice_mean"])
    finally:
        subprocess.run(["dvc", "queue", "stop", "--kill"], cwd=repo, env=env, capture_output=True)
