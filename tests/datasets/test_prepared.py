"""Integrity of prepared data: per-file checksums kept at prepare, checked before every run, and a
damaged file is a one-line error naming it and the command that repairs it; raw files are verified
against their checksums before prepare reads them."""

import os
import re

import numpy as np
import pytest

from segrepro.cli import main
from segrepro.datasets import checksums, load_prepared
from segrepro.datasets.checksums import sha256_of
from segrepro.errors import UserError

REPAIR = "prepare the dataset again: segrepro datasets prepare synthetic-2d"


def flip_byte(path, offset=-1):
    """One byte changed in place: same size, newer mtime."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_prepare_keeps_a_checksum_of_every_file(prepared_2d):
    files = load_prepared("synthetic-2d", prepared_2d).meta["files"]
    on_disk = sorted(p.relative_to(prepared_2d).as_posix() for p in prepared_2d.rglob("*") if p.is_file())
    assert sorted(files) == [f for f in on_disk if f != "meta.json"]
    for rel, record in files.items():
        assert record == {"size": (prepared_2d / rel).stat().st_size, "sha256": sha256_of(prepared_2d / rel)}


def test_preparing_again_gives_the_same_meta_json(prepared_2d):
    """No times in meta.json: DVC's lock of the prepared folder must not change on a re-prepare."""
    before = (prepared_2d / "meta.json").read_bytes()
    assert main(["datasets", "prepare", "synthetic-2d"]) == 0
    assert (prepared_2d / "meta.json").read_bytes() == before


