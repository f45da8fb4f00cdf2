"""The class-ratio stress test: ratio parsing, how the training set is rebuilt (exact on synthetic
data, best effort on real data, the achieved ratio recorded), the table, and the command end to end."""

import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from segrepro.cli import main
from segrepro.datasets import get_dataset
from segrepro.errors import UserError
from segrepro.leaderboard.data import Problem, read_csv_rows
from segrepro.metrics import confusion_matrix, counts_from_matrix
from segrepro.preprocess import ZScore
from segrepro.sampling import make_train_volume
from segrepro.stress import (
    COLUMNS,
    METRICS,
    Target,
    fg_bg_ratio,
    parse_ratios,
    pixel_shares,
    ratio_label,
    resampled_training_set,
    summary_table,
    synthetic_training_set,
    tiles,
)


def test_parse_ratios_forms():
    targets = parse_ratios("1:1, 1:10,0.01,3:1", 4)
    assert [t.ratio for t in targets] == pytest.approx([1.0, 0.1, 0.01, 3.0])
    assert [t.text for t in targets] == ["1:1", "1:10", "0.01", "3:1"] and all(t.split is None for t in targets)
    (vec,) = parse_ratios("0.3/0.1/0.1/0.5", 4)  # three foreground shares, then the background
    assert vec.ratio == pytest.approx(1.0) and vec.split == pytest.approx((0.6, 0.2, 0.2))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1:0", "positive"),
        ("0", "positive"),
        ("-1", "bad ratio"),
        ("a:b", "bad ratio"),
        ("1:2:3", "bad ratio"),
        ("1:10,0.1", "twice"),
        ("", "bad ratio"),
        ("0.2/0.8", "needs 4"),
        ("0/0/0/1", "some foreground"),
    ],
)
def test_parse_ratios_rejects(text, words):
    with pytest.raises(UserError, match=words):
        parse_ratios(text, 4)


@pytest.mark.parametrize("target", [Target(1.0), Target(0.01), Target(0.001), Target(0.25, (0.0, 0.5, 0.5))])
def test_synthetic_training_set_is_exact_up_to_whole_pixels(target):
    adapter = get_dataset("synthetic-2d")
    vols = synthetic_training_set(adapter, 3, target, seed=0, preprocess=ZScore())
    n_pix = np.prod(adapter.config.shape)
    fg_wanted = target.ratio / (1 + target.ratio) * n_pix
    for v in vols:
        assert abs(int((v.label > 0).sum()) - fg_wanted) <= 3  # one pixel per class at most (rounding, minimum 1)
    assert fg_bg_ratio(vols) == pytest.approx(target.ratio, rel=0.1 if target.ratio < 0.01 else 0.01)
    if target.split is not None:
        shares = pixel_shares(vols, 4)
        assert shares[1] == 0 and shares[2] == pytest.approx(shares[3], rel=0.01)


def volume(label: np.ndarray):
    return make_train_volume(np.zeros(label.shape, np.float32), label, np.ones(label.shape), 3)


def test_tiles_cut_every_channel_of_the_image_with_its_labels():
    """The image has a channel axis in front that the labels do not: a tile must not cut it (it did, and every
    model of a real-data sweep failed on tiles without channels)."""
    label = np.arange(32 * 48).reshape(32, 48) % 3
    vol = make_train_volume(np.stack([10.0 * label, -1.0 * label]), label, np.ones(label.shape), 3)
    cut = tiles(vol, (16, 16), 3)
    assert len(cut) == 2 * 3
    for t in cut:
        assert t.image.shape == (2, 16, 16) and t.label.shape == t.mask.shape == (16, 16)
        assert np.array_equal(t.image[0], 10.0 * t.label) and np.array_equal(t.image[1], -1.0 * t.label)


