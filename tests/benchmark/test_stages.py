"""fit, predict, score as separate commands on synthetic-2d and synthetic-3d give the record run gives."""

import json

import pytest

from segrepro import paths
from segrepro.cli import main
from segrepro.datasets import get_dataset


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["synthetic-2d", "synthetic-3d"])
def test_fit_predict_score_equal_run(workdir, monkeypatch, dataset):
    get_dataset(dataset).prepare(paths.raw_dir(dataset), paths.prepared_dir(dataset))
    args = ["--dataset", dataset, "--baseline", "unet-ce", "--tier", "smoke", "--quiet"]
    assert main(["fit", *args]) == 0
    assert main(["predict", *args, "--probabilities"]) == 0
    assert main(["score", *args]) == 0
    run_id = f"{dataset}__unet-ce__smoke__f0__s0"
    staged = json.loads((workdir / "results" / "runs" / f"{run_id}.json").read_text())
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(workdir / "again"))
    assert main(["run", *args]) == 0
    ran = json.loads((workdir / "again" / "runs" / f"{run_id}.json").read_text())
    assert staged["status"] == ran["status"] == "ok"
    assert staged["metrics"] == ran["metrics"] and staged["curves"] == ran["curves"]
