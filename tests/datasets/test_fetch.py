"""Verified fetch against a loopback HTTP server and local mirrors: corrupted, truncated and
unpinned files are never used, and every error names the file and both checksums."""

import gzip
import shutil
from http.server import SimpleHTTPRequestHandler

import pytest
from disks import fill, only_filler_left

from segrepro.cli import main
from segrepro.datasets import ClassSpec, DatasetCard, SourceFile, urocell
from segrepro.datasets.fetch import PINNED, fetch_sources, read_pinned, sha256_of
from segrepro.datasets.urocell import LABEL_SHA256, VOLUMES, UroCellAdapter
from segrepro.errors import UserError


def card(*sources: SourceFile) -> DatasetCard:
    return DatasetCard("toy", "toy", "", 2, (ClassSpec("bg"), ClassSpec("fg")), "-", "-", sources=sources)


@pytest.fixture
def upstream(tmp_path, urocell_layout):
    """The UroCell upstream layout on small generated volumes, with the card's label checksums pointed
    at these labels; the real labels are checked against the real checksums in
    ``test_real_labels_match_the_card_and_fetch_from_the_mirror``."""
    root = tmp_path / "upstream"
    urocell_layout(root)
    return root


def test_real_labels_match_the_card_and_fetch_from_the_mirror(tmp_path, urocell_layout, mirror):
    real_labels = mirror("urocell-labels")
    root = tmp_path / "upstream"
    urocell_layout(root, pin=False)  # raw volumes (not mirrored) are generated; the labels are the real ones
    for rel, digest in LABEL_SHA256.items():
        assert sha256_of(real_labels / rel) == digest
        shutil.copyfile(real_labels / rel, root / rel)
    raw = tmp_path / "raw"
    UroCellAdapter().fetch(raw, mirror=root)
    assert all(sha256_of(raw / rel) == digest for rel, digest in LABEL_SHA256.items())
    assert sorted(read_pinned(raw)) == [f"data/{v}.nii.gz" for v in VOLUMES]


def test_download_verifies_labels_and_pins_raw_volumes(tmp_path, upstream, serve):
    url = serve(upstream)
    raw = tmp_path / "raw"
    UroCellAdapter().fetch(raw, base_url=url)
    for rel, digest in urocell.LABEL_SHA256.items():
        assert sha256_of(raw / rel) == digest
    pins = read_pinned(raw)
    assert sorted(pins) == [f"data/{v}.nii.gz" for v in VOLUMES]
    assert pins["data/fib1-0-0-0.nii.gz"] == sha256_of(upstream / "data" / "fib1-0-0-0.nii.gz")
    assert not list(raw.rglob("*.part"))


def test_corrupted_download_names_file_and_both_checksums_and_is_not_used(tmp_path, upstream, serve):
    rel = "mito/binary/fib1-1-0-3.nii.gz"
    with open(upstream / rel, "r+b") as f:
        f.seek(100)
        f.write(b"\x00corrupt")
    got = sha256_of(upstream / rel)
    raw = tmp_path / "raw"
    with pytest.raises(UserError) as info:
        UroCellAdapter().fetch(raw, base_url=serve(upstream))
    msg = str(info.value)
    assert rel in msg and urocell.LABEL_SHA256[rel] in msg and got in msg and "\n" not in msg
    assert not (raw / rel).exists()
    assert not list(raw.rglob("*.part"))


def test_changed_raw_volume_fails_against_the_pinned_checksum(tmp_path, upstream, serve):
    url = serve(upstream)
    raw = tmp_path / "raw"
    UroCellAdapter().fetch(raw, base_url=url)
    pinned = read_pinned(raw)["data/fib1-3-3-0.nii.gz"]
    (raw / "data" / "fib1-3-3-0.nii.gz").unlink()
    with gzip.open(upstream / "data" / "fib1-3-3-0.nii.gz", "wb") as f:
        f.write(b"a different volume")
    with pytest.raises(UserError, match=f"data/fib1-3-3-0.nii.gz: checksum mismatch .*expected sha256 {pinned}, got"):
        UroCellAdapter().fetch(raw, base_url=url)
    assert not (raw / "data" / "fib1-3-3-0.nii.gz").exists()