def test_resampling_adds_background_tiles_to_lower_the_ratio():
    label = np.zeros((64, 64), np.int64)
    label[:8, :16] = 1  # one 16x16 tile half foreground (128 fg, 128 bg), fifteen background-only tiles
    label[:4, :16] = 2
    vols = resampled_training_set([volume(label)], (16, 16), 0.2, 3)
    assert len(vols) == 1 + 2 and fg_bg_ratio(vols) == pytest.approx(0.2)  # 128 / (128 + 2 x 256)
    many = resampled_training_set([volume(label)], (16, 16), 0.001, 3)
    assert fg_bg_ratio(many) == pytest.approx(0.001, rel=0.01) and len(many) == 1 + 500  # tiles repeated
    with pytest.raises(UserError, match="no ratio"):
        resampled_training_set([volume(np.zeros((32, 32), np.int64))], (16, 16), 0.1, 3)


def test_resampling_drops_poor_tiles_to_raise_the_ratio_and_drops_instances_without_background_tiles():
    label = np.zeros((16, 64), np.int64)
    for j, fg_rows in enumerate((12, 8, 4, 2)):  # four 16x16 tiles, fg/bg 3, 1, 1/3, 1/7; none background-only
        label[:fg_rows, 16 * j : 16 * j + 16] = 1
    assert fg_bg_ratio([volume(label)]) == pytest.approx(416 / 608)
    high = resampled_training_set([volume(label)], (16, 16), 1.0, 3)
    assert len(high) == 3 and fg_bg_ratio(high) == pytest.approx(1.0)  # richest first, the 1/7 tile dropped
    low = resampled_training_set([volume(label)], (16, 16), 0.25, 3)
    assert len(low) == 2 and fg_bg_ratio(low) == pytest.approx(96 / 416)  # poorest first: the 1/7 and 1/3 tiles
    out_of_reach = resampled_training_set([volume(label)], (16, 16), 0.01, 3)
    assert len(out_of_reach) == 1 and fg_bg_ratio(out_of_reach) == pytest.approx(1 / 7)


def test_what_resampling_achieves_on_drosophila_vnc(mirror):
    """Documents the real case: every pixel is labelled and class 0 (membrane, ~17%) is the
    background, so no tile is background-only. Higher ratios are reached by dropping membrane-rich
    tiles; the paper's low ratios are out of reach (the README's table shows the same)."""
    adapter = get_dataset("drosophila-vnc")
    vols = [
        make_train_volume(v.image, v.label, v.mask, 5) for v in list(adapter.volumes(mirror("drosophila-vnc")))[:40]
    ]
    whole = fg_bg_ratio(vols)
    assert 3 < whole < 8
    assert fg_bg_ratio(resampled_training_set(vols, (128, 128), 10.0, 5)) == pytest.approx(10.0, rel=0.02)
    low = resampled_training_set(vols, (128, 128), 0.01, 5)
    assert fg_bg_ratio(low) > 1.0 and len(low) < 10  # out of reach: few, membrane-rich tiles remain


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGREPRO_DATA_DIR", str(data))
        assert main(["datasets", "prepare", "synthetic-2d"]) == 0
    return data


def read_table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS)
    assert not isinstance(read_csv_rows(path, "stress_row", {"ratio", "achieved_ratio", "value"}), Problem)
    return rows


def test_failed_model_is_recorded_and_the_sweep_goes_on(synthetic_data, tmp_path, monkeypatch):
    """The table logic without training: one baseline 'fails', the other predicts all background."""
    import segrepro.stress as stress

    def fake_train_one(sweep, entry, vols, val, test, seed):
        if entry.id == "unet-ce":
            raise FloatingPointError("loss became nan at iteration 3")
        k = sweep.data.n_classes
        return {vid: counts_from_matrix(confusion_matrix(np.zeros_like(lab), lab, k, msk)) for vid, _, lab, msk in test}

    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    monkeypatch.setattr(stress, "train_one", fake_train_one)
    clock = SimpleNamespace(perf_counter=iter(range(0, 1000, 10)).__next__)  # each reading 10 s after the last
    monkeypatch.setattr(stress, "time", clock)
    argv = ["stress", "--dataset", "synthetic-2d", "--ratios", "1:1,1:100", "--out", str(tmp_path), "--quiet"]
    assert main([*argv, "--baseline", "unet-ce", "--baseline", "yudistira2020-dl", "--tier", "smoke"]) == 0
    rows = read_table(tmp_path / "stress.csv")
    failed = [r for r in rows if r["baseline"] == "unet-ce" and r["metric"] in METRICS]
    assert failed and all(r["value"] == "" for r in failed)
    with open(tmp_path / "failures.csv", newline="") as f:
        assert [r["reason"] for r in csv.DictReader(f)] == ["FloatingPointError: loss became nan at iteration 3"] * 2
    dl = {(r["ratio"], r["class"], r["metric"]): r["value"] for r in rows if r["baseline"] == "yudistira2020-dl"}
    assert dl[("1", "mean", "balanced_accuracy")] == "0.5" and dl[("1", "mean", "dice")] == "0"
    assert dl[("1", "mean", "precision")] == ""  # never predicted: undefined, not 0
    assert float(dl[("0.01", "background", "train_share")]) == pytest.approx(100 / 101, rel=1e-3)
    assert (tmp_path / "stress.png").read_bytes()[:4] == b"\x89PNG"
    about = json.loads((tmp_path / "stress.json").read_text())
    assert about["config"]["baselines"] == ["unet-ce", "yudistira2020-dl"] and about["config"]["ratios"] == "1:1,1:100"
    assert about["provenance"]["device"] == "cpu"
    assert about["provenance"]["wall_time_s"] == 10 * (1 + 2 * 2 * 2)  # the whole sweep: 4 models, 2 calls each
    assert set(about["recipes"]) == {"unet-ce", "yudistira2020-dl"}


