"""One lock per run id: a second process waits for the first and then finds its results."""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from segrepro.locks import run_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from segrepro.locks import run_lock
    with run_lock("r1"):
        print("held", flush=True)
        time.sleep(float(sys.argv[1]))
    """
)


def test_second_holder_waits_and_says_so(workdir, capsys):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "1.5"], stdout=subprocess.PIPE, text=True, env=os.environ)
    assert holder.stdout.readline().strip() == "held"
    t0 = time.perf_counter()
    with run_lock("r1"):
        waited = time.perf_counter() - t0
    assert holder.wait(timeout=30) == 0
    assert waited > 1.0 and "another process is working on r1; waiting" in capsys.readouterr().err
    with run_lock("r2"), run_lock("r2"):  # re-entrant within a process (run holds it around fit)
        pass


@pytest.mark.slow
def test_two_identical_runs_at_once_do_not_corrupt_each_other(prepared_2d, workdir):
    args = [
        sys.executable,
        "-m",
        "segrepro.cli",
        "run",
        "--dataset",
        "synthetic-2d",
        "--baseline",
        "unet-ce",
        "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    stdout = "".join(o for o, _ in outs)
    assert stdout.count("mean foreground dice") == 1 and stdout.count("a record exists") == 1
    assert "waiting for it to finish" in "".join(e for _, e in outs)
    record = json.loads((workdir / "results" / "runs" / "synthetic-2d__unet-ce__smoke__f0__s0.json").read_text())
    assert record["status"] == "ok"
