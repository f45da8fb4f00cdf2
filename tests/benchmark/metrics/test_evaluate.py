"""`segrepro evaluate` on .npy/.tif/.nii.gz files, its one-line errors, and the run-record metric block."""

import json

import nibabel
import numpy as np
import pytest
import tifffile
from sklearn.metrics import f1_score, roc_auc_score

from segrepro.cli import main
from segrepro.metrics import CONVENTIONS, get_convention
from segrepro.metrics.distance import hd95_per_class
from segrepro.metrics.evaluate import RunEvaluation, evaluate_arrays
from segrepro.metrics.instances import InstanceCounts, component_detection, semantic_instance_counts
from segrepro.records import validate_record

METRICS = {"precision", "recall", "tnr", "dice", "iou", "balanced_accuracy", "youden_j", "mcc"}


def volume(seed=0, shape=(6, 24, 24), k=3):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, k, shape).astype(np.uint8)
    pred = np.where(rng.random(shape) < 0.75, target, rng.integers(0, k, shape)).astype(np.uint8)
    probs = rng.dirichlet(np.ones(k), shape).transpose(3, 0, 1, 2).astype(np.float32)
    probs[target, np.arange(shape[0])[:, None, None], np.arange(shape[1])[:, None], np.arange(shape[2])] += 0.3
    probs /= probs.sum(axis=0)
    mask = rng.random(shape) < 0.8
    return target, pred, probs, mask


def save(path, arr):
    name = path.name
    if name.endswith(".npy"):
        np.save(path, arr)
    elif name.endswith(".tif"):
        tifffile.imwrite(path, arr)
    else:
        nibabel.Nifti1Image(arr, np.eye(4)).to_filename(path)
    return str(path)


def run(capsys, *args):
    code = main(["evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("suffix", [".npy", ".tif", ".nii.gz"])
def test_evaluate_prints_one_json_object_matching_sklearn(tmp_path, capsys, suffix):
    target, pred, probs, mask = volume()
    files = {
        n: save(tmp_path / f"{n}{suffix}", a) for n, a in [("t", target), ("p", pred), ("m", mask.astype(np.uint8))]
    }
    pr = save(tmp_path / "probs.npy", probs)
    code, out, _ = run(
        capsys, "--target", files["t"], "--pred", files["p"], "--mask", files["m"], "--probs", pr, "--n-classes", "3"
    )
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"per_class", "mean"} and set(result["per_class"]) == {"0", "1", "2"}
    assert set(result["mean"]) == METRICS | {"auc"}
    t, p = target[mask], pred[mask]
    f1 = f1_score(t, p, average=None, labels=range(3))
    for c in range(3):
        assert result["per_class"][str(c)]["dice"] == pytest.approx(f1[c], abs=1e-12)
        assert result["per_class"][str(c)]["auc"] == pytest.approx(roc_auc_score(t == c, probs[c][mask]), abs=1e-6)
    assert result["mean"]["dice"] == pytest.approx(f1[1:].mean())
    code, out, _ = run(capsys, "--target", files["t"], "--pred", files["p"], "--n-classes", "3", "--include-background")
    assert json.loads(out)["mean"]["dice"] == pytest.approx(f1_score(target.ravel(), pred.ravel(), average=None).mean())


def test_evaluate_instances_and_hd95_add_their_metrics(tmp_path, capsys):
    target, pred, _, _ = volume(1, shape=(3, 16, 16))
    args = ["--target", save(tmp_path / "t.npy", target), "--pred", save(tmp_path / "p.npy", pred), "--n-classes", "3"]
    code, out, _ = run(capsys, *args, "--instances", "--hd95", "--convention", "meyer2021")
    assert code == 0
    result = json.loads(out)
    assert {"pq", "sq", "rq", "p05", "detected", "under_detected", "missed", "hd95"} <= set(result["mean"])
    # wiring: the values are those of the (separately tested) instance and distance functions, per 2-D slice
    matched = semantic_instance_counts(pred, target, 3, slice_axis=0)
    detection = component_detection(pred, target, 3, slice_axis=0)
    hd95 = hd95_per_class(pred, target, 3)
    for c in range(3):
        got = result["per_class"][str(c)]
        for name, value in {**matched[c].scores(), **detection[c].scores(), "hd95": hd95[c]}.items():
            assert got[name] == pytest.approx(value, abs=1e-12), (c, name)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t, p, pr, m: {"pred": p[:, :10]}, r"p\.npy: shape .* does not match"),
        (lambda t, p, pr, m: {"pred": p + 3}, r"p\.npy: class ids range over \[3, 5\], outside \[0, 2\]"),
        (lambda t, p, pr, m: {"pred": p + 0.5}, r"p\.npy: labels must be integer"),
        (lambda t, p, pr, m: {"mask": m * 2}, r"m\.npy: a mask must hold only 0 and 1"),
        (lambda t, p, pr, m: {"probs": pr[:2]}, r"pr\.npy: probabilities have shape .*channel first"),
        (lambda t, p, pr, m: {"probs": pr * np.nan}, r"pr\.npy: probabilities must be finite"),
    ],
)
def test_files_that_do_not_fit_are_one_line_errors(tmp_path, capsys, make, message):
    target, pred, probs, mask = volume(2, shape=(2, 12, 12))
    arrays = {"target": target, "pred": pred, "probs": probs, "mask": mask.astype(np.uint8)}
    arrays.update(make(target, pred, probs, mask.astype(np.uint8)))
    names = {"target": "t", "pred": "p", "probs": "pr", "mask": "m"}
    args = [x for k, a in arrays.items() for x in (f"--{k}", save(tmp_path / f"{names[k]}.npy", a))]
    code, out, err = run(capsys, *args, "--n-classes", "3")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err), err


