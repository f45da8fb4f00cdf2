"""score: the record from the checkpoint and the saved test predictions, equal to run's own."""

import json

import pytest

from segrepro.cli import main
from segrepro.predict import predict_split, predictions_dir
from segrepro.protocol import rescore


def test_rescoring_gives_the_run_record_again(fitted, workdir, capsys):
    path = workdir / "results" / "runs" / f"{fitted.run_id}.json"
    first = json.loads(path.read_text())
    assert first["checkpoint"] == f"models/{fitted.run_id}/checkpoint.pt"
    assert all((workdir / "results" / p).is_file() for p in first["prediction_files"])
    args = ["score", "--dataset", fitted.dataset, "--baseline", fitted.baseline, "--quiet"]
    assert main(args) == 0 and "a record exists" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    second = json.loads(path.read_text())
    for key in ("metrics", "curves", "best_iteration", "recipe_hash", "checkpoint", "prediction_files", "n_parameters"):
        assert second[key] == first[key], key


def test_scoring_needs_probabilities(fitted, workdir):
    predict_split(fitted, "test", probabilities=False, progress=False)
    with pytest.raises(Exception, match="has no probabilities; run: segrepro predict"):
        rescore(fitted, progress=False, force=True)


def test_missing_predictions_are_named(fitted, workdir, capsys):
    for f in (predictions_dir(fitted.run_id) / "test").iterdir():
        f.unlink()
        break
    assert main(["score", "--dataset", fitted.dataset, "--baseline", fitted.baseline, "--force"]) == 2
    assert "missing or unreadable prediction" in capsys.readouterr().err
