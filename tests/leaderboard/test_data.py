"""Loading and validating the leaderboard's files: good ones load, each bad one becomes a clear problem."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from fixture_data import CLASSES, METHODS_HEADER, PUBLISHED_HEADER, make_record, write_csv, write_record

from segrepro import results
from segrepro.leaderboard import data, views


def test_fixture_loads_with_sources_and_class_shares(folders):
    results = data.load_results(folders)
    assert results.problems == []
    assert results.runs["source"].value_counts().to_dict() == {"reference": 12, "yours": 1}
    assert set(results.scores["convention"]) == {"canonical"}
    shares = results.shares.groupby("class")["share"].mean()
    assert shares.to_dict() == pytest.approx(
        {"background": 0.9, "membrane": 0.06, "mitochondria": 0.03, "synapse": 0.01}
    )
    tables = data.load_tables(folders)
    assert tables.problems == []
    assert len(tables.published) == 4 and set(tables.published["scale"]) == {100.0}
    assert tables.published.set_index("method").loc["Double U-Net", "baseline"] == ""
    assert set(tables.stress["dataset"]) == {"synthetic-2d"} and set(tables.stress["source"]) == {"yours"}


def test_bad_json_and_schema_invalid_records_are_named_and_left_out(folders, fixture_tree):
    runs = fixture_tree["results"] / "runs"
    (runs / "broken.json").write_text("{not json")
    bad = make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 1, 0)
    bad["tier"] = "huge"
    (runs / "bad-tier.json").write_text(json.dumps(bad))
    results = data.load_results(folders)
    messages = {os.path.basename(p.path): p.message for p in results.problems}
    assert messages["broken.json"].startswith("not readable JSON")
    assert "run-record schema" in messages["bad-tier.json"] and "tier" in messages["bad-tier.json"]
    assert len(results.runs) == 13  # the valid records still load


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (
            ("paper", "table", "dataset", "method", "class", "metric", "value", "stdev"),
            None,
            "missing std; unexpected stdev",
        ),
        (
            PUBLISHED_HEADER,
            ("001", "3", "drosophila-vnc", "M", "mitochondria", "dice", "abc", ""),
            "line 3: value: 'abc'",
        ),
        (PUBLISHED_HEADER, ("001", "3", "Drosophila VNC", "M", "mitochondria", "dice", "1", ""), "line 3: dataset"),
        (PUBLISHED_HEADER, ("001", "3", "drosophila-vnc", "M", "mitochondria"), "different number of fields"),
    ],
)
def test_malformed_published_csv_is_rejected_whole_with_line_and_column(folders, fixture_tree, header, row, message):
    good = ("001", "3", "drosophila-vnc", "M", "mitochondria", "dice", "80", "")
    path = write_csv(fixture_tree["published"] / "p999" / "published.csv", header, [good, row] if row else [good])
    write_csv(fixture_tree["published"] / "p999" / "methods.csv", METHODS_HEADER, [("3", "M", "", "100")])
    tables = data.load_tables(folders)
    problems = [p for p in tables.problems if p.path == str(path)]
    assert len(problems) == 1 and message in problems[0].message
    assert set(tables.published["package"]) == {"p001"}  # nothing of the bad file is half-read


def test_methods_problems_are_reported(folders, fixture_tree):
    pkg = fixture_tree["published"] / "p002"
    write_csv(pkg / "published.csv", PUBLISHED_HEADER, [("002", "1", "urocell", "A", "mean", "dice", "0.9", "")])
    tables = data.load_tables(folders)
    assert any(p.path == str(pkg / "methods.csv") and "missing" in p.message for p in tables.problems)
    assert (tables.published[tables.published["package"] == "p002"]["baseline"] == "").all()
    write_csv(pkg / "methods.csv", METHODS_HEADER, [("1", "B", "b", "1")])
    assert any("no row for 1/A" in p.message for p in data.load_tables(folders).problems)
    write_csv(pkg / "methods.csv", METHODS_HEADER, [("1", "A", "a", "1"), ("1", "A", "b", "1")])
    assert any("listed twice" in p.message for p in data.load_tables(folders).problems)
    write_csv(pkg / "methods.csv", METHODS_HEADER, [("1", "A", "a", "0")])
    assert any("line 2: scale" in p.message for p in data.load_tables(folders).problems)


def test_stress_csv_with_wrong_columns_is_a_problem(folders, fixture_tree):
    path = write_csv(fixture_tree["results"] / "stress" / "urocell" / "stress.csv", ("ratio", "value"), [(0.1, 0.5)])
    tables = data.load_tables(folders)
    assert any(p.path == str(path) and "missing achieved_ratio" in p.message for p in tables.problems)
    assert set(tables.stress["dataset"]) == {"synthetic-2d"}


def test_signature_changes_and_changed_record_is_reread(folders, fixture_tree):
    record = make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 1, 0, {"mitochondria": {"dice": 0.1}})
    path = write_record(fixture_tree["results"] / "runs", record)
    before = data.runs_signature(folders)
    assert (
        data.load_results(folders).scores.query("metric == 'dice' and `class` == 'mitochondria'")["value"].min() == 0.1
    )
    record["metrics"]["canonical"]["per_class"]["mitochondria"]["dice"] = 0.05
    path.write_text(json.dumps(record))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert data.runs_signature(folders) != before
    assert (
        data.load_results(folders).scores.query("metric == 'dice' and `class` == 'mitochondria'")["value"].min() == 0.05
    )


def test_overlays_stay_inside_the_run_folder(tmp_path):
    path = tmp_path / "run1.json"
    folder = tmp_path / "run1"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"png")
    (tmp_path / "secret.png").write_bytes(b"png")
    record = {"predictions": [{"image": "img0", "file": "a.png"}, {"image": "x", "file": "../secret.png"}]}
    assert data.overlays(path, record) == [("img0", folder / "a.png")]
    assert data.overlays(path, {}) == [("a", folder / "a.png")]  # no list: every PNG in the folder
    assert data.overlays(tmp_path / "other.json", {}) == []


def test_paper_convention_block_is_loaded_under_its_convention(tmp_path):
    folder = tmp_path / "runs"
    scores = {c: {"dice": 0.5} for c in CLASSES}
    paper = {c: {"dice": 0.25} for c in CLASSES}
    own = make_record("d", "own", "p", "quick", 0, 0, scores, convention="fujii2021", paper_scores=paper)
    write_record(folder, own)
    write_record(folder, make_record("d", "canon", "p", "quick", 0, 0, scores))  # paper block == canonical
    write_record(folder, make_record("d", "old", "p", "quick", 0, 0, scores, convention="fujii2021", legacy=True))
    results = data.load_results(data.Folders((("yours", folder),), tmp_path, ()))
    s = results.scores.merge(results.runs[["key", "baseline"]], on="key").astype({"baseline": str, "convention": str})
    blocks = s.groupby("baseline")["convention"].agg(lambda c: sorted(set(c))).to_dict()
    assert blocks == {"own": ["canonical", "fujii2021"], "canon": ["canonical"], "old": ["canonical"]}
    mito = s[(s["class"] == "mitochondria") & (s["baseline"] == "own")].set_index("convention")["value"]
    assert mito.to_dict() == {"canonical": 0.5, "fujii2021": 0.25}
    assert len(s[s["baseline"] == "canon"]) == len(CLASSES) + 1  # no duplicate rows: a ranking counts each run once


REPO = Path(__file__).resolve().parents[2]


def test_committed_reference_records_match_the_published_fujii2021_table():
    """The repository's own reference runs load, and each matches its paper-001 numbers; a record made
    before the metrics engine (no paper-convention block) is shown with its canonical scores and
    marked not comparable for the convention."""
    ref = REPO / "results" / "reference" / "runs"
    folders = data.Folders(((data.SOURCE_REFERENCE, ref),), REPO / "baselines", ())
    results, tables = data.load_results(folders), data.load_tables(folders)
    assert results.problems == [] and tables.problems == []
    fujii = results.runs[results.runs["baseline"].astype(str).str.startswith("fujii2021-")]
    results = data.Results(fujii, results.scores[results.scores["key"].isin(fujii["key"])], results.shares)
    assert len(results.runs) >= 1
    table = views.published_vs_reproduced(tables.published[tables.published["package"] == "fujii2021"], results)
    matched = table[table["tier"].notna()]
    assert set(matched["baseline"]) == set(results.runs["baseline"].astype(str))
    for record_path in results.runs["key"]:
        record = json.loads(Path(record_path).read_text())
        rows = matched[matched["baseline"] == record["baseline"]["id"]]
        assert len(rows) == 6  # table 2: five classes and the mean, IoU
        assert rows["why"].str.contains("tier quick").all()
        if "paper" in record["metrics"]:  # scored in the paper's convention: its 5-class mean, as printed
            # judged against the spread of the runs (and the paper's std), marked with the tier
            assert (
                rows["verdict"].isin(["within spread (quick tier)", "worse (quick tier)", "better (quick tier)"]).all()
            )
            assert (rows["scored_as"] == record["metrics"]["paper_convention"]).all()
            assert (rows["delta"] == rows["mean"] - rows["published"]).all()
            same = [json.loads(Path(k).read_text()) for k in results.runs["key"]]
            same = [r["metrics"]["paper"]["mean"]["iou"] for r in same if r["baseline"] == record["baseline"]]
            assert rows.set_index("class").loc["mean", "mean"] == pytest.approx(np.mean(same))
        else:  # made before the metrics engine: canonical scores, not comparable for the convention
            assert (rows["verdict"] == "not comparable").all() and rows["why"].str.contains("convention").all()
            assert (rows["scored_as"] == "canonical").all()
    assert (table.loc[table["tier"].isna(), "verdict"] == "open").all()


def test_unchanged_records_come_from_the_stored_tables_across_restarts(folders, fixture_tree, monkeypatch):
    stored = data.Folders(folders.runs, folders.published, folders.stress, tables=True)
    (fixture_tree["results"] / "runs" / "broken.json").write_text("{not json")
    first = data.load_results(stored)
    assert (fixture_tree["results"] / "tables" / "runs.parquet").is_file()  # beside results/runs
    assert [n.split(":")[0] for n in first.notes] == ["reference", "yours"]
    assert all("tables written" in n for n in first.notes)
    parsed = []
    real = results.read_record
    monkeypatch.setattr(results, "read_record", lambda path: parsed.append(str(path)) or real(path))
    again = data.load_results(stored)  # as after a server restart: nothing in memory, all from the tables
    assert parsed == [] and again.notes == []
    assert again.runs.equals(first.runs) and again.problems == first.problems
    order = ["key", "convention", "class", "metric"]
    assert (
        again.scores.sort_values(order)
        .astype(str)
        .reset_index(drop=True)
        .equals(first.scores.sort_values(order).astype(str).reset_index(drop=True))
    )
    record = make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 0, 0, {"mitochondria": {"dice": 0.05}})
    changed = write_record(fixture_tree["results"] / "runs", record)  # same file name, new content
    (fixture_tree["results"] / "runs" / "broken.json").unlink()
    after = data.load_results(stored)
    assert parsed == [str(changed)]  # only the changed file is parsed again, and the page says so
    assert after.notes == [
        "yours: 1 record(s) added or changed since `segrepro aggregate` stored the tables in "
        f"{fixture_tree['results'] / 'tables'}: read now, tables updated."
    ]
    assert after.problems == [] and len(after.runs) == len(first.runs)
    mito = after.scores[(after.scores["key"] == str(changed)) & (after.scores["class"] == "mitochondria")]
    assert mito["value"].tolist() == [0.05]


def test_unreadable_or_foreign_tables_are_ignored(folders, fixture_tree, monkeypatch):
    stored = data.Folders(folders.runs, folders.published, folders.stress, tables=True)
    runs_dir = fixture_tree["results"] / "runs"
    tables = results.tables_dir(runs_dir)
    expected = data.load_results(stored).runs
    (tables / "scores.parquet").write_bytes(b"not parquet")
    assert results._read_stored(tables, runs_dir, results.TABLE_NAMES) is None
    assert data.load_results(stored).runs.equals(expected)  # parsed again, and the tables rewritten
    assert results._read_stored(tables, runs_dir, results.TABLE_NAMES) is not None
    monkeypatch.setattr(results, "TABLES_FORMAT", results.TABLES_FORMAT + 1)  # as after a change to the flattening
    assert results._read_stored(tables, runs_dir, results.TABLE_NAMES) is None


@pytest.mark.parametrize(
    ("block", "where"),
    [("canonical", "metrics/canonical/per_class/synapse/dice"), ("paper", "metrics/paper/mean/dice")],
)
def test_a_score_that_is_not_a_number_is_a_schema_problem(folders, fixture_tree, block, where):
    record = make_record("drosophila-vnc", "xnet-sce-iou", "001", "smoke", 3, 0, convention="fujii2021")
    if block == "canonical":
        record["metrics"]["canonical"]["per_class"]["synapse"]["dice"] = "0.5"
    else:
        record["metrics"]["paper"]["mean"]["dice"] = True
    write_record(fixture_tree["results"] / "runs", record)
    (problem,) = data.load_results(folders).problems
    assert "run-record schema" in problem.message and where in problem.message


def test_a_stress_sweep_carries_its_provenance_and_a_bad_one_is_a_problem(folders, fixture_tree):
    folder = fixture_tree["results"] / "stress" / "synthetic-2d"
    prov = make_record("synthetic-2d", "unet-ce", "x", "quick", 0, 0)["provenance"]
    prov["command"] = "segrepro stress --dataset synthetic-2d --baseline unet-ce --ratios 1:1,1:10"
    (folder / "stress.json").write_text(json.dumps({"config": {}, "provenance": prov}))
    tables = data.load_tables(folders)
    assert tables.problems == [] and tables.sweeps[("yours", "synthetic-2d")]["command"] == prov["command"]
    del prov["command"]
    (folder / "stress.json").write_text(json.dumps({"provenance": prov}))
    tables = data.load_tables(folders)
    assert tables.sweeps == {} and "'command' is a required property" in tables.problems[0].message
    assert len(tables.stress) == 6  # the table itself is still shown


def test_submitted_bundles_show_as_submitted_and_a_tampered_one_is_a_problem(folders, fixture_tree):
    from dataclasses import replace

    from segrepro.submit import write_bundle

    submissions = fixture_tree["results"] / "submissions"
    card = {"id": "mylab-net", "paper": "mylab-2026"}
    runs = [make_record("drosophila-vnc", "mylab-net", "mylab-2026", "smoke", fold, 0) for fold in (0, 1)]
    write_bundle(submissions / "mylab.tar.gz", runs, card, {"name": "mylab", "version": "1"})
    folders = replace(folders, submissions=submissions)
    before = data.runs_signature(folders)
    write_bundle(submissions / "late.tar.gz", runs[:1], card, {"name": "mylab", "version": "1"})
    assert data.runs_signature(folders) != before  # a dropped-in bundle is picked up on the next load
    (submissions / "late.tar.gz").write_bytes((submissions / "late.tar.gz").read_bytes()[:200])  # cut short

    loaded = data.load_results(folders)
    submitted = loaded.runs[loaded.runs["source"] == data.SOURCE_SUBMITTED]
    assert sorted(submitted["key"]) == [
        str(submissions / "mylab.tar.gz" / "records" / f"drosophila-vnc__mylab-net__smoke__f{f}__s0.json")
        for f in (0, 1)
    ]
    assert [(Path(p.path).name, p.message.split(" (")[0]) for p in loaded.problems] == [
        ("late.tar.gz", "not a readable .tar.gz archive")
    ]
    assert set(loaded.scores["key"]) >= set(submitted["key"])
    record = data.read_record(Path(submitted["key"].iloc[0]))  # what the run page opens
    assert record["run_id"] == "drosophila-vnc__mylab-net__smoke__f0__s0"