def test_unreadable_and_unsupported_files_are_one_line_errors(tmp_path, capsys):
    (tmp_path / "t.npy").write_text("not an array")
    (tmp_path / "t.jpg").write_text("")
    for path, message in [("t.npy", "cannot read"), ("t.jpg", "unsupported file type"), ("none.npy", "file not found")]:
        code, _, err = run(capsys, "--target", str(tmp_path / path), "--pred", str(tmp_path / path), "--n-classes", "2")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["canonical", "yudistira2020", "meyer2021", "zerovnik2020", "fujii2021"])
def test_run_metrics_block_is_schema_valid_and_pools_like_the_whole(name):
    ev = RunEvaluation(3, get_convention(name))
    vols = [volume(s, shape=(3, 12, 12)) for s in range(3)]
    for i, (t, p, pr, m) in enumerate(vols):
        ev.add(f"v{i}", pr, p, t, m)
    block = ev.record_metrics(["bg", "a", "b"])
    record = {
        "schema_version": 1, "run_id": "x", "status": "ok", "dataset": {"name": "d"},
        "baseline": {"id": "b", "paper": "p"}, "fold": 0, "seed": 0, "tier": "smoke", "metrics": block,
        "provenance": {"git_commit": None, "versions": {}, "device": "cpu", "command": "c", "started": "s",
                       "wall_time_s": 0},
    }  # fmt: skip
    validate_record(json.loads(json.dumps(record)))
    assert block["paper_convention"] == name
    t = np.concatenate([v[0][v[3]] for v in vols])
    s = np.concatenate([v[2][:, v[3]] for v in vols], axis=1)
    for c, cls in enumerate(["bg", "a", "b"]):
        exact = roc_auc_score(t == c, s[c])
        assert abs(block["canonical"]["per_class"][cls]["auc"] - exact) <= block["auc_error_bound"][cls] + 1e-12
    assert block["canonical"]["per_class"]["a"]["dice"] == pytest.approx(
        f1_score(t, np.concatenate([v[1][v[3]] for v in vols]), average=None)[1]
    )


