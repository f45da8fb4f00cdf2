"""Reading untrusted record files: each bad file is named and left out, the others still load."""

import json
import os
from pathlib import Path

import pytest

from segrepro import results

from .test_aggregate import record


def write(folder: Path, name: str, rec: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(rec))
    return path


def messages(tables: results.RunTables) -> dict[str, str]:
    return {Path(p.path).name: p.message for p in tables.problems}


def test_an_oversized_record_is_named_and_not_read(tmp_path):
    runs = tmp_path / "runs"
    write(runs, "good.json", record("good", "a", "x", 0.5))
    big = record("big", "a", "x", 0.5)
    big["padding"] = "x" * results.MAX_RECORD_BYTES
    write(runs, "big.json", big)
    tables = results.load(runs)
    assert messages(tables) == {"big.json": "larger than the 8 MiB a file may have: not read"}
    assert tables.runs["run_id"].tolist() == ["good"]


def test_a_100000_deep_record_is_named_never_a_recursion_error(tmp_path):
    runs = tmp_path / "runs"
    write(runs, "good.json", record("good", "a", "x", 0.5))
    (runs / "deep.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    shallow_but_deep = record("deep2", "a", "x", 0.5)
    node = shallow_but_deep["recipe"] = {}
    for _ in range(results.MAX_DEPTH):  # under Python's recursion limit, over the record's
        node["a"] = {}
        node = node["a"]
    write(runs, "deep2.json", shallow_but_deep)
    tables = results.load(runs)
    expected = f"JSON nested deeper than {results.MAX_DEPTH} levels: not read"
    assert messages(tables) == {"deep.json": expected, "deep2.json": expected}
    assert tables.runs["run_id"].tolist() == ["good"]


def test_a_link_out_of_the_folder_is_never_opened(tmp_path, monkeypatch):
    runs = tmp_path / "results" / "runs"
    good = write(runs, "good.json", record("good", "a", "x", 0.5))
    secret = write(tmp_path / "elsewhere", "secret.json", record("secret", "a", "x", 0.9))
    (runs / "out.json").symlink_to(secret)
    (runs / "inside.json").symlink_to(good)  # a link within the folder is fine
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(os.fspath(path)) or real_open(path, *a, **k))
    tables = results.load(runs)
    assert messages(tables) == {"out.json": f"a link to {secret}, outside {runs}: not opened"}
    assert sorted(tables.runs["run_id"]) == ["good", "good"]
    assert not any("secret" in p or p.endswith("out.json") for p in opened)
    assert isinstance(results.read_record(runs / "out.json"), results.Problem)  # also when asked for it by name


def test_a_fifo_or_folder_named_json_does_not_block_or_break(tmp_path):
    runs = tmp_path / "runs"
    write(runs, "good.json", record("good", "a", "x", 0.5))
    os.mkfifo(runs / "fifo.json")
    (runs / "dir.json").mkdir()
    assert results.load(runs).runs["run_id"].tolist() == ["good"]
    assert results.read_record(runs / "fifo.json").message == "not a regular file"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not readable JSON: Expecting property name"),
        (b"\xff\xfe\x00garbage", "not readable JSON"),
        (b'{"run_id": 3}', "does not follow the run-record schema"),
    ],
)
def test_each_bad_file_is_named_and_the_rest_load(tmp_path, content, message):
    runs = tmp_path / "runs"
    write(runs, "good.json", record("good", "a", "x", 0.5))
    (runs / "bad.json").write_bytes(content)
    tables = results.load(runs)
    assert messages(tables)["bad.json"].startswith(message)
    assert tables.runs["run_id"].tolist() == ["good"]


def test_stored_tables_of_another_folder_are_not_used(tmp_path):
    one, other = tmp_path / "one" / "runs", tmp_path / "other" / "runs"
    write(one, "r.json", record("from-one", "a", "x", 0.5))
    write(other, "r.json", record("from-other", "a", "x", 0.5))
    store = tmp_path / "tables"
    results.load(one, store)
    tables = results.load(other, store)  # same file name, another folder: parsed, not taken from the store
    assert tables.runs["run_id"].tolist() == ["from-other"] and tables.reread == 1
