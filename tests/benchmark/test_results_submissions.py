"""Submission bundles in the results layer: a verified bundle's records join the tables; one whose
manifest does not match its files (a tampered record, a file added or removed), or that is not a
bundle at all, is one problem naming it and none of its records count."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "leaderboard"))  # the record fixture beside the page's tests
from fixture_data import CLASSES, make_record

from segrepro import results
from segrepro.aggregate import aggregate
from segrepro.submit import write_bundle

CARD = {"id": "mylab-net", "paper": "mylab-2026", "title": "t"}
PACKAGE = {"name": "mylab", "version": "1.0"}


def records(baseline: str = "mylab-net") -> list[dict]:
    return [make_record("synthetic-2d", baseline, "mylab-2026", "smoke", fold, 0) for fold in (0, 1)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``submissions/`` with one good bundle, ``good.tar.gz``."""
    write_bundle(tmp_path / "submissions" / "good.tar.gz", records(), CARD, PACKAGE)
    return tmp_path / "submissions"


def rewrite(path: Path, change) -> None:
    """The bundle at ``path`` with its members passed through ``change({name: bytes})``, manifest untouched."""
    with tarfile.open(path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    members = change(members)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def tamper(members: dict[str, bytes]) -> dict[str, bytes]:
    name = "records/synthetic-2d__mylab-net__smoke__f1__s0.json"
    record = json.loads(members[name])
    record["metrics"]["canonical"]["mean"]["dice"] = 0.99
    return {**members, name: json.dumps(record).encode()}


def test_a_verified_bundle_s_records_join_the_tables(folder):
    t = results.load_submissions(folder)
    assert t.problems == []
    assert sorted(t.runs["file"]) == [
        "good.tar.gz/records/synthetic-2d__mylab-net__smoke__f0__s0.json",
        "good.tar.gz/records/synthetic-2d__mylab-net__smoke__f1__s0.json",
    ]
    assert set(t.runs["baseline"]) == {"mylab-net"} and set(t.runs["status"]) == {"ok"}
    assert set(t.scores["file"]) == set(t.runs["file"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (tamper, "manifest does not match: records/synthetic-2d__mylab-net__smoke__f1__s0.json has changed"),
        (lambda m: {**m, "records/extra.json": b"{}"}, "manifest does not match: records/extra.json is not in"),
        (lambda m: {k: v for k, v in m.items() if k != "card.json"}, "manifest does not match: card.json is listed"),
        (lambda m: {**m, "../escape.json": b"{}"}, "holds '../escape.json', which a bundle may not"),
        (lambda m: {k: v for k, v in m.items() if k != results.MANIFEST}, "has no MANIFEST.sha256"),
    ],
)
def test_a_bundle_that_does_not_match_its_manifest_is_named_and_left_out(folder, change, message):
    write_bundle(folder / "tampered.tar.gz", records(), CARD, PACKAGE)
    rewrite(folder / "tampered.tar.gz", change)
    t = results.load_submissions(folder)
    (problem,) = t.problems
    assert problem.path == str(folder / "tampered.tar.gz") and problem.message.startswith(message)
    assert all(f.startswith("good.tar.gz/") for f in t.runs["file"]) and len(t.runs) == 2


def test_a_record_off_the_schema_or_of_another_entry_rejects_its_bundle(folder):
    bad = records()
    del bad[0]["provenance"]
    write_bundle(folder / "schema.tar.gz", bad, CARD, PACKAGE)
    write_bundle(folder / "other.tar.gz", records("someone-else"), CARD, PACKAGE)
    (folder / "junk.tar.gz").write_bytes(b"not gzip")
    messages = {Path(p.path).name: p.message for p in results.load_submissions(folder).problems}
    assert messages["schema.tar.gz"].startswith(
        "records/synthetic-2d__mylab-net__smoke__f0__s0.json does not follow the run-record schema (top level: "
    )
    assert "is a run of 'someone-else', not of the bundle's entry 'mylab-net'" in messages["other.tar.gz"]
    assert messages["junk.tar.gz"].startswith("not a readable .tar.gz archive")


def test_aggregate_counts_submitted_runs_and_names_a_tampered_bundle(folder, tmp_path):
    write_bundle(folder / "tampered.tar.gz", records("another-net"), {**CARD, "id": "another-net"}, PACKAGE)
    rewrite(folder / "tampered.tar.gz", lambda m: {**m, "environment.txt": b"torch==0.0\n"})
    board, tables = aggregate(tmp_path / "runs", tmp_path / "out", recipes={}, submissions=folder)
    assert board[["baseline", "n_runs"]].values.tolist() == [["mylab-net", 2]]
    assert [(Path(p.path).name, p.message) for p in tables.problems] == [
        ("tampered.tar.gz", "manifest does not match: environment.txt has changed since the bundle was made "
         "(SHA-256 differs)")
    ]  # fmt: skip
    assert pd.read_parquet(tmp_path / "out" / "tables" / "runs.parquet").empty  # the stored tables keep runs/ only


def test_submitted_runs_and_local_runs_of_the_same_id_stay_apart_on_the_board(folder, tmp_path):
    local = make_record("synthetic-2d", "mylab-net", "mylab-2026", "smoke", 0, 0, {c: {"dice": 0.9} for c in CLASSES})
    for runs in (tmp_path / "runs", tmp_path / "reference" / "runs"):
        runs.mkdir(parents=True)
        (runs / f"{local['run_id']}.json").write_text(json.dumps(local))
    board, _ = aggregate(tmp_path / "runs", tmp_path / "out", recipes={}, submissions=folder)
    assert list(board.columns[:5]) == ["dataset", "baseline", "paper", "tier", "source"]
    on_disk = pd.read_csv(tmp_path / "out" / "leaderboard.csv").set_index("source")
    assert on_disk["n_runs"].to_dict() == {"submitted": 2, "yours": 1}  # one run id in both: not pooled
    assert on_disk.loc["yours", "dice_mean"] == pytest.approx(0.9)
    assert on_disk.loc["submitted", "dice_mean"] == pytest.approx(0.5)
    per_class = pd.read_csv(tmp_path / "out" / "per_class.csv")
    assert sorted(per_class.loc[per_class["metric"] == "dice", "source"].unique()) == ["submitted", "yours"]
    aggregate(tmp_path / "reference" / "runs", tmp_path / "ref", recipes={})
    assert pd.read_csv(tmp_path / "ref" / "leaderboard.csv")["source"].tolist() == ["reference"]


def test_the_aggregate_command_names_a_tampered_bundle_and_counts_the_rest(workdir, capsys):
    from segrepro.cli import main

    folder = workdir / "results" / "submissions"
    write_bundle(folder / "good.tar.gz", records(), CARD, PACKAGE)
    write_bundle(folder / "tampered.tar.gz", records("another-net"), {**CARD, "id": "another-net"}, PACKAGE)
    rewrite(folder / "tampered.tar.gz", tamper_another)
    assert main(["aggregate"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"wrote {workdir / 'results' / 'leaderboard.csv'} (1 rows)")
    assert err == (
        f"skipped {folder / 'tampered.tar.gz'}: manifest does not match: records/synthetic-2d__another-net__smoke"
        "__f1__s0.json has changed since the bundle was made (SHA-256 differs)\n"
    )
    board = pd.read_csv(workdir / "results" / "leaderboard.csv")
    assert board[["baseline", "n_runs"]].values.tolist() == [["mylab-net", 2]]


def tamper_another(members: dict[str, bytes]) -> dict[str, bytes]:
    name = "records/synthetic-2d__another-net__smoke__f1__s0.json"
    return {**members, name: members[name].replace(b'"seed": 0', b'"seed": 1')}