@pytest.mark.parametrize("seed", range(4))
def test_slice_convention_auc_and_dice_match_a_slow_per_slice_reference(seed):
    """meyer2021 scores each 2-D slice alone, leaves out slices where a score is undefined, then averages."""
    target, pred, probs, mask = volume(seed, shape=(6, 14, 14))
    target[1][target[1] == 2] = 0  # class 2 absent from slice 1: its AUC and dice are undefined there
    pred[1][pred[1] == 2] = 0
    mask[4] = False  # an all-masked slice holds no evidence
    out = evaluate_arrays(target, pred, 3, probs=probs, mask=mask, convention=get_convention("meyer2021"))
    auc, dice = [[] for _ in range(3)], [[] for _ in range(3)]
    for z in range(6):
        t, p, m = target[z][mask[z]], pred[z][mask[z]], mask[z]
        if not m.any():
            continue
        f1 = f1_score(t, p, labels=range(3), average=None, zero_division=np.nan)
        for c in range(3):
            if 0 < (t == c).sum() < t.size:
                auc[c].append(roc_auc_score(t == c, probs[c, z][m]))
            if np.isfinite(f1[c]):
                dice[c].append(f1[c])
    for c in range(3):
        assert out["per_class"][str(c)]["auc"] == pytest.approx(np.mean(auc[c]), abs=1e-6)
        assert out["per_class"][str(c)]["dice"] == pytest.approx(np.mean(dice[c]), abs=1e-12)
    assert len(auc[2]) == 4 and len(dice[2]) == 4  # slices 1 and 4 left out for class 2


def test_shapes_are_compared_as_stored_not_squeezed(tmp_path, capsys):
    """The shared reader drops singleton axes for the adapters; evaluate must not: (1, H, W) is not (H, W)."""
    target, pred, probs, _ = volume(3, shape=(1, 12, 12))
    t = save(tmp_path / "t.npy", target)
    code, _, err = run(capsys, "--target", t, "--pred", save(tmp_path / "p.npy", pred[0]), "--n-classes", "3")
    assert code == 2 and "p.npy: shape (12, 12) does not match the target's (1, 12, 12)" in err
    code, _, err = run(
        capsys, "--target", t, "--pred", t, "--probs", save(tmp_path / "pr.npy", probs[:, 0]), "--n-classes", "3"
    )
    assert code == 2 and "pr.npy: probabilities have shape (3, 12, 12), expected (3, 1, 12, 12)" in err
    code, out, _ = run(capsys, "--target", t, "--pred", save(tmp_path / "p1.npy", pred), "--n-classes", "3")
    assert code == 0 and json.loads(out)["per_class"]["1"]["dice"] == pytest.approx(
        f1_score(target.ravel(), pred.ravel(), average=None)[1]
    )


def test_conventions_command_lists_every_registered_convention_with_its_parameters(capsys):
    assert main(["conventions"]) == 0
    out = capsys.readouterr().out
    for name, conv in CONVENTIONS.items():
        assert f"{name}{f' (paper {conv.paper})' if conv.paper else ''}: {conv.description}" in out
    assert "meyer2021 (paper 003)" in out and "per_image=True slices=True undefined=exclude" in out


def test_instance_label_files_for_both_sides_keep_touching_cells_apart(tmp_path, capsys):
    truth = np.zeros((20, 30), np.int32)
    truth[5:15, 2:12], truth[5:15, 12:22] = 1, 2  # two touching cells
    merged = np.where(truth > 0, 7, 0).astype(np.int32)  # one predicted object over both
    split = np.where(truth == 1, 5, np.where(truth == 2, 9, 0)).astype(np.int32)
    semantic = (truth > 0).astype(np.uint8)
    base = ["--target", save(tmp_path / "t.npy", semantic), "--pred", save(tmp_path / "p.npy", semantic)]
    base += ["--n-classes", "2", "--target-instances", save(tmp_path / "ti.tif", truth)]
    _, out, _ = run(capsys, *base, "--pred-instances", save(tmp_path / "split.npy", split))
    assert json.loads(out)["instances"] == {"pq": 1.0, "sq": 1.0, "rq": 1.0, "p05": 1.0, "tp": 2, "fp": 0, "fn": 0}
    _, out, _ = run(capsys, *base, "--pred-instances", save(tmp_path / "merged.npy", merged))
    got = json.loads(out)["instances"]
    assert (got["tp"], got["fp"], got["fn"], got["pq"]) == (0, 1, 2, 0.0)  # IoU 0.5 is not above 0.5