def test_each_seed_is_a_whole_sweep_kept_apart_by_the_seed_column(synthetic_data, tmp_path, monkeypatch):
    import segrepro.stress as stress

    seen = []

    def fake_train_one(sweep, entry, vols, val, test, seed):
        seen.append((seed, vols[0].image.sum()))  # the generated training images depend on the seed
        k = sweep.data.n_classes
        return {vid: counts_from_matrix(confusion_matrix(lab, lab, k, msk)) for vid, _, lab, msk in test}

    loads = []

    def counted(name, load):
        return lambda *args: loads.append(name) or load(*args)

    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    monkeypatch.setattr(stress, "train_one", fake_train_one)
    monkeypatch.setattr(stress, "open_dataset", counted("dataset", stress.open_dataset))
    monkeypatch.setattr(stress, "load_cases", counted("cases", stress.load_cases))
    argv = ["stress", "--dataset", "synthetic-2d", "--ratios", "1:1", "--out", str(tmp_path), "--quiet"]
    assert main([*argv, "--baseline", "yudistira2020-dl", "--tier", "smoke", "--seeds", "3", "5"]) == 0
    assert [seed for seed, _ in seen] == [3, 5] and seen[0][1] != seen[1][1]
    assert loads == ["dataset", "cases", "cases"]  # the dataset, val and test cases: once for both seeds
    rows = read_table(tmp_path / "stress.csv")
    dice = {r["seed"]: r["value"] for r in rows if r["class"] == "mean" and r["metric"] == "dice"}
    assert dice == {"3": "1", "5": "1"}
    assert json.loads((tmp_path / "stress.json").read_text())["config"]["seeds"] == [3, 5]


class Interrupted(BaseException):
    """What a killed session looks like to the sweep: not an error it records and goes past."""