def test_the_stamp_spares_rereading_and_follows_changes(prepared_2d, monkeypatch):
    stamp = prepared_2d.with_name(".synthetic-2d.intact.json")
    assert stamp.is_file()
    hashed = []
    monkeypatch.setattr(checksums, "sha256_of", lambda p: hashed.append(p.name) or sha256_of(p))
    load_prepared("synthetic-2d", prepared_2d)
    assert hashed == []  # all as stamped at prepare: one stat each
    (prepared_2d / "images" / "img004.npy").touch()
    load_prepared("synthetic-2d", prepared_2d)
    assert hashed == ["img004.npy"]  # hashed once, found intact, stamped again
    load_prepared("synthetic-2d", prepared_2d)
    assert hashed == ["img004.npy"]
    stamp.unlink()  # the stamp is only a cache: without it everything is hashed, then stamped
    load_prepared("synthetic-2d", prepared_2d)
    assert len(hashed) == 1 + len(load_prepared("synthetic-2d", prepared_2d).meta["files"])


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda p: flip_byte(p), r"sha256 [0-9a-f]{64}, [0-9a-f]{64} when prepared \(corrupted\)"),
        (lambda p: p.write_bytes(p.read_bytes()[:-100]), r"\d+ bytes, \d+ when prepared \(truncated or changed\)"),
        (lambda p: p.unlink(), "missing"),
    ],
)
def test_damaged_prepared_image_stops_a_run_before_training(prepared_2d, capsys, damage, problem):
    path = prepared_2d / "images" / "img007.npy"
    damage(path)
    assert main(["run", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]
    assert re.fullmatch(rf"segrepro: error: {re.escape(str(path))}: {problem}; {REPAIR}", err), err
    assert not (prepared_2d.parent.parent.parent / "results").exists()  # nothing ran, nothing recorded


@pytest.mark.parametrize("name", ["meta.json", "splits.json"])
def test_truncated_meta_or_splits_is_one_line_naming_the_file(prepared_2d, name):
    path = prepared_2d / name
    path.write_text(path.read_text()[:200])
    with pytest.raises(UserError, match=rf"{re.escape(str(path))}: unreadable \(.*\); {REPAIR}$") as info:
        load_prepared("synthetic-2d", prepared_2d)
    assert "\n" not in str(info.value)


def test_valid_but_changed_splits_is_caught_by_its_checksum(prepared_2d):
    path = prepared_2d / "splits.json"
    path.write_text(path.read_text().replace('"img000"', '"img999"'))  # still valid JSON, same size
    with pytest.raises(UserError, match=rf"splits.json: sha256 .* when prepared \(corrupted\); {REPAIR}$"):
        load_prepared("synthetic-2d", prepared_2d)


def test_unchanged_mtime_takes_the_fast_path_and_repair_works(prepared_2d, capsys):
    path = prepared_2d / "labels" / "img003.npy"
    st = path.stat()
    flip_byte(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: not re-hashed (documented)
    load_prepared("synthetic-2d", prepared_2d)
    path.touch()  # any later change of mtime: hashed, caught
    with pytest.raises(UserError, match="corrupted"):
        load_prepared("synthetic-2d", prepared_2d)
    assert main(["datasets", "prepare", "synthetic-2d"]) == 0
    load_prepared("synthetic-2d", prepared_2d)


def test_prepared_without_checksums_asks_to_prepare_again(prepared_2d):
    meta = prepared_2d / "meta.json"
    meta.write_text(re.sub(r',\s*"files": \{.*\}\s*\}\s*$', "\n}\n", meta.read_text(), flags=re.S))
    with pytest.raises(UserError, match=rf"meta.json: has no file checksums .*; {REPAIR}$"):
        load_prepared("synthetic-2d", prepared_2d)


def test_unreadable_array_names_the_file(prepared_2d):
    data = load_prepared("synthetic-2d", prepared_2d)
    path = prepared_2d / "masks" / "img002.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(UserError, match=rf"{re.escape(str(path))}: cannot be read \(.*\); {REPAIR}$"):
        data.load("img002")


def test_card_dataset_names_its_card_in_the_repair_command(tmp_path):
    import yaml
    from PIL import Image

    from segrepro.datasets.generic import GenericAdapter

    root = tmp_path / "mine"
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((8, 8), i * 50, np.uint8)).save(root / "images" / f"s{i}.png")
        Image.fromarray(np.eye(8, dtype=np.uint8)).save(root / "labels" / f"s{i}.png")
    card = root / "card.yaml"
    classes = [{"name": "bg", "values": [0]}, {"name": "fg", "values": [1]}]
    card.write_text(
        yaml.safe_dump(
            {
                "name": "mine",
                "spatial_dims": 2,
                "images": "images",
                "labels": "labels",
                "classes": classes,
                "split": {"folds": 3},
            }
        )
    )
    out = GenericAdapter.from_yaml(card).prepare(root, tmp_path / "p")
    flip_byte(out / "images" / "s1.npy")
    with pytest.raises(
        UserError, match=rf"prepare the dataset again: segrepro datasets prepare --card {card.resolve()}$"
    ):
        load_prepared("mine", out)


def test_prepare_verifies_fetched_raw_files_first(tmp_path, urocell_layout, workdir, capsys):
    mirror = tmp_path / "upstream"
    urocell_layout(mirror)
    assert main(["datasets", "fetch", "urocell", "--mirror", str(mirror)]) == 0
    raw = workdir / "data" / "raw" / "urocell"
    for rel in ("mito/binary/fib1-3-2-1.nii.gz", "data/fib1-1-0-3.nii.gz"):  # a checksummed label, a pinned volume
        flip_byte(raw / rel, 40)
        capsys.readouterr()
        assert main(["datasets", "prepare", "urocell"]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]  # after the progress bars
        assert re.fullmatch(
            rf"segrepro: error: {re.escape(str(raw / rel))}: sha256 [0-9a-f]{{64}}, expected [0-9a-f]{{64}}: "
            r"changed since it was fetched; run: segrepro datasets fetch urocell",
            err,
        ), err
        assert not (workdir / "data" / "prepared").exists()
        assert main(["datasets", "fetch", "urocell", "--mirror", str(mirror)]) == 0  # the repair it names
    assert main(["datasets", "prepare", "urocell"]) == 0