@pytest.mark.parametrize(
    ("pred_instances", "message"),
    [
        (np.zeros((20, 31), np.int32), r"pi\.npy: instance labels shape \(20, 31\) does not match"),
        (np.full((20, 30), 0.5), r"pi\.npy: instance labels must be integers"),
        (np.full((20, 30), -1), r"pi\.npy: instance labels must be non-negative"),
        (None, r"give both --target-instances and --pred-instances"),
    ],
)
def test_instance_files_that_do_not_fit_are_one_line_errors(tmp_path, capsys, pred_instances, message):
    semantic = np.zeros((20, 30), np.uint8)
    args = ["--target", save(tmp_path / "t.npy", semantic), "--pred", save(tmp_path / "p.npy", semantic)]
    args += ["--n-classes", "2", "--target-instances", save(tmp_path / "ti.npy", semantic.astype(np.int32))]
    if pred_instances is not None:
        args += ["--pred-instances", save(tmp_path / "pi.npy", pred_instances)]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err), err


def one_line_error(capsys, *args):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    return err


def test_too_many_classes_is_refused_before_any_file_is_read(tmp_path, capsys):
    err = one_line_error(capsys, "--target", "absent.npy", "--pred", "absent.npy", "--n-classes", "100000")
    assert "--n-classes 100000 is above the limit of 4096" in err and "149.0 GiB" in err


@pytest.mark.parametrize("flag", ["--instances", "--hd95"])
def test_single_values_with_instances_or_hd95_are_one_line_errors(tmp_path, capsys, flag):
    t = save(tmp_path / "t.npy", np.array(1))
    err = one_line_error(capsys, "--target", t, "--pred", t, "--n-classes", "2", flag)
    assert "need arrays of at least one dimension" in err


@pytest.mark.parametrize("option", ["--probs", "--mask"])
def test_complex_probabilities_and_masks_are_refused(tmp_path, capsys, option):
    target, pred, probs, mask = volume(4, shape=(2, 8, 8))
    value = probs.astype(np.complex64) if option == "--probs" else mask.astype(np.complex64)
    args = ["--target", save(tmp_path / "t.npy", target), "--pred", save(tmp_path / "p.npy", pred)]
    err = one_line_error(capsys, *args, option, save(tmp_path / "c.npy", value), "--n-classes", "3")
    assert "c.npy" in err


ISBI_CARD = """name: isbi-style
spatial_dims: 2
images: images
labels: labels
classes:
  - {name: cell, values: [255]}
  - {name: membrane, values: [0]}
ignore: [128]
"""