def test_resume_keeps_the_finished_models_and_trains_the_rest(synthetic_data, tmp_path, monkeypatch, capsys):
    """A sweep stopped after its third model (the first failed) and resumed trains the failed one and the
    untrained three, and ends with the table of an uninterrupted sweep."""
    import segrepro.stress as stress

    trained, stop_after = [], [3]

    def fake_train_one(sweep, entry, vols, val, test, seed):
        if len(trained) == stop_after[0]:
            raise Interrupted
        trained.append((seed, round(fg_bg_ratio(vols), 3), entry.id))
        if len(trained) == 1 and stop_after[0] == 3:
            raise FloatingPointError("loss became nan")
        k = sweep.data.n_classes
        return {vid: counts_from_matrix(confusion_matrix(lab, lab, k, msk)) for vid, _, lab, msk in test}

    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    monkeypatch.setattr(stress, "train_one", fake_train_one)
    argv = ["stress", "--dataset", "synthetic-2d", "--ratios", "1:1,1:10", "--baseline", "unet-ce", "--seeds", "0", "1"]
    argv += ["--tier", "smoke", "--quiet", "--out", str(tmp_path / "sweep")]
    with pytest.raises(Interrupted):
        main(argv)
    stopped = json.loads((tmp_path / "sweep" / "stress.json").read_text())
    assert stopped["provenance"]["finished"] is None and stopped["earlier"] == []
    assert trained == [(0, 1.0, "unet-ce"), (0, 0.1, "unet-ce"), (1, 1.0, "unet-ce")]

    stop_after[0] = 99
    assert main([*argv, "--resume"]) == 0
    assert trained[3:] == [(0, 1.0, "unet-ce"), (1, 0.1, "unet-ce")]  # the failed model, then the untrained one
    about = json.loads((tmp_path / "sweep" / "stress.json").read_text())
    assert about["provenance"]["finished"] and about["earlier"] == [stopped["provenance"]]
    assert not (tmp_path / "sweep" / "failures.csv").exists()

    trained.clear()
    assert main([*argv[:-1], str(tmp_path / "whole")]) == 0
    assert len(trained) == 4

    def scores(folder: str) -> list[tuple]:
        rows = read_table(tmp_path / folder / "stress.csv")
        return sorted(tuple(r.values()) for r in rows if r["metric"] != "train_seconds")

    assert scores("sweep") == scores("whole")
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"--ratios": "1:1,1:100"}, "the config of the one in"),
        ({"--out": "elsewhere"}, "nothing to resume in"),
    ],
)
def test_resume_of_another_sweep_is_one_line_and_keeps_its_table(
    synthetic_data, tmp_path, monkeypatch, capsys, change, words
):
    import segrepro.stress as stress

    def fake_train_one(sweep, entry, vols, val, test, seed):
        k = sweep.data.n_classes
        return {vid: counts_from_matrix(confusion_matrix(lab, lab, k, msk)) for vid, _, lab, msk in test}

    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    monkeypatch.setattr(stress, "train_one", fake_train_one)
    options = {"--ratios": "1:1,1:10", "--out": "sweep"}
    argv = ["stress", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--tier", "smoke", "--quiet"]

    def command(opts: dict) -> list[str]:
        return [*argv, "--ratios", opts["--ratios"], "--out", str(tmp_path / opts["--out"])]

    assert main(command(options)) == 0
    table = (tmp_path / "sweep" / "stress.csv").read_text()
    capsys.readouterr()
    assert main([*command(options | change), "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert (tmp_path / "sweep" / "stress.csv").read_text() == table


@pytest.mark.slow
def test_one_sweep_over_two_seeds_gives_the_rows_of_two_single_seed_sweeps(synthetic_data, tmp_path, monkeypatch):
    """Seeds share one Sweep (dataset and cases loaded once); each seed's models are still its own."""
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    argv = ["stress", "--dataset", "synthetic-2d", "--ratios", "1:10", "--baseline", "unet-ce", "--tier", "smoke"]

    def rows(out: Path, *seeds: str) -> list[dict[str, str]]:
        assert main([*argv, "--seeds", *seeds, "--out", str(out), "--quiet"]) == 0
        return [r for r in read_table(out / "stress.csv") if r["metric"] != "train_seconds"]

    both = rows(tmp_path / "both", "0", "1")
    scores = [[r["value"] for r in both if r["seed"] == seed and r["metric"] in METRICS] for seed in "01"]
    assert scores[0] != scores[1]  # the seeds train different models: a seed mixed up would show below
    assert both == rows(tmp_path / "s0", "0") + rows(tmp_path / "s1", "1")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--baseline", "no-such-id", "--ratios", "1:1"], "unknown baseline 'no-such-id'"),
        (["--baseline", "unet-ce", "--ratios", "1:0"], "ratio '1:0'"),
        (["--baseline", "zerovnik2020-pipeline", "--ratios", "1:1"], "does not train its source"),
        (["--baseline", "unet-ce", "--ratios", "0.5/0.5"], "needs 4"),
        (["--baseline", "unet-ce", "--ratios", "1:1", "--seeds", "-1"], "--seed must be between 0 and 2**63 - 1"),
        (["--baseline", "unet-ce", "--ratios", "1:1", "--seeds", "0", f"{2**63}"], "--seed must be between 0"),
        (["--baseline", "unet-ce", "--ratios", "1:1", "--seeds", "1", "1"], "--seeds must name one or more different"),
        (["--baseline", "unet-ce", "--ratios", "1:1", "--foreground", "mitochondrion"], "--foreground needs real data"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(synthetic_data, tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    assert main(["stress", "--dataset", "synthetic-2d", *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_seeds_are_spelled_as_in_plan_and_submit_space_separated(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["stress", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--ratios", "1:1", "--seeds", "0,1"])
    assert exc.value.code == 2 and "argument --seeds: invalid int value: '0,1'" in capsys.readouterr().err


def test_unprepared_dataset_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(tmp_path))
    assert main(["stress", "--dataset", "drosophila-vnc", "--baseline", "unet-ce", "--ratios", "1:1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not prepared" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_real_data_dry_run_and_vectors(tmp_path, monkeypatch, capsys, mirror):
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(tmp_path))
    assert main(["datasets", "fetch", "drosophila-vnc", "--mirror", str(mirror("drosophila-vnc"))]) == 0
    assert main(["datasets", "prepare", "drosophila-vnc"]) == 0
    capsys.readouterr()
    base = ["stress", "--dataset", "drosophila-vnc", "--baseline", "yudistira2020-dl"]
    assert main([*base, "--ratios", "0.1/0.1/0.1/0.1/0.6"]) == 2
    assert "need a generated dataset" in capsys.readouterr().err
    assert main([*base, "--ratios", "10:1,1:100", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("target 10:1 (10): achieved 10.0") and "128x128 tiles" in lines[0]
    achieved = float(lines[1].split("achieved ")[1].split()[0])
    assert achieved > 1  # 1:100 is out of reach: no background-only tile exists
    # one class against the rest: tiles without mitochondria exist, so the rare end is reachable
    assert main([*base, "--ratios", "1:100,1:1000", "--foreground", "mitochondria", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for line, target in zip(lines, (0.01, 0.001), strict=True):
        assert float(line.split("achieved ")[1].split()[0]) == pytest.approx(target, rel=0.05)
        assert "pixel shares rest " in line
    assert main([*base, "--ratios", "1:1", "--foreground", "membrane"]) == 2
    assert "class 0 (its background)" in capsys.readouterr().err
    # and trains on the tiles: one smoke-tier model per ratio, none failed
    out = tmp_path / "sweep"
    argv = ["--ratios", "1:10,1:100", "--foreground", "mitochondria", "--tier", "smoke", "--quiet", "--out", str(out)]
    assert main([*base, *argv]) == 0
    assert not (out / "failures.csv").exists()
    dice = [r for r in read_table(out / "stress.csv") if r["class"] == "mitochondria" and r["metric"] == "dice"]
    assert [r["ratio"] for r in dice] == ["0.1", "0.01"] and all(r["value"] for r in dice)


@pytest.mark.slow
def test_stress_end_to_end_smoke(synthetic_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(synthetic_data))
    monkeypatch.setenv("SEGREPRO_RESULTS_DIR", str(tmp_path / "results"))
    ids = ["yudistira2020-mse", "yudistira2020-rwcdl"]
    argv = ["stress", "--dataset", "synthetic-2d", "--ratios", "1:1,0.01/0.005/0.005/0.98", "--tier", "smoke"]
    assert main([*argv, "--baseline", ids[0], "--baseline", ids[1], "--quiet"]) == 0
    out = tmp_path / "results" / "stress" / "synthetic-2d"
    rows = read_table(out / "stress.csv")
    names = get_dataset("synthetic-2d").card.class_names
    for ratio, achieved in (("1", 1.0), ("0.0204082", 0.02 / 0.98)):
        for b in ids:
            mine = [r for r in rows if r["ratio"] == ratio and r["baseline"] == b]
            assert float(mine[0]["achieved_ratio"]) == pytest.approx(achieved, rel=0.02)
            scored = {(r["class"], r["metric"]) for r in mine if r["metric"] in METRICS}
            assert scored == {(c, m) for c in [*names[1:], "mean"] for m in METRICS}
            assert all(0 <= float(r["value"]) <= 1 for r in mine if r["metric"] in METRICS and r["value"])
            shares = {r["class"]: float(r["value"]) for r in mine if r["metric"] == "train_share"}
            assert sum(shares.values()) == pytest.approx(1) and set(shares) == set(names)
    vector = {r["class"]: float(r["value"]) for r in rows if r["ratio"] == "0.0204082" and r["metric"] == "train_share"}
    assert vector["mitochondrion"] == pytest.approx(2 * vector["endolysosome"], rel=0.02)
    assert (out / "stress.png").stat().st_size > 10_000
    assert not (out / "failures.csv").exists()
    assert "wrote" in capsys.readouterr().out


def test_card_dataset_works_in_stress_as_in_run(workdir, capsys):
    """A dataset prepared from a YAML card is found by ``stress`` (it used to say "unknown dataset")."""
    import tifffile
    import yaml

    rng = np.random.default_rng(0)
    for folder in ("images", "labels"):
        (workdir / "own" / folder).mkdir(parents=True)
    for i in range(6):
        label = np.zeros((64, 64), np.uint8)
        label[8 + i : 30 + i, 10:40] = 1
        tifffile.imwrite(
            workdir / "own" / "images" / f"s{i}.tif", (rng.random((64, 64)) * 50 + label * 100).astype(np.uint8)
        )
        tifffile.imwrite(workdir / "own" / "labels" / f"s{i}.tif", label)
    card = {
        "name": "my-slices",
        "spatial_dims": 2,
        "images": "images",
        "labels": "labels",
        "classes": [{"name": "background", "values": [0]}, {"name": "blob", "values": [1]}],
        "split": {"folds": 3},
    }
    (workdir / "own" / "card.yaml").write_text(yaml.safe_dump(card))
    assert main(["datasets", "prepare", "--card", str(workdir / "own" / "card.yaml")]) == 0
    capsys.readouterr()
    assert main(["stress", "--dataset", "my-slices", "--baseline", "unet-ce", "--ratios", "1:1", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("target 1:1 (1): achieved")


def test_ratio_labels():
    assert [ratio_label(r) for r in (1.0, 0.1, 1 / 30, 0.00333333, 0.001, 2.0)] == [
        "1:1",
        "1:10",
        "1:30",
        "1:300",
        "1:1000",
        "2:1",
    ]


def test_summary_table_marks_single_seeds_failures_and_undefined_scores(tmp_path):
    rows = [
        (s, r, r, "a", "mean", m, v)
        for s in (0, 1)
        for r in (1.0, 0.01)
        for m, v in (("balanced_accuracy", 0.5 + s / 10), ("dice", 0.1))
    ]
    rows += [(0, 1.0, 1.0, "b", "mean", m, "") for m in ("balanced_accuracy", "dice")]  # failed
    rows += [(0, 0.01, 0.01, "b", "mean", "balanced_accuracy", 0.7), (0, 0.01, 0.01, "b", "mean", "dice", "")]
    with open(tmp_path / "stress.csv", "w", newline="") as f:
        csv.writer(f).writerows([COLUMNS, *rows])
    assert summary_table(tmp_path / "stress.csv").splitlines() == [
        "| baseline | 1:1 | 1:100 |",
        "|---|---:|---:|",
        "| `a` | 0.550 ± 0.071 / 0.100 ± 0.000 | 0.550 ± 0.071 / 0.100 ± 0.000 |",
        "| `b` | failed | 0.700 / n/a |",
    ]


def test_readme_stress_tables_are_the_summaries_of_the_committed_sweeps():
    """Below each committed sweep's figure in the README, the first table is ``summary_table`` of its stress.csv
    (what ``segrepro stress`` prints at the end)."""
    repo = Path(__file__).resolve().parents[2]
    readme = (repo / "README.md").read_text()
    figures = list(re.finditer(r"\]\((results/reference/stress/[^/]+)/stress\.png\)", readme))
    assert figures
    for fig in figures:
        after = readme[fig.end() :].splitlines()
        first = next(i for i, line in enumerate(after) if line.startswith("|"))
        end = next((i for i in range(first, len(after)) if not after[i].startswith("|")), len(after))
        assert "\n".join(after[first:end]) == summary_table(repo / fig.group(1) / "stress.csv"), fig.group(1)