class _ShortBody(SimpleHTTPRequestHandler):
    """Announces more bytes than it sends: a connection that drops mid-file."""

    def do_GET(self) -> None:
        body = b"x" * 1000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + 500))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_truncated_download_is_never_pinned_nor_used(tmp_path, serve):
    url = serve(tmp_path, _ShortBody)
    raw = tmp_path / "raw"
    with pytest.raises(UserError, match=r"incomplete download \(1000 of 1500 bytes\)"):
        fetch_sources(card(SourceFile("a.bin", f"{url}/a.bin", None)), raw)
    assert not (raw / "a.bin").exists() and not (raw / PINNED).exists()


def test_truncated_gzip_is_never_pinned(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    whole = gzip.compress(b"volume bytes " * 1000)
    (mirror / "v.nii.gz").write_bytes(whole[: len(whole) // 2])
    raw = tmp_path / "raw"
    with pytest.raises(UserError, match=r"v\.nii\.gz: not a complete gzip file"):
        fetch_sources(card(SourceFile("v.nii.gz", "http://unused", None)), raw, mirror)
    assert not (raw / "v.nii.gz").exists() and not (raw / PINNED).exists()


def test_unreachable_server_is_one_line_error(tmp_path):
    with pytest.raises(UserError, match="download failed") as info:
        fetch_sources(card(SourceFile("a.bin", "http://127.0.0.1:9/a.bin", "0" * 64)), tmp_path / "raw")
    assert "\n" not in str(info.value)


def test_stale_unverified_file_is_replaced(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(b"good")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.bin").write_bytes(b"stale")
    fetch_sources(card(SourceFile("a.bin", "http://unused", sha256_of(mirror / "a.bin"))), raw, mirror)
    assert (raw / "a.bin").read_bytes() == b"good"
    # A stale file whose re-fetch fails is removed, not left for prepare to read.
    (raw / "a.bin").write_bytes(b"stale")
    (mirror / "a.bin").write_bytes(b"corrupted in the mirror too")
    with pytest.raises(UserError, match="checksum mismatch"):
        fetch_sources(card(SourceFile("a.bin", "http://unused", sha256_of(raw / "a.bin")[::-1])), raw, mirror)
    assert not (raw / "a.bin").exists()


def test_cli_corrupted_mirror_fails_and_leaves_no_prepared_data(workdir, upstream, capsys):
    rel = "lyso/binary/fib1-0-0-0.nii.gz"
    (upstream / rel).write_bytes(b"corrupted")
    assert main(["datasets", "fetch", "urocell", "--mirror", str(upstream)]) == 2
    err = capsys.readouterr().err
    assert rel in err and urocell.LABEL_SHA256[rel] in err and sha256_of(upstream / rel) in err
    assert main(["datasets", "prepare", "urocell"]) == 2
    assert "missing" in capsys.readouterr().err
    assert not (workdir / "data" / "prepared" / "urocell").exists()


def test_cli_fetch_source_url_and_upstream(workdir, upstream, serve, capsys):
    assert main(["datasets", "fetch", "urocell", "--source", serve(upstream)]) == 0
    assert (workdir / "data" / "raw" / "urocell" / PINNED).exists()
    assert main(["datasets", "fetch", "synthetic-2d", "--source", "upstream"]) == 0
    assert (workdir / "data" / "raw" / "synthetic-2d").is_dir()
    assert main(["datasets", "fetch", "urocell", "--source", str(workdir / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_fetch_on_a_full_disk_is_one_line_and_leaves_nothing(small_disk, upstream, monkeypatch, capsys):
    monkeypatch.setenv("SEGREPRO_DATA_DIR", str(small_disk / "data"))
    fill(small_disk)
    assert main(["datasets", "fetch", "urocell", "--mirror", str(upstream)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]
    assert err.startswith(f"segrepro: error: {small_disk / 'data' / 'raw' / 'urocell' / 'data'}: no space left")
    assert only_filler_left(small_disk)  # no .part file, no empty folder


@pytest.mark.parametrize("name", ["urocell", "drosophila-vnc", "c-merolae", "ctc"])
def test_fetch_from_a_folder_in_another_layout_leaves_no_folders(workdir, name, capsys):
    assert main(["datasets", "fetch", name, "--mirror", "/etc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]
    assert err.startswith("segrepro: error: /etc")
    assert not (workdir / "data").exists()