def isbi_pair(seed):
    """Raw ISBI-style labels (membrane 0, cell 255, 128 unscored) and the class ids they stand for."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 2, (16, 16))
    pred_ids = np.where(rng.random(ids.shape) < 0.8, ids, 1 - ids)
    raw = np.where(ids == 1, 0, 255).astype(np.uint8)
    ignored = rng.random(ids.shape) < 0.1
    raw_target = np.where(ignored, 128, raw).astype(np.uint8)
    return raw_target, np.where(pred_ids == 1, 0, 255).astype(np.uint8), ids, pred_ids, ~ignored


def test_card_maps_raw_label_values_and_masks_ignore_values(tmp_path, capsys):
    (tmp_path / "card.yaml").write_text(ISBI_CARD)
    raw_t, raw_p, ids, pred_ids, scored = isbi_pair(0)
    args = ["--target", save(tmp_path / "t.npy", raw_t), "--pred", save(tmp_path / "p.npy", raw_p)]
    code, out, _ = run(capsys, *args, "--card", str(tmp_path / "card.yaml"))
    assert code == 0
    dice = f1_score(ids[scored], pred_ids[scored], average=None, labels=[0, 1])
    assert json.loads(out)["per_class"]["1"]["dice"] == pytest.approx(dice[1], abs=1e-12)  # membrane, raw 0
    err = one_line_error(capsys, *args, "--card", str(tmp_path / "card.yaml"), "--n-classes", "3")
    assert "differs from" in err and "2 classes" in err
    np.save(tmp_path / "p.npy", np.where(raw_t == 128, 128, raw_p))  # a prediction has no ignore values
    assert "label values [128] are not in the card" in one_line_error(
        capsys, *args, "--card", str(tmp_path / "card.yaml")
    )


def test_dataset_maps_its_raw_values_and_refuses_a_dataset_without_a_plain_mapping(tmp_path, capsys):
    raw_values = [0, 32, 191, 223, 159, 255, 128]  # drosophila-vnc: 0/32/128 membrane (0), 191 mitochondria (1)...
    ids = np.array([0, 0, 1, 2, 3, 4, 0])
    rng = np.random.default_rng(5)
    pick = rng.integers(0, len(raw_values), (12, 12))
    target = np.array(raw_values, dtype=np.uint8)[pick]
    args = ["--target", save(tmp_path / "t.npy", target), "--pred", save(tmp_path / "p.npy", target)]
    code, out, _ = run(capsys, *args, "--dataset", "drosophila-vnc", "--include-background")
    result = json.loads(out)
    assert code == 0 and set(result["per_class"]) == {"0", "1", "2", "3", "4"}
    present = {str(k) for k in np.unique(ids[pick])}
    assert all(result["per_class"][k]["dice"] == 1.0 for k in present)
    err = one_line_error(capsys, *args, "--dataset", "urocell")
    assert "does not map single label values to classes" in err and "--card" in err
    assert "unknown dataset 'nope'" in one_line_error(capsys, *args, "--dataset", "nope")


def test_folders_of_pairs_give_per_image_scores_and_the_pooled_summary(tmp_path, capsys):
    folders = {n: tmp_path / n for n in ("t", "p", "pr", "m")}
    for f in folders.values():
        f.mkdir()
    vols = [volume(s, shape=(2, 10, 10)) for s in range(3)]
    for i, (t, p, pr, m) in enumerate(vols):
        for name, arr in (("t", t), ("p", p), ("pr", pr), ("m", m.astype(np.uint8))):
            save(folders[name] / f"img{i}.npy", arr)
    args = [
        x
        for o, n in (("target", "t"), ("pred", "p"), ("probs", "pr"), ("mask", "m"))
        for x in (f"--{o}", str(folders[n]))
    ]
    code, out, _ = run(capsys, *args, "--n-classes", "3", "--instances", "--quiet")
    assert code == 0
    result = json.loads(out)
    assert list(result["images"]) == ["img0", "img1", "img2"]
    for i, (t, p, pr, m) in enumerate(vols):  # each image alone is what evaluate prints for that pair
        assert result["images"][f"img{i}"] == json.loads(json.dumps(evaluate_arrays(t, p, 3, pr, m, instances=True)))
    t = np.concatenate([v[0][v[3]] for v in vols])
    p = np.concatenate([v[1][v[3]] for v in vols])
    s = np.concatenate([v[2][:, v[3]] for v in vols], axis=1)
    pooled = result["pooled"]["per_class"]
    dice = f1_score(t, p, average=None, labels=range(3))
    for c in range(3):
        assert pooled[str(c)]["dice"] == pytest.approx(dice[c], abs=1e-12)
        assert pooled[str(c)]["auc"] == pytest.approx(roc_auc_score(t == c, s[c]), abs=1e-9)
    matched = [
        sum(x, InstanceCounts())
        for x in zip(*(semantic_instance_counts(v[1], v[0], 3, v[3]) for v in vols), strict=True)
    ]
    assert pooled["2"]["pq"] == pytest.approx(matched[2].scores()["pq"], abs=1e-12)


def test_folders_whose_files_do_not_pair_up_are_one_line_errors(tmp_path, capsys):
    for name in ("t", "p"):
        (tmp_path / name).mkdir()
    target, pred, _, _ = volume(6, shape=(1, 4, 4))
    save(tmp_path / "t" / "a.npy", target)
    save(tmp_path / "t" / "b.tif", target)
    save(tmp_path / "p" / "a.npy", pred)
    args = ["--target", str(tmp_path / "t"), "--pred", str(tmp_path / "p"), "--n-classes", "3"]
    assert "no pred file for 'b'" in one_line_error(capsys, *args)
    save(tmp_path / "p" / "b.npy", pred)
    save(tmp_path / "p" / "c.npy", pred)
    assert "c.npy has no target file" in one_line_error(capsys, *args)
    err = one_line_error(
        capsys, "--target", str(tmp_path / "t"), "--pred", str(tmp_path / "p" / "a.npy"), "--n-classes", "3"
    )
    assert "--pred must be one too" in err


def test_dataset_prepared_from_a_card_maps_through_that_card(workdir, capsys):
    (workdir / "images").mkdir()
    (workdir / "labels").mkdir()
    raw_t, raw_p, ids, pred_ids, scored = isbi_pair(1)
    for i in range(3):
        tifffile.imwrite(workdir / "images" / f"s{i}.tif", np.full(raw_t.shape, i, np.float32))
        tifffile.imwrite(workdir / "labels" / f"s{i}.tif", raw_t)
    card = workdir / "card.yaml"
    card.write_text(ISBI_CARD + "split: {folds: 3}\n")
    assert main(["datasets", "prepare", "--card", str(card)]) == 0
    capsys.readouterr()
    args = ["--target", save(workdir / "t.npy", raw_t), "--pred", save(workdir / "p.npy", raw_p)]
    code, out, _ = run(capsys, *args, "--dataset", "isbi-style")
    dice = f1_score(ids[scored], pred_ids[scored], average=None, labels=[0, 1])
    assert code == 0 and json.loads(out)["per_class"]["1"]["dice"] == pytest.approx(dice[1], abs=1e-12)
    card.unlink()
    err = one_line_error(capsys, *args, "--dataset", "isbi-style")
    assert "its card file is gone; give it with --card" in err


def test_a_runs_prediction_files_score_against_the_part_of_a_dataset_folder_they_cover(tmp_path, capsys):
    from segrepro.postprocess import Prediction
    from segrepro.predict import save_prediction

    folders = {n: tmp_path / n for n in ("labels", "masks", "test")}
    for f in folders.values():
        f.mkdir()
    vols = [volume(s, shape=(2, 10, 10)) for s in range(3)]
    for i, (t, p, pr, m) in enumerate(vols):
        save(folders["labels"] / f"img{i}.npy", t)
        save(folders["masks"] / f"img{i}.npy", m.astype(np.uint8))
        if i != 1:  # the "test split": what segrepro predict writes for two of the three volumes
            save_prediction(folders["test"] / f"img{i}.npz", Prediction(p, pr), probabilities=i == 0)
    args = ["--target", str(folders["labels"]), "--pred", str(folders["test"]), "--n-classes", "3", "--quiet"]
    assert "no pred file for 'img1'" in one_line_error(capsys, *args)
    code, out, _ = run(capsys, *args, "--mask", str(folders["masks"]), "--only-predicted")
    assert code == 0
    result = json.loads(out)
    assert list(result["images"]) == ["img0", "img2"]
    for i in (0, 2):
        t, p, _, m = vols[i]
        assert result["images"][f"img{i}"] == json.loads(json.dumps(evaluate_arrays(t, p, 3, None, m)))
    t, p, pr, _ = vols[0]
    pair = ["--target", str(folders["labels"] / "img0.npy"), "--pred", str(folders["test"] / "img0.npz")]
    code, out, _ = run(capsys, *pair, "--probs", str(folders["test"] / "img0.npz"), "--n-classes", "3")
    assert json.loads(out) == json.loads(json.dumps(evaluate_arrays(t, p, 3, pr)))
    without = ["--target", str(folders["labels"] / "img2.npy"), "--pred", str(folders["test"] / "img2.npz")]
    err = one_line_error(capsys, *without, "--probs", str(folders["test"] / "img2.npz"), "--n-classes", "3")
    assert "no 'probabilities' array in it (it holds: classes)" in err
    assert "--target is a file" in one_line_error(capsys, *pair, "--n-classes", "3", "--only-predicted")
